// sqlite_store_writes.cpp — SqliteStore's writes: each one a body run by the group-commit
// writer inside the batch transaction (group_commit.hpp), answered after COMMIT.
//
// A body is a pure function of the database and its captured inputs: the writer may
// run it again in a fresh transaction if SQLite rolled back the batch under it. It
// validates before it changes anything; on any error its changes are rolled back to
// its savepoint by the writer. Because one thread runs every body, a read-then-write
// inside a body (prekey count then insert; oldest prekey then delete) is atomic.
//
// Mailbox writes are different: a Send's quota and sequence are settled at admission in
// the MailboxBook (mailbox_book.hpp), so its body is a single INSERT, which an Ack may
// cancel while it is still queued (or held: the insert of an envelope a live connection
// took waits `hold` before it is queued); the book learns of every commit from the
// completions.
#include <algorithm>
#include <map>
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
  const AccountId id = keys.identity_key;
  // Committed: the empty mailbox joins the book (sequences start at 1).
  auto then = [this, id, done = std::move(done)](StoreResult<void> r) {
    if (r) book_.load(id, 1, 0, 0);
    done(std::move(r));
  };
  submit<void>(std::move(then),
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
  // Held inserts go first: one for this account must not commit after the deletion (into
  // a mailbox registered again, whose sequences restart at 1).
  writer_->release_delayed();
  auto then = [this, id, done = std::move(done)](StoreResult<void> r) {
    if (r) book_.forget(id);
    done(std::move(r));
  };
  submit<void>(std::move(then), [id](Connection& c) -> StoreResult<void> {
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
  auto shared = std::make_shared<Completion<Sequence>>(std::move(done));
  auto admitted =
      admit(recipient, std::move(ciphertext), arrival, [shared](StoreResult<Admitted> a) {
        if (!a) return (*shared)(fail(a.error()));
        (*shared)(a->seq);
      });
  if (!admitted) (*shared)(fail(admitted.error()));
}

StoreResult<LiveEnvelope> SqliteStore::admit(AccountId recipient, Bytes ciphertext,
                                             ArrivalBucket arrival, Completion<Admitted> done,
                                             LiveDelivery* live) {
  if (ciphertext.empty()) return fail(StoreError::kInvalidArgument);
  if (ciphertext.size() > options_.limits.mailbox_max_bytes)
    return fail(StoreError::kQuotaExceeded);  // could never fit, even in an empty mailbox
  // Quota and sequence, in memory (the book is the file plus what is queued).
  SOTTO_TRY(auto a, book_.admit(recipient, std::move(ciphertext), arrival, options_.limits,
                                std::move(done)));
  // The reservation goes first: it commits with or before the insert.
  if (a.reserve_to) submit_reservation(recipient, *a.reserve_to);
  std::shared_ptr<PendingEnvelope> e = a.envelope;
  // Early: pushed from memory now (in sequence order: admissions are), before its insert
  // is even queued. If a live connection took it, the recipient's Ack is a round trip
  // away: hold the insert back so that the Ack cancels it (it is then never written).
  const bool taken =
      e->early && live != nullptr && live->admitted(recipient, e->seq, e->ciphertext);
  const bool hold = taken && options_.hold.count() > 0 && !hold_stopped_.load() && try_hold(*e);
  submit_insert(std::move(a.envelope), hold);
  LiveEnvelope out;
  out.seq = e->seq;
  out.early = e->early && e->state.load() != PendingEnvelope::kFailed;
  out.ciphertext = std::shared_ptr<const Bytes>(e, &e->ciphertext);
  return out;
}

bool SqliteStore::try_hold(PendingEnvelope& e) {
  const std::uint64_t size = e.ciphertext.size();
  // One admitting thread adds: a load then an add cannot overshoot (the others subtract).
  if (held_envelopes_.load() + 1 > options_.hold_max_envelopes ||
      held_bytes_.load() + size > options_.hold_max_bytes)
    return false;  // memory bound reached: this one is queued at once
  held_envelopes_.fetch_add(1);
  held_bytes_.fetch_add(size);
  e.held_bytes = size;  // not the ciphertext's size later: a cancellation frees it
  e.held.store(true);
  held_total_.fetch_add(1);
  return true;
}

bool SqliteStore::unheld(PendingEnvelope& e) {
  if (!e.unhold()) return false;
  held_envelopes_.fetch_sub(1);
  held_bytes_.fetch_sub(e.held_bytes);
  return true;
}

void SqliteStore::release_held() {
  hold_stopped_.store(true);  // shutting down: nothing more is held
  writer_->release_delayed();
}

void SqliteStore::submit_reservation(const AccountId& id, Sequence reserve_to) {
  writer_->submit(
      [id, reserve_to](Connection& c) -> StoreResult<void> {
        // Never lowers the counter: reservations may commit in any batch order.
        SOTTO_TRY(Statement s, c.prepare("UPDATE mailboxes SET next_seq = max(next_seq, ?2) "
                                         "WHERE account = ?1"));
        SOTTO_TRY_VOID(s.bind(1, ByteView(id)));
        SOTTO_TRY_VOID(s.bind_u64(2, reserve_to));
        return s.run();
      },
      [this, id, reserve_to](StoreResult<void> r) { book_.reserved(id, reserve_to, r.ok()); });
}

void SqliteStore::submit_insert(std::shared_ptr<PendingEnvelope> e, bool hold) {
  PendingEnvelope* raw = e.get();
  auto body = [this, raw](Connection& c) -> StoreResult<void> {
    const bool was_held = unheld(*raw);
    // Acknowledged while queued: nothing to write (the sender has been answered).
    if (!raw->take()) return {};
    // Held, and its hold ended (or was released) before any ack: written after all.
    if (was_held) held_released_.fetch_add(1);
    // One statement: the trigger counts it and keeps next_seq above it. The quota
    // was checked at admission against stored + pending envelopes.
    SOTTO_TRY(Statement s, c.prepare("INSERT INTO messages (recipient, seq, arrival_bucket, "
                                     "ciphertext) VALUES (?1, ?2, ?3, ?4)"));
    SOTTO_TRY_VOID(s.bind(1, ByteView(raw->recipient)));
    SOTTO_TRY_VOID(s.bind_u64(2, raw->seq));
    SOTTO_TRY_VOID(s.bind_u64(3, raw->arrival));
    SOTTO_TRY_VOID(s.bind(4, ByteView(raw->ciphertext)));
    return s.run();
  };
  auto then = [this, e = std::move(e)](StoreResult<void> r) {
    unheld(*e);                      // refused before its body ran (the writer is shut down)
    if (!e->finish(r.ok())) return;  // cancelled: answered by the acknowledgement
    book_.settled(*e, r.ok());
    auto done = std::move(e->done);
    if (!r) return done(fail(r.error()));
    done(Admitted{e->seq, e->early});
  };
  if (hold) {
    // Cancelled by the Ack meanwhile (the usual case): dropped when due, no transaction.
    auto needed = [raw] { return raw->state.load() != PendingEnvelope::kCancelled; };
    writer_->submit_after(std::chrono::steady_clock::now() + options_.hold, std::move(body),
                          std::move(then), std::move(needed));
  } else {
    writer_->submit(std::move(body), std::move(then));
  }
}

void SqliteStore::ack(AccountId recipient, std::vector<Sequence> seqs,
                      Completion<AckOutcome> done) {
  // Short-circuit: early envelopes whose insert is still queued are cancelled, and their
  // senders answered ACCEPTED now — the recipient acknowledges only what it durably
  // processed, so the envelope is safe with it; nothing of it reaches the disk.
  auto cancelled = book_.cancel(recipient, seqs);
  const std::uint64_t n_cancelled = cancelled.size();
  for (auto& e : cancelled) {
    unheld(*e);  // a held insert: it stays in the writer's delayed list as a no-op ...
    auto sender = std::move(e->done);
    sender(Admitted{e->seq, e->early});
    Bytes().swap(e->ciphertext);  // ... without its bytes (nothing reads them any more)
  }
  if (seqs.empty() && n_cancelled > 0) {
    AckOutcome out;
    out.deleted = n_cancelled;
    out.before_commit = n_cancelled;
    done(out);
    return;
  }
  struct Deleted {
    AckOutcome outcome;
    std::uint64_t bytes = 0;
  };
  submit<Deleted>(
      [this, recipient, n_cancelled, done = std::move(done)](StoreResult<Deleted> r) {
        if (!r) return done(fail(r.error()));
        book_.removed(recipient, r->outcome.deleted, r->bytes);
        AckOutcome out = r->outcome;
        out.deleted += n_cancelled;
        out.before_commit = n_cancelled;
        done(out);
      },
      [recipient, seqs = std::move(seqs)](Connection& c) -> StoreResult<Deleted> {
        // Only the recipient's own mailbox: the recipient is part of every delete.
        Deleted out;
        constexpr auto kMaxStored = static_cast<Sequence>(std::numeric_limits<std::int64_t>::max());
        for (std::size_t i = 0; i < seqs.size();) {
          // Above INT64_MAX no sequence is ever stored (SQLite integers): unknown,
          // like any other never-used sequence (protocol 7.8: still OK).
          if (seqs[i] > kMaxStored) {
            ++out.outcome.unknown;
            ++i;
            continue;
          }
          // A run of consecutive sequences (the usual Ack: everything pushed since
          // the last one) is one statement; every sequence in it not deleted is unknown.
          std::size_t j = i + 1;
          while (j < seqs.size() && seqs[j - 1] < kMaxStored && seqs[j] == seqs[j - 1] + 1) ++j;
          SOTTO_TRY(Statement s,
                    c.prepare("DELETE FROM messages WHERE recipient = ?1 AND seq BETWEEN ?2 AND ?3 "
                              "RETURNING length(ciphertext)"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY_VOID(s.bind_u64(2, seqs[i]));
          SOTTO_TRY_VOID(s.bind_u64(3, seqs[j - 1]));
          std::uint64_t deleted = 0;
          for (;;) {
            SOTTO_TRY(bool row, s.step());
            if (!row) break;
            SOTTO_TRY(std::uint64_t len, s.column_u64(0));
            ++deleted;
            out.bytes += len;
          }
          out.outcome.deleted += deleted;
          out.outcome.unknown += (j - i) - deleted;
          i = j;
        }
        if (out.outcome.deleted == 0) {
          // Nothing deleted: an unknown mailbox is kNotFound, a known one answers OK.
          SOTTO_TRY(Statement s, c.prepare("SELECT 1 FROM mailboxes WHERE account = ?1"));
          SOTTO_TRY_VOID(s.bind(1, ByteView(recipient)));
          SOTTO_TRY(bool row, s.step());
          if (!row) return fail(StoreError::kNotFound);
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
  struct Purged {
    PurgeOutcome outcome;
    std::map<AccountId, std::pair<std::uint64_t, std::uint64_t>> per_mailbox;  // messages, bytes
  };
  submit<Purged>(
      [this, done = std::move(done)](StoreResult<Purged> r) {
        if (!r) return done(fail(r.error()));
        for (const auto& [id, removed] : r->per_mailbox)
          book_.removed(id, removed.first, removed.second);
        done(r->outcome);
      },
      [cutoff, batch](Connection& c) -> StoreResult<Purged> {
        Purged out;
        if (cutoff == 0) return out;
        SOTTO_TRY(Statement s, c.prepare("DELETE FROM messages WHERE rowid IN (SELECT rowid FROM "
                                         "messages WHERE arrival_bucket < ?1 "
                                         "ORDER BY arrival_bucket LIMIT ?2) "
                                         "RETURNING recipient, length(ciphertext)"));
        SOTTO_TRY_VOID(s.bind_u64(1, cutoff));
        SOTTO_TRY_VOID(s.bind_u64(2, batch));
        for (;;) {
          SOTTO_TRY(bool row, s.step());
          if (!row) break;
          AccountId id{};
          const Bytes who = s.column_blob(0);
          if (who.size() != id.size()) return fail(StoreError::kCorrupt);
          std::copy(who.begin(), who.end(), id.begin());
          SOTTO_TRY(std::uint64_t len, s.column_u64(1));
          auto& m = out.per_mailbox[id];
          m.first += 1;
          m.second += len;
          ++out.outcome.messages;
          out.outcome.bytes += len;
        }
        out.outcome.more = out.outcome.messages == batch;
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
