// sqlite_store.hpp — SqliteStore: the embedded RelayStore backend on one SQLite file.
//
// Connections:
//  - one write connection, owned by the GroupCommitWriter's thread: every write is a
//    body run inside a group-commit transaction (group_commit.hpp);
//  - a small pool of read connections (WAL readers): reads never wait for the writer
//    and see every write whose completion has run. Each read that needs more than one
//    statement runs in one read transaction, so it sees a single snapshot.
//
// Pragmas on every connection: journal_mode=WAL (checked: the file is refused if WAL
// cannot be enabled), synchronous=FULL (or NORMAL when the operator asks for it: a
// power loss may then lose the last commits that were already answered `accepted`),
// secure_delete=ON (deleted ciphertext and keys are overwritten with zeros),
// foreign_keys=ON, busy_timeout, and an optional max_page_count (a hard size cap:
// past it, writes answer kBusy).
//
// Mailboxes: quota counters, sequences and the envelopes whose insert is queued are
// kept in memory as well (MailboxBook, mailbox_book.hpp), loaded when the store opens:
// a Send is admitted without reading the file, and an envelope acknowledged before its
// insert was taken by the writer is never written.
//
// Held inserts: an early envelope that admit handed to a live connection has its insert
// submitted to the writer with a delay (GroupCommitWriter::submit_after, `hold`), so the
// recipient's Ack, a round trip away, finds it still cancellable. Nothing else waits for
// it (it is not in the queue while held). Its sender is answered when the Ack cancels it
// or after the hold and the commit; an envelope not taken by any connection (recipient
// offline, or behind on its backlog) is queued at once, as before. Invariants kept: a held
// envelope is early (its sequence is reserved on disk, so never reused after a crash;
// a crash loses it unanswered, so its sender sends again), it counts against the quota
// and is returned by fetch while held (the book's pending list), delete_account and
// release_held() (shutdown) first release every held insert to the queue, and close()
// commits them.
//
// Time: arrival buckets, days and `now` are passed in by the caller. A message is
// purged once its whole arrival hour is older than the retention: bucket b expires
// when (b + 1) * 3600 + retention <= now, so a message lives at most one hour longer
// than the retention and never less.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "server/group_commit.hpp"
#include "server/mailbox_book.hpp"
#include "server/sqlite_db.hpp"
#include "server/store.hpp"

namespace sotto::relay {

enum class Durability {
  kFull,    // synchronous=FULL: accepted means on disk, even across a power loss
  kNormal,  // synchronous=NORMAL: survives a crash of the relay, not of the machine
};

struct SqliteStoreOptions {
  std::string path;  // the database file; created if missing
  Durability durability = Durability::kFull;
  StoreLimits limits;
  sqlite::GroupCommitOptions group_commit;
  std::size_t read_connections = 4;
  std::chrono::milliseconds busy_timeout{5'000};
  std::uint64_t max_page_count = 0;  // 0: SQLite's default (no practical cap)
  // Sequences reserved on disk at a time per mailbox (mailbox_book.hpp): after a crash
  // at most this many sequences of a mailbox are skipped, never reused.
  std::uint64_t sequence_reservation = 1024;
  // Held inserts (admit with a LiveDelivery that took the envelope): the insert of an
  // envelope pushed to a live recipient joins the writer's queue only after `hold`, so
  // that the recipient's Ack usually cancels it first and it is never written. At most
  // hold_max_envelopes / hold_max_bytes are held at once; beyond, an insert is queued
  // at once, as are all inserts when hold is 0.
  std::chrono::milliseconds hold{50};
  std::uint64_t hold_max_envelopes = 10'000;
  std::uint64_t hold_max_bytes = 16ull << 20;
};

class SqliteStore final : public RelayStore {
 public:
  // Opens or creates the store, applies pending migrations, starts the writer thread.
  static Result<std::unique_ptr<SqliteStore>, StoreOpenError> open(SqliteStoreOptions options);
  ~SqliteStore() override;

  using RelayStore::ack;
  using RelayStore::add_one_time_prekeys;
  using RelayStore::admit;
  using RelayStore::consume_one_time_prekey;
  using RelayStore::delete_account;
  using RelayStore::enqueue;
  using RelayStore::purge_expired;
  using RelayStore::register_account;
  using RelayStore::replace_keys;
  using RelayStore::rotate_signed_prekey;
  using RelayStore::touch_account;

