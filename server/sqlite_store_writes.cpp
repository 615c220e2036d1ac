// sqlite_store_writes.cpp — SqliteStore's writes: each one a body run by the group-commit
// writer inside the batch transaction (group_commit.hpp), answered after COMMIT.
//
// A body is a pure function of the database and its captured inputs: the writer may
// run it again in a fresh transaction if SQLite rolled back the batch under it. It
// validates before it changes anything; on any error its changes are rolled back to
// its savepoint by the writer. Because one thread runs every body, a read-then-write
// inside a body (quota check then insert; oldest prekey then delete) is atomic.
#include <algorithm>
#include <optional>
#include <type_traits>
#include <unordered_set>

#include <limits>

#include "server/sqlite_store.hpp"

namespace sotto::relay {
namespace {

using sqlite::Connection;
using sqlite::Statement;

bool valid_prekey_encoding(const Bytes& b) {
  return !b.empty() && b.size() <= kMaxPrekeyEncodingBytes;
}

StoreResult<bool> account_exists(Connection& c, const AccountId& id) {
  SOTTO_TRY(Statement s, c.prepare("SELECT 1 FROM accounts WHERE identity_key = ?1"));
  SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
  return s.step();
}

}  // namespace

template <class T, class Body>
void SqliteStore::submit(Completion<T> done, Body body) {
  if constexpr (std::is_void_v<T>) {
    writer_->submit([body = std::move(body)](Connection& c) { return body(c); },
                    [done = std::move(done)](StoreResult<void> r) { done(std::move(r)); });
  } else {
    // The body's value waits in `slot` until the batch's COMMIT decides its fate.
    auto slot = std::make_shared<std::optional<T>>();
    writer_->submit(
        [slot, body = std::move(body)](Connection& c) -> StoreResult<void> {
          slot->reset();
          auto r = body(c);
          if (!r) return fail(r.error());
          slot->emplace(std::move(r).value());
          return {};
        },
        [slot, done = std::move(done)](StoreResult<void> r) {
          if (!r) {
            done(fail(r.error()));
            return;
          }
          done(std::move(**slot));
        });
  }
}

// ---- accounts ----

void SqliteStore::register_account(AccountKeys keys, UnixDay today, Completion<void> done) {
  if (!valid_prekey_encoding(keys.signed_prekey.encoded)) {
    done(fail(StoreError::kInvalidArgument));
    return;
  }
  submit<void>(std::move(done),
               [keys = std::move(keys), today](Connection& c) -> StoreResult<void> {
                 SOTTO_TRY(bool exists, account_exists(c, keys.identity_key));
                 if (exists) return fail(StoreError::kAlreadyExists);
                 {
                   SOTTO_TRY(Statement s,
                             c.prepare("INSERT INTO accounts (identity_key, transport_key, "
                                       "transport_key_signature, signed_prekey_id, signed_prekey, "
                                       "created_day, last_seen_day, device_id) "
                                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)"));
                   SOTTO_TRY_VOID(s.bind(1, ByteView(keys.identity_key)));
                   SOTTO_TRY_VOID(s.bind(2, ByteView(keys.transport_key)));
                   SOTTO_TRY_VOID(s.bind(3, ByteView(keys.transport_signature)));
                   SOTTO_TRY_VOID(s.bind_u64(4, keys.signed_prekey.id));
                   SOTTO_TRY_VOID(s.bind(5, ByteView(keys.signed_prekey.encoded)));
                   SOTTO_TRY_VOID(s.bind_u64(6, today));
                   SOTTO_TRY_VOID(s.bind_u64(7, keys.device_id));
                   SOTTO_TRY_VOID(s.run());
                 }
                 // The account's (empty) mailbox: sequences start at 1.
                 SOTTO_TRY(Statement s,
                           c.prepare("INSERT INTO mailboxes (account, next_seq, queued_messages, "
                                     "queued_bytes) VALUES (?1, 1, 0, 0)"));
                 SOTTO_TRY_VOID(s.bind(1, ByteView(keys.identity_key)));
                 return s.run();
               });
}

void SqliteStore::replace_keys(AccountKeys keys, bool clear_one_time_prekeys,
                               Completion<void> done) {
  if (!valid_prekey_encoding(keys.signed_prekey.encoded)) {
    done(fail(StoreError::kInvalidArgument));
    return;
  }
  submit<void>(
      std::move(done),
      [keys = std::move(keys), clear_one_time_prekeys](Connection& c) -> StoreResult<void> {
        {
          SOTTO_TRY(Statement s, c.prepare("UPDATE accounts SET transport_key = ?2, "
                                           "transport_key_signature = ?3, signed_prekey_id = ?4, "
                                           "signed_prekey = ?5, device_id = ?6 "
                                           "WHERE identity_key = ?1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(keys.identity_key)));
          SOTTO_TRY_VOID(s.bind(2, ByteView(keys.transport_key)));
          SOTTO_TRY_VOID(s.bind(3, ByteView(keys.transport_signature)));
          SOTTO_TRY_VOID(s.bind_u64(4, keys.signed_prekey.id));
          SOTTO_TRY_VOID(s.bind(5, ByteView(keys.signed_prekey.encoded)));
          SOTTO_TRY_VOID(s.bind_u64(6, keys.device_id));
          SOTTO_TRY_VOID(s.run());
          if (c.changes() == 0) return fail(StoreError::kNotFound);
        }
        if (!clear_one_time_prekeys) return {};
        SOTTO_TRY(Statement s, c.prepare("DELETE FROM one_time_prekeys WHERE account = ?1"));
        SOTTO_TRY_VOID(s.bind(1, ByteView(keys.identity_key)));
        return s.run();
      });
}

void SqliteStore::delete_account(AccountId id, Completion<void> done) {
  submit<void>(std::move(done), [id](Connection& c) -> StoreResult<void> {
    // ON DELETE CASCADE removes its one-time prekeys, its mailbox and every queued
    // message; secure_delete overwrites their pages.
    SOTTO_TRY(Statement s, c.prepare("DELETE FROM accounts WHERE identity_key = ?1"));
    SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
    SOTTO_TRY_VOID(s.run());
    if (c.changes() == 0) return fail(StoreError::kNotFound);
    return {};
  });
}

void SqliteStore::touch_account(AccountId id, UnixDay today, Completion<void> done) {
  submit<void>(std::move(done), [id, today](Connection& c) -> StoreResult<void> {
    SOTTO_TRY(Statement s, c.prepare("UPDATE accounts SET last_seen_day = max(last_seen_day, ?2) "
                                     "WHERE identity_key = ?1"));
    SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
    SOTTO_TRY_VOID(s.bind_u64(2, today));
    SOTTO_TRY_VOID(s.run());
    if (c.changes() == 0) return fail(StoreError::kNotFound);
    return {};
  });
}

// ---- prekeys ----

void SqliteStore::add_one_time_prekeys(AccountId id, std::vector<OneTimePrekeyRecord> prekeys,
                                       Completion<std::uint64_t> done) {
  std::unordered_set<std::uint32_t> ids;
  for (const auto& p : prekeys) {
    if (!valid_prekey_encoding(p.encoded) || !ids.insert(p.id).second) {
      done(fail(StoreError::kInvalidArgument));  // bad encoding, or an id twice in one upload
      return;
    }
  }
  const std::uint64_t cap = options_.limits.max_one_time_prekeys;
  submit<std::uint64_t>(
      std::move(done),
      [id, prekeys = std::move(prekeys), cap](Connection& c) -> StoreResult<std::uint64_t> {
        std::uint64_t held = 0;
        {
          SOTTO_TRY(Statement s,
                    c.prepare("SELECT (SELECT count(*) FROM one_time_prekeys WHERE account = ?1) "
                              "FROM accounts WHERE identity_key = ?1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
          SOTTO_TRY(bool row, s.step());
          if (!row) return fail(StoreError::kNotFound);
          SOTTO_TRY(held, s.column_u64(0));
        }
        if (held + prekeys.size() > cap) return fail(StoreError::kQuotaExceeded);
        for (const auto& p : prekeys) {
          {
            SOTTO_TRY(Statement s, c.prepare("SELECT 1 FROM one_time_prekeys "
                                             "WHERE account = ?1 AND prekey_id = ?2"));
            SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
            SOTTO_TRY_VOID(s.bind_u64(2, p.id));
            SOTTO_TRY(bool dup, s.step());
            if (dup) return fail(StoreError::kAlreadyExists);
          }
          // position (the rowid) grows with each insert: upload order, oldest first.
          SOTTO_TRY(Statement s,
                    c.prepare("INSERT INTO one_time_prekeys (account, prekey_id, prekey) "
                              "VALUES (?1, ?2, ?3)"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
          SOTTO_TRY_VOID(s.bind_u64(2, p.id));
          SOTTO_TRY_VOID(s.bind(3, ByteView(p.encoded)));
          SOTTO_TRY_VOID(s.run());
        }
        return held + prekeys.size();
      });
}

void SqliteStore::consume_one_time_prekey(AccountId id,
                                          Completion<std::optional<OneTimePrekeyRecord>> done) {
  submit<std::optional<OneTimePrekeyRecord>>(
      std::move(done), [id](Connection& c) -> StoreResult<std::optional<OneTimePrekeyRecord>> {
        SOTTO_TRY(bool exists, account_exists(c, id));
        if (!exists) return fail(StoreError::kNotFound);
        // Take the oldest and delete it in the same transaction: it is handed out at
        // most once, and only after its deletion is durable.
        std::int64_t position = 0;
        OneTimePrekeyRecord taken;
        {
          SOTTO_TRY(Statement s, c.prepare("SELECT position, prekey_id, prekey FROM "
                                           "one_time_prekeys WHERE account = ?1 "
                                           "ORDER BY position LIMIT 1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
          SOTTO_TRY(bool row, s.step());
          if (!row) return std::optional<OneTimePrekeyRecord>();  // none left: signed prekey
          position = s.column_int(0);
          SOTTO_TRY(std::uint64_t pid, s.column_u64(1));
          if (pid > 0xffffffffu) return fail(StoreError::kCorrupt);
          taken.id = static_cast<std::uint32_t>(pid);
          taken.encoded = s.column_blob(2);
        }
        SOTTO_TRY(Statement s, c.prepare("DELETE FROM one_time_prekeys WHERE position = ?1"));
        SOTTO_TRY_VOID(s.bind(1, position));
        SOTTO_TRY_VOID(s.run());
        if (c.changes() != 1) return fail(StoreError::kInternal);
        return std::optional<OneTimePrekeyRecord>(std::move(taken));
      });
}

void SqliteStore::rotate_signed_prekey(AccountId id, SignedPrekeyRecord prekey,
                                       Completion<void> done) {
  if (!valid_prekey_encoding(prekey.encoded)) {
    done(fail(StoreError::kInvalidArgument));
    return;
  }
  submit<void>(
      std::move(done), [id, prekey = std::move(prekey)](Connection& c) -> StoreResult<void> {
        SOTTO_TRY(Statement s,
                  c.prepare("UPDATE accounts SET signed_prekey_id = ?2, signed_prekey = ?3 "
                            "WHERE identity_key = ?1"));
        SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
        SOTTO_TRY_VOID(s.bind_u64(2, prekey.id));
        SOTTO_TRY_VOID(s.bind(3, ByteView(prekey.encoded)));
        SOTTO_TRY_VOID(s.run());
        if (c.changes() == 0) return fail(StoreError::kNotFound);
        return {};
      });
}

// ---- mailbox ----

void SqliteStore::enqueue(AccountId recipient, Bytes ciphertext, ArrivalBucket arrival,
                          Completion<Sequence> done) {
  const StoreLimits& lim = options_.limits;
  if (ciphertext.empty()) {
    done(fail(StoreError::kInvalidArgument));
    return;
  }
  if (ciphertext.size() > lim.mailbox_max_bytes) {
    done(fail(StoreError::kQuotaExceeded));  // could never fit, even in an empty mailbox
    return;
  }
  const std::uint64_t max_messages = lim.mailbox_max_messages;
  const std::uint64_t max_bytes = lim.mailbox_max_bytes;
  submit<Sequence>(
      std::move(done),
      [recipient, ciphertext = std::move(ciphertext), arrival, max_messages,
       max_bytes](Connection& c) -> StoreResult<Sequence> {
        Sequence seq = 0;
        {
          SOTTO_TRY(Statement s, c.prepare("SELECT next_seq, queued_messages, queued_bytes "
                                           "FROM mailboxes WHERE account = ?1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY(bool row, s.step());
          if (!row) return fail(StoreError::kNotFound);
          SOTTO_TRY(seq, s.column_u64(0));
          SOTTO_TRY(std::uint64_t queued, s.column_u64(1));
          SOTTO_TRY(std::uint64_t bytes, s.column_u64(2));
          // Quota: in messages and in bytes, checked against counters the triggers keep.
          if (queued + 1 > max_messages || bytes + ciphertext.size() > max_bytes) {
            return fail(StoreError::kQuotaExceeded);
          }
        }
        {
          SOTTO_TRY(Statement s, c.prepare("INSERT INTO messages (recipient, seq, arrival_bucket, "
                                           "ciphertext) VALUES (?1, ?2, ?3, ?4)"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY_VOID(s.bind_u64(2, seq));
          SOTTO_TRY_VOID(s.bind_u64(3, arrival));
          SOTTO_TRY_VOID(s.bind(4, ByteView(ciphertext)));
          SOTTO_TRY_VOID(s.run());
        }
        SOTTO_TRY(Statement s,
                  c.prepare("UPDATE mailboxes SET next_seq = next_seq + 1 WHERE account = ?1"));
        SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
        SOTTO_TRY_VOID(s.run());
        return seq;
      });
}

void SqliteStore::ack(AccountId recipient, std::vector<Sequence> seqs,
                      Completion<AckOutcome> done) {
  submit<AckOutcome>(
      std::move(done),
      [recipient, seqs = std::move(seqs)](Connection& c) -> StoreResult<AckOutcome> {
        {
          SOTTO_TRY(Statement s, c.prepare("SELECT 1 FROM mailboxes WHERE account = ?1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY(bool row, s.step());
          if (!row) return fail(StoreError::kNotFound);
        }
        // Only the recipient's own mailbox: the recipient is part of every delete.
        AckOutcome out;
        for (Sequence seq : seqs) {
          // Above INT64_MAX no sequence is ever stored (SQLite integers): unknown,
          // like any other never-used sequence (protocol 7.8: still OK).
          if (seq > static_cast<Sequence>(std::numeric_limits<std::int64_t>::max())) {
            ++out.unknown;
            continue;
          }
          SOTTO_TRY(Statement s,
                    c.prepare("DELETE FROM messages WHERE recipient = ?1 AND seq = ?2"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY_VOID(s.bind_u64(2, seq));
          SOTTO_TRY_VOID(s.run());
          if (c.changes() > 0) {
            ++out.deleted;
          } else {
            ++out.unknown;
          }
        }
        return out;
      });
}

void SqliteStore::purge_expired(std::uint64_t now_unix, Completion<PurgeOutcome> done) {
  const std::uint64_t retention = options_.limits.retention_seconds;
  const std::uint64_t batch = std::max<std::uint64_t>(options_.limits.purge_batch_messages, 1);
  // Bucket b covers [b*3600, (b+1)*3600): it expires once (b+1)*3600 + retention <= now,
  // i.e. b < (now - retention) / 3600.
  const std::uint64_t cutoff =
      now_unix > retention ? (now_unix - retention) / kArrivalBucketSeconds : 0;
  submit<PurgeOutcome>(
      std::move(done), [cutoff, batch](Connection& c) -> StoreResult<PurgeOutcome> {
        PurgeOutcome out;
        if (cutoff == 0) return out;
        SOTTO_TRY(Statement s, c.prepare("DELETE FROM messages WHERE rowid IN (SELECT rowid FROM "
                                         "messages WHERE arrival_bucket < ?1 "
                                         "ORDER BY arrival_bucket LIMIT ?2) "
                                         "RETURNING length(ciphertext)"));
        SOTTO_TRY_VOID(s.bind_u64(1, cutoff));
        SOTTO_TRY_VOID(s.bind_u64(2, batch));
        for (;;) {
          SOTTO_TRY(bool row, s.step());
          if (!row) break;
          SOTTO_TRY(std::uint64_t len, s.column_u64(0));
          ++out.messages;
          out.bytes += len;
        }
        out.more = out.messages == batch;
        return out;
      });
}

// ---- introspection through the writer ----

StoreResult<std::int64_t> SqliteStore::writer_pragma(const std::string& name) {
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    if (!ok) return fail(StoreError::kInvalidArgument);
  }
  if (name.empty()) return fail(StoreError::kInvalidArgument);
  auto [done, future] = completion_future<std::int64_t>();
  const std::string sql = "PRAGMA " + name;
  submit<std::int64_t>(std::move(done), [sql](Connection& c) { return c.query_int(sql.c_str()); });
  return future.get();
}

}  // namespace sotto::relay
