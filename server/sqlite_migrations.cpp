// sqlite_migrations.cpp — the schema migrations and the code that applies them.
//
// Schema v1 (every column the relay stores; docs/operator.md, "Storage", mirrors this):
//   accounts          identity_key, device_id, transport_key, transport_key_signature,
//                     signed_prekey_id, signed_prekey, created_day, last_seen_day
//   one_time_prekeys  position (upload order), account, prekey_id, prekey
//   mailboxes         account, next_seq, queued_messages, queued_bytes
//   messages          recipient, seq, arrival_bucket, ciphertext
// Schema v2: the insert trigger also keeps next_seq above every stored sequence.
// mailboxes' counters are kept by triggers on messages, so a quota check is one row
// read and can never drift from the messages actually held.
#include "server/sqlite_migrations.hpp"

#include <string>

namespace sotto::relay::sqlite {
namespace {

struct Migration {
  std::int64_t version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE accounts (
  identity_key            BLOB    NOT NULL PRIMARY KEY CHECK (length(identity_key) = 32),
  device_id               INTEGER NOT NULL CHECK (device_id BETWEEN 0 AND 4294967295),
  transport_key           BLOB    NOT NULL CHECK (length(transport_key) = 32),
  transport_key_signature BLOB    NOT NULL CHECK (length(transport_key_signature) = 64),
  signed_prekey_id        INTEGER NOT NULL CHECK (signed_prekey_id BETWEEN 0 AND 4294967295),
  signed_prekey           BLOB    NOT NULL,
  created_day             INTEGER NOT NULL,
  last_seen_day           INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE one_time_prekeys (
  position  INTEGER PRIMARY KEY,
  account   BLOB    NOT NULL REFERENCES accounts (identity_key) ON DELETE CASCADE,
  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),
  prekey    BLOB    NOT NULL,
  UNIQUE (account, prekey_id)
);
CREATE INDEX one_time_prekeys_by_account ON one_time_prekeys (account, position);

CREATE TABLE mailboxes (
  account         BLOB    NOT NULL PRIMARY KEY
                          REFERENCES accounts (identity_key) ON DELETE CASCADE,
  next_seq        INTEGER NOT NULL CHECK (next_seq >= 1),
  queued_messages INTEGER NOT NULL CHECK (queued_messages >= 0),
  queued_bytes    INTEGER NOT NULL CHECK (queued_bytes >= 0)
) WITHOUT ROWID;

CREATE TABLE messages (
  recipient      BLOB    NOT NULL REFERENCES mailboxes (account) ON DELETE CASCADE,
  seq            INTEGER NOT NULL,
  arrival_bucket INTEGER NOT NULL,
  ciphertext     BLOB    NOT NULL,
  UNIQUE (recipient, seq)
);
CREATE INDEX messages_by_arrival ON messages (arrival_bucket);

CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
  UPDATE mailboxes
     SET queued_messages = queued_messages + 1,
         queued_bytes = queued_bytes + length(NEW.ciphertext)
   WHERE account = NEW.recipient;
END;
CREATE TRIGGER messages_counted_out AFTER DELETE ON messages BEGIN
  UPDATE mailboxes
     SET queued_messages = queued_messages - 1,
         queued_bytes = queued_bytes - length(OLD.ciphertext)
   WHERE account = OLD.recipient;
END;
)sql"},
    // v2: a stored envelope's sequence is covered by the mailbox counter in the same
    // statement that counts it (one mailbox update per send instead of two), because
    // the relay now hands sequences out in memory from ranges reserved on disk
    // (sqlite_store.hpp, "Sequences"): whatever is stored, next_seq stays above it.
    {2, R"sql(
DROP TRIGGER messages_counted_in;
CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
  UPDATE mailboxes
     SET queued_messages = queued_messages + 1,
         queued_bytes = queued_bytes + length(NEW.ciphertext),
         next_seq = max(next_seq, NEW.seq + 1)
   WHERE account = NEW.recipient;
END;
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration per schema version");

StoreOpenError open_error(StoreError code, std::string what, Connection& conn) {
  return StoreOpenError{code, what + ": " + conn.last_error_message()};
}

}  // namespace

Result<std::int64_t, StoreOpenError> migrate(Connection& conn) {
  // Cheap check before taking the write lock: refuse a newer file without touching it.
  auto peek = conn.query_int("PRAGMA user_version");
  if (!peek) return fail(open_error(peek.error(), "cannot read the schema version", conn));
  auto too_new = [](std::int64_t v) {
    return StoreOpenError{StoreError::kSchemaTooNew,
                          "database schema version " + std::to_string(v) +
                              " is newer than this relay understands (" +
                              std::to_string(kSchemaVersion) + "): upgrade sotto-relay"};
  };
  if (*peek > kSchemaVersion) return fail(too_new(*peek));
  if (*peek < 0) {
    return fail(StoreOpenError{StoreError::kCorrupt, "negative schema version in the header"});
  }
  if (*peek == kSchemaVersion) return *peek;

  if (auto r = conn.exec("BEGIN IMMEDIATE"); !r) {
    return fail(open_error(r.error(), "cannot start the migration transaction", conn));
  }
  auto abandon = [&conn](StoreOpenError e) {
    if (conn.in_transaction()) (void)conn.exec("ROLLBACK");  // the error reported is `e`
    return e;
  };
  // Read again under the lock: another process may have migrated meanwhile.
  auto found = conn.query_int("PRAGMA user_version");
  if (!found)
    return fail(abandon(open_error(found.error(), "cannot read the schema version", conn)));
  if (*found > kSchemaVersion) return fail(abandon(too_new(*found)));
  for (const Migration& m : kMigrations) {
    if (m.version <= *found) continue;
    if (auto r = conn.exec(m.sql); !r) {
      return fail(abandon(
          open_error(r.error(), "migration to schema version " + std::to_string(m.version), conn)));
    }
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
  if (auto r = conn.exec(set_version.c_str()); !r) {
    return fail(abandon(open_error(r.error(), "cannot record the schema version", conn)));
  }
  if (auto r = conn.exec("COMMIT"); !r) {
    return fail(abandon(open_error(r.error(), "cannot commit the migration", conn)));
  }
  return *found;
}

}  // namespace sotto::relay::sqlite
