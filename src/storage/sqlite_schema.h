// The SQL layout of `study.db`, kept apart from the store's threading so the
// schema and its version are read in one place.
#ifndef SHERPA_STORAGE_SQLITE_SCHEMA_H_
#define SHERPA_STORAGE_SQLITE_SCHEMA_H_

#include <cstdint>

namespace sherpa::storage {

// PRAGMA user_version. Bump it with every incompatible change and teach Open
// to migrate older files; a file with a higher version was written by a newer
// sherpa and is refused rather than misread.
inline constexpr int kSchemaVersion = 1;

// PRAGMA application_id ("SHRP"), so that Open can tell a study database from
// some other SQLite file a user pointed it at.
inline constexpr int32_t kApplicationId = 0x53485250;

// Creates every table and index of version kSchemaVersion. Run inside the
// transaction that also sets user_version and application_id.
extern const char* const kCreateSchemaSql;

}  // namespace sherpa::storage

#endif  // SHERPA_STORAGE_SQLITE_SCHEMA_H_
