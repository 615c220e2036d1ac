// store_schema.hpp — the profile database's tables, its schema version and the
// header row (docs/client-store.md, "File format").
//
// Logical tables and their SQL shape (every value column is sealed; no column
// holds plaintext, a key or an account id):
//   header            the one key-header row (KDF parameters, wrapped store key)
//   identity, transport_key, signed_prekeys, one_time_prekeys, sessions,
//   settings, counters
//                     (row_key, nonce, sealed)           row_key = keyed hash
//   contacts          (row_key, id_key, nonce, sealed)   name hash, account-id hash
//   messages          (seq, conv_key, nonce, sealed)     conv_key = hash of the peer id
//   seen_envelopes    (position, row_key, nonce, sealed) row_key = hash of the envelope
//
// Migrations run in one IMMEDIATE transaction and set PRAGMA user_version last,
// so a crash leaves either the old schema or the new one. What fails: a file of
// a newer schema (kSchemaTooNew), a file that is not a Sotto profile
// (kNoProfile), a header row that is missing or of the wrong SQL types (kTampered
// "header").
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "client/store_crypto.hpp"
#include "client/store_error.hpp"
#include "client/store_sqlite.hpp"

namespace sotto::client {

inline constexpr std::int64_t kSchemaVersion = 1;

// The sealed tables; their names are part of every record's AD and seal key label.
enum class Table : std::uint8_t {
  kIdentity,
  kTransportKey,
  kSignedPrekeys,
  kOneTimePrekeys,
  kSessions,
  kContacts,
  kMessages,
  kSeenEnvelopes,
  kSettings,
  kCounters,
};
inline constexpr std::size_t kTableCount = 10;
std::string_view table_name(Table t);

// The extra lookup index of contacts by account id ("contacts/by_id").
inline constexpr std::string_view kContactsByIdIndex = "contacts/by_id";

// Creates every table of the current schema (inside the caller's transaction).
StoreResult<void> create_schema(sqlite::Db& db);

// Brings an older schema to kSchemaVersion inside one transaction (none exist
// yet: version 1 is the first). Refuses a newer schema.
StoreResult<void> migrate_schema(sqlite::Db& db, std::int64_t found_version);

StoreResult<KeyHeader> read_header(sqlite::Db& db);
// Inserts or replaces the header row (inside the caller's transaction).
StoreResult<void> write_header(sqlite::Db& db, const KeyHeader& h);

}  // namespace sotto::client
