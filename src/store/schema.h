// The schema of a space database and its forward migrations.
//
// The schema version lives in `PRAGMA user_version`. Opening a database applies every
// migration above its version, each in its own transaction; a database written by a
// newer mnemo (higher version than this build knows) is refused, never modified.
//
// Thread safety: call with the space's writer connection only.
#pragma once

#include "store/sqlite.h"

namespace mnemo::store {

inline constexpr int kSchemaVersion = 7;

// Brings `db` to kSchemaVersion. Returns the version it found (0 for a new database).
Result<int> Migrate(Db& db);
// Brings `db` to `version` (<= kSchemaVersion): tests build databases of older versions.
Result<int> MigrateTo(Db& db, int version);

Result<int> SchemaVersion(Db& db);

}  // namespace mnemo::store
