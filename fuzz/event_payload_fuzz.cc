// What `sherpa resume` and the dashboard read back from study.db: the JSON of
// events.payload (and, through "parameters" and "context", of the value
// columns of the trials and observations tables). A damaged or foreign file
// must give an error, never a crash; and whatever decodes must be written
// back by the store as text that decodes to the same event.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "json/value_json.h"
#include "storage/event_codec.h"

namespace {

using sherpa::Status;
using sherpa::fuzz::Check;
using sherpa::json::Json;
using sherpa::storage::EventKind;
using sherpa::storage::StoredEvent;

// As the store's writer does it (study_store.cc).
std::string Encode(const StoredEvent& e) {
  const Json parameters = e.trial ? sherpa::storage::EncodeValues(e.trial->parameters) : Json();
  return sherpa::storage::EncodePayload(e, parameters);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = sherpa::fuzz::AsText(data, size);
  // The kind only matters for writing the status back; take it from the data.
  StoredEvent e;
  e.kind = static_cast<EventKind>(data[0] % 6);
  e.trial_id = 7;
  if (!sherpa::storage::DecodeEventPayload(text.substr(1), e).ok()) return 0;

  const std::string written = Encode(e);
  // The store writes NULL for an empty payload and never decodes it.
  if (written.empty()) return 0;
  StoredEvent again;
  again.kind = e.kind;
  again.trial_id = e.trial_id;
  const Status status = sherpa::storage::DecodeEventPayload(written, again);
  Check(status.ok(), "the store cannot read back what it wrote",
        written + "\n" + status.ToString());
  // Compared as text: NaN, which the payload can hold, is not equal to itself.
  Check(Encode(again) == written, "an event changes when written and read back",
        written + "\n" + Encode(again));
  Check(again.status == e.status && again.job_id == e.job_id && again.reason == e.reason &&
            again.trial.has_value() == e.trial.has_value() &&
            again.observation.has_value() == e.observation.has_value(),
        "an event loses fields when written and read back", written);
  return 0;
}
