// store_schema.cpp — schema v1 of the profile database and its header row
// (see store_schema.hpp).
#include "client/store_schema.hpp"

#include <string>

namespace sotto::client {
namespace {

constexpr char kHeaderTable[] = "header";

// Schema version 1. Keyed tables are WITHOUT ROWID so rows are ordered by their
// keyed hash, which says nothing about insertion order.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE header (
  id               INTEGER PRIMARY KEY CHECK (id = 1),
  format           INTEGER NOT NULL,
  kdf_algorithm    INTEGER NOT NULL,
  opslimit         INTEGER NOT NULL,
  memlimit         INTEGER NOT NULL,
  salt             BLOB    NOT NULL,
  passphrase_check BLOB    NOT NULL,
  wrap_nonce       BLOB    NOT NULL,
  wrapped_key      BLOB    NOT NULL,
  digest           BLOB    NOT NULL
);
CREATE TABLE identity (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE transport_key (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE signed_prekeys (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE one_time_prekeys (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE settings (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE counters (
  row_key BLOB NOT NULL PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE contacts (
  row_key BLOB NOT NULL PRIMARY KEY,
  id_key  BLOB NOT NULL UNIQUE,
  nonce   BLOB NOT NULL,
  sealed  BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  conv_key BLOB NOT NULL,
  nonce    BLOB NOT NULL,
  sealed   BLOB NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conv_key, seq);
CREATE TABLE seen_envelopes (
  position INTEGER PRIMARY KEY,
  row_key  BLOB NOT NULL UNIQUE,
  nonce    BLOB NOT NULL,
  sealed   BLOB NOT NULL
);
)sql";

std::uint64_t as_u64(std::int64_t v) {
  return v < 0 ? ~std::uint64_t{0} : static_cast<std::uint64_t>(v);
}
std::uint32_t as_u32(std::int64_t v) {
  return v < 0 || v > 0xffffffffLL ? 0xffffffffu : static_cast<std::uint32_t>(v);
}

}  // namespace

std::string_view table_name(Table t) {
  static constexpr std::array<std::string_view, kTableCount> kNames = {
      "identity", "transport_key", "signed_prekeys", "one_time_prekeys", "sessions",
      "contacts", "messages",      "seen_envelopes", "settings",         "counters",
  };
  return kNames[static_cast<std::size_t>(t)];
}

StoreResult<void> create_schema(sqlite::Db& db) {
  return db.exec(kSchemaV1, "schema");
}

StoreResult<void> migrate_schema(sqlite::Db& db, std::int64_t found_version) {
  if (found_version > kSchemaVersion) {
    return store_fail(StoreError::kSchemaTooNew, {},
                      "schema version " + std::to_string(found_version) + ", this sotto knows " +
                          std::to_string(kSchemaVersion));
  }
  if (found_version == kSchemaVersion) return {};
  // Version 1 is the first schema: there is nothing older to migrate from. A
  // future step goes here, run inside BEGIN IMMEDIATE with user_version set last.
  (void)db;
  return store_fail(StoreError::kNoProfile, {}, "not a Sotto profile (no schema)");
}

StoreResult<KeyHeader> read_header(sqlite::Db& db) {
  SOTTO_TRY(sqlite::Statement stmt,
            db.prepare("SELECT format, kdf_algorithm, opslimit, memlimit, salt, passphrase_check, "
                       "wrap_nonce, wrapped_key, digest FROM header WHERE id = 1",
                       kHeaderTable));
  SOTTO_TRY(bool row, stmt.step());
  if (!row) return tampered(kHeaderTable, "no header row");
  auto format = stmt.column_int(0);
  auto alg = stmt.column_int(1);
  auto ops = stmt.column_int(2);
  auto mem = stmt.column_int(3);
  auto salt = stmt.column_blob(4);
  auto check = stmt.column_blob(5);
  auto nonce = stmt.column_blob(6);
  auto wrapped = stmt.column_blob(7);
  auto digest = stmt.column_blob(8);
  if (!format || !alg || !ops || !mem || !salt || !check || !nonce || !wrapped || !digest) {
    return tampered(kHeaderTable, "a column of the wrong type");
  }
  KeyHeader h;
  h.format = as_u32(*format);
  h.kdf_algorithm = as_u32(*alg);
  h.kdf.opslimit = as_u64(*ops);
  h.kdf.memlimit = as_u64(*mem);
  h.salt = std::move(*salt);
  h.passphrase_check = std::move(*check);
  h.wrap_nonce = std::move(*nonce);
  h.wrapped_key = std::move(*wrapped);
  h.digest = std::move(*digest);
  SOTTO_TRY(bool second, stmt.step());
  if (second) return tampered(kHeaderTable, "more than one header row");
  return h;
}

StoreResult<void> write_header(sqlite::Db& db, const KeyHeader& h) {
  SOTTO_TRY(sqlite::Statement stmt,
            db.prepare("INSERT OR REPLACE INTO header (id, format, kdf_algorithm, opslimit, "
                       "memlimit, salt, passphrase_check, wrap_nonce, wrapped_key, digest) "
                       "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                       kHeaderTable));
  SOTTO_TRY_VOID(stmt.bind(1, std::int64_t{h.format}));
  SOTTO_TRY_VOID(stmt.bind(2, std::int64_t{h.kdf_algorithm}));
  SOTTO_TRY_VOID(stmt.bind(3, static_cast<std::int64_t>(h.kdf.opslimit)));
  SOTTO_TRY_VOID(stmt.bind(4, static_cast<std::int64_t>(h.kdf.memlimit)));
  SOTTO_TRY_VOID(stmt.bind(5, ByteView(h.salt)));
  SOTTO_TRY_VOID(stmt.bind(6, ByteView(h.passphrase_check)));
  SOTTO_TRY_VOID(stmt.bind(7, ByteView(h.wrap_nonce)));
  SOTTO_TRY_VOID(stmt.bind(8, ByteView(h.wrapped_key)));
  SOTTO_TRY_VOID(stmt.bind(9, ByteView(h.digest)));
  return stmt.run();
}

}  // namespace sotto::client
