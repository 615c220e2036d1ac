// sqlite_migrations.hpp — the relay database's versioned schema.
//
// The schema version lives in SQLite's header (`PRAGMA user_version`): 0 is an empty
// file, N means migrations 1..N have been applied. Opening runs every pending
// migration in ONE `BEGIN IMMEDIATE` transaction (all or nothing, and two relays
// opening the same file cannot both migrate it). A file whose version is newer than
// kSchemaVersion was written by a newer relay: it is refused (kSchemaTooNew) and left
// untouched, never downgraded or guessed at.
//
// Adding a migration: append {N+1, "SQL"} to the table in sqlite_migrations.cpp, bump
// kSchemaVersion, and extend the schema test. Never edit a shipped migration.
#pragma once

#include <cstdint>

#include "common/result.hpp"
#include "server/sqlite_db.hpp"
#include "server/store.hpp"

namespace sotto::relay::sqlite {

inline constexpr std::int64_t kSchemaVersion = 2;

// Brings `conn`'s database to kSchemaVersion; answers the version found before.
Result<std::int64_t, StoreOpenError> migrate(Connection& conn);

}  // namespace sotto::relay::sqlite
