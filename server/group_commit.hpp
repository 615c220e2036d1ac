// group_commit.hpp — GroupCommitWriter: the single writer thread that owns the write
// connection and commits many operations with one transaction (one fsync).
//
// Callers submit(body, done). The writer takes everything queued (up to max_batch_ops)
// and runs it as
//     BEGIN IMMEDIATE; body; body; ...; COMMIT
// and only after COMMIT has returned calls every `done` of the batch, in submission
// order. With synchronous=FULL that return is after the fsync, so `done(ok)` means
// durable. While one batch is being committed the next one accumulates: the busier the
// relay, the more operations share each fsync.
//
// Savepoints only when needed: a batch first runs without any (a savepoint copies
// every page its op touches into a sub-journal: most of the writer's work, measured in
// docs/performance.md). If a body fails, the whole transaction is rolled back and the
// batch is run again in the careful form
//     BEGIN IMMEDIATE; (SAVEPOINT op; body; RELEASE op)...; COMMIT
// which is safe because bodies are re-runnable (pure functions of the database and
// their inputs).
//
// What fails, and what the callers are told:
//  - a body returns an error: only that op is rolled back (in the careful form, ROLLBACK
//    TO its savepoint) and answered with the error; the rest of the batch commits;
//  - SQLite rolls back the whole transaction by itself (it may after SQLITE_FULL or an
//    I/O error): the failing op is answered with its error and the others are re-run
//    in a fresh transaction (bodies are pure functions of the database and their
//    inputs, so re-running is safe), at most kMaxAttempts times;
//  - BEGIN or COMMIT fails: nothing of the batch happened; every op is answered kBusy
//    (or kCorrupt) — an op is never answered ok unless its transaction committed;
//  - the queue holds max_queued_ops already, or the writer is shut down: `done` is
//    called at once, on the submitting thread, with kBusy / kClosed.
//
// Delayed operations (submit_after): an op that must not run before a given time (the
// relay holds the insert of an envelope it pushed to a live recipient, so that the
// recipient's Ack can cancel it before it is written: sqlite_store.hpp) waits in a
// separate list ordered by its due time and joins the queue when due. Nothing in the
// queue waits for it: later submissions form batches and commit without it. At shutdown,
// or on release_delayed(), every delayed op joins the queue at once.
//
// Ownership: the writer owns the Connection from construction until shutdown() has
// joined its thread. Bodies and completions run on the writer thread; a completion
// must not wait for another write (it would wait for itself) and must not throw.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "server/sqlite_db.hpp"
#include "server/store.hpp"

namespace sotto::relay::sqlite {

struct GroupCommitOptions {
  // Operations per transaction at most. The fsync dominates a commit (ms, against
  // tens of µs per operation), so a batch should carry everything that queued
  // while the previous one was being synced: a small cap makes the fsync rate,
  // not the disk or the CPU, the relay's throughput limit (docs/performance.md).
  std::size_t max_batch_ops = 4096;
  std::size_t max_queued_ops = 65'536;  // beyond this, submit answers kBusy (bounded memory)
  // Delayed ops (submit_after) are released in groups: when nothing else wakes the
  // writer, it wakes this long after the earliest due time and takes every due op, so a
  // steady stream of delayed ops makes one batch per interval, not one per op.
  std::chrono::milliseconds delayed_grouping{5};
  // Tests only: called on the writer thread after a batch's bodies ran and before its
  // COMMIT (a test blocks here to hold later operations in the queue).
  std::function<void()> before_commit_for_tests;
};

class GroupCommitWriter {
 public:
  using Body = std::function<StoreResult<void>(Connection&)>;
  using Done = std::function<void(StoreResult<void>)>;
  // Asked when a delayed op comes due: false means it has nothing left to do (the
  // relay's held insert was cancelled by the recipient's Ack). It is then answered
  // ok at once, outside any transaction, and never enters a batch.
  using Needed = std::function<bool()>;

  static constexpr int kMaxAttempts = 3;

  GroupCommitWriter(Connection conn, GroupCommitOptions options);
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  void submit(Body body, Done done);
  // Like submit, but the op joins the queue only at `due` (or at release_delayed() or
  // shutdown, if earlier). Refused like submit when the writer is shut down.
  void submit_after(std::chrono::steady_clock::time_point due, Body body, Done done,
                    Needed needed = {});
  // Every delayed op joins the queue now (ahead of whatever is submitted next).
  void release_delayed();

  // Stops accepting, commits what is queued, runs its completions, joins the thread and
  // closes the connection. Idempotent; must not be called from a completion.
  void shutdown();

  CommitStats stats() const;

 private:
  struct Op {
    Body body;
    Done done;
  };
  struct DelayedOp {
    std::chrono::steady_clock::time_point due;
    Op op;
    Needed needed;
  };
  enum class Attempt { kCommitted, kRetry, kFailed };

  void run();
  // Under mu_: moves the delayed ops that are due (all of them when `all`) to the queue,
  // or to `unneeded_` when they have nothing left to do.
  void release_due(std::chrono::steady_clock::time_point now, bool all);
  void run_batch(std::vector<Op>& batch);
  Attempt attempt(std::vector<Op>& batch, std::vector<bool>& excluded,
                  std::vector<StoreResult<void>>& outcome, bool careful);
  void record_commit(std::size_t ops, std::uint64_t latency_us);

  Connection conn_;
  const GroupCommitOptions options_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Op> queue_;
  std::deque<DelayedOp> delayed_;  // by due time, earliest first
  std::vector<Done> unneeded_;     // due delayed ops with nothing to do: answered ok
  bool closing_ = false;
  bool joined_ = false;
  std::mutex shutdown_mu_;
  std::thread thread_;

  mutable std::mutex stats_mu_;
  CommitStats stats_;
};

}  // namespace sotto::relay::sqlite
