// How study_store.cc turns events and values into the JSON text of its
// columns and back. Internal to storage; a header of its own so that the
// read path can be tested and fuzzed (fuzz/event_payload_fuzz.cc) on column
// text without a database.
#ifndef SHERPA_STORAGE_EVENT_CODEC_H_
#define SHERPA_STORAGE_EVENT_CODEC_H_

#include <string>
#include <string_view>

#include "json/value_json.h"
#include "storage/study_store.h"

#include "sherpa/status.h"
#include "sherpa/trial.h"

namespace sherpa::storage {

// Parameter and context values as a JSON mapping. Non-finite doubles, which
// JSON cannot hold, are written as {"float": "nan" | "inf" | "-inf"}.
json::Json EncodeValues(const ParameterValues& values);
StatusOr<ParameterValues> DecodeValues(const json::Json& j, std::string_view path);

// One line of JSON; invalid UTF-8 in strings is replaced, never thrown on.
std::string Dump(const json::Json& j);

// Parses a column's text; errors name the column (`what`).
StatusOr<json::Json> ParseColumn(std::string_view text, std::string_view what);

// The kind-specific fields of an event, as the events.payload JSON
// (`parameters` is EncodeValues of the trial's parameters, which the caller
// has already built for the trials table). "" when no field is set.
std::string EncodePayload(const StoredEvent& e, const json::Json& parameters);
// Sets the fields of `e` that `p` holds; `e.trial_id` must be set first.
Status DecodePayload(const json::Json& p, StoredEvent& e);

// The whole read path of events.payload: ParseColumn, then DecodePayload.
Status DecodeEventPayload(std::string_view text, StoredEvent& e);

}  // namespace sherpa::storage

#endif  // SHERPA_STORAGE_EVENT_CODEC_H_