  void register_account(AccountKeys keys, UnixDay today, Completion<void> done) override;
  void replace_keys(AccountKeys keys, bool clear_one_time_prekeys, Completion<void> done) override;
  void delete_account(AccountId id, Completion<void> done) override;
  void touch_account(AccountId id, UnixDay today, Completion<void> done) override;
  StoreResult<AccountRecord> get_account(const AccountId& id) override;

  void add_one_time_prekeys(AccountId id, std::vector<OneTimePrekeyRecord> prekeys,
                            Completion<std::uint64_t> done) override;
  void consume_one_time_prekey(AccountId id,
                               Completion<std::optional<OneTimePrekeyRecord>> done) override;
  void rotate_signed_prekey(AccountId id, SignedPrekeyRecord prekey,
                            Completion<void> done) override;
  StoreResult<std::uint64_t> count_one_time_prekeys(const AccountId& id) override;

  void enqueue(AccountId recipient, Bytes ciphertext, ArrivalBucket arrival,
               Completion<Sequence> done) override;
  StoreResult<LiveEnvelope> admit(AccountId recipient, Bytes ciphertext, ArrivalBucket arrival,
                                  Completion<Admitted> done, LiveDelivery* live) override;
  void release_held() override;
  StoreResult<std::vector<QueuedEnvelope>> fetch(const AccountId& recipient, Sequence after_seq,
                                                 std::size_t limit) override;
  void ack(AccountId recipient, std::vector<Sequence> seqs, Completion<AckOutcome> done) override;
  void purge_expired(std::uint64_t now_unix, Completion<PurgeOutcome> done) override;

  StoreResult<StoreStats> stats(std::uint64_t now_unix) override;
  StoreResult<Disclosure> disclose(const AccountId& id) override;
  CommitStats commit_stats() const override;
  const StoreLimits& limits() const override { return options_.limits; }
  void close() override;

  // The value of an integer pragma as the *write* connection has it (pragmas such as
  // synchronous and secure_delete are per connection). Runs through the writer.
  StoreResult<std::int64_t> writer_pragma(const std::string& name);
  // The same on a read connection.
  StoreResult<std::int64_t> reader_pragma(const std::string& name);

 private:
  class ReadLease;
  SqliteStore(SqliteStoreOptions options, std::vector<sqlite::Connection> readers);

  // Queues a write whose body produces a T; `done` gets it after COMMIT.
  template <class T, class Body>
  void submit(Completion<T> done, Body body);

  StoreResult<ReadLease> lease_reader();
  StoreResult<std::vector<QueuedEnvelope>> stored_envelopes(const AccountId& recipient,
                                                            Sequence after_seq, std::size_t limit);
  Result<void, StoreOpenError> load_mailboxes(sqlite::Connection& c);
  void submit_insert(std::shared_ptr<PendingEnvelope> e, bool hold);
  // Counts an envelope in the held bounds, unless they are full (false).
  bool try_hold(PendingEnvelope& e);
  // An envelope left the held state (taken by the writer, or cancelled); true when it was
  // held until now.
  bool unheld(PendingEnvelope& e);
  void submit_reservation(const AccountId& id, Sequence reserve_to);
  void return_reader(sqlite::Connection conn);

  SqliteStoreOptions options_;
  std::unique_ptr<sqlite::GroupCommitWriter> writer_;
  MailboxBook book_;
  // Envelopes held now (try_hold / unheld): the admitting thread adds, the writer and
  // the acknowledging thread subtract.
  std::atomic<std::uint64_t> held_envelopes_{0};
  std::atomic<std::uint64_t> held_bytes_{0};
  std::atomic<bool> hold_stopped_{false};        // release_held() was called
  std::atomic<std::uint64_t> held_total_{0};     // CommitStats::held_inserts
  std::atomic<std::uint64_t> held_released_{0};  // CommitStats::held_inserts_released

  std::mutex readers_mu_;
  std::condition_variable reader_free_;
  std::vector<sqlite::Connection> readers_;
  bool closed_ = false;
  std::size_t leased_ = 0;
};

}  // namespace sotto::relay
