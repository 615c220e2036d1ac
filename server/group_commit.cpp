// group_commit.cpp — the writer thread's loop and the batch transaction (see
// group_commit.hpp for the failure rules).
#include "server/group_commit.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

namespace sotto::relay::sqlite {

GroupCommitWriter::GroupCommitWriter(Connection conn, GroupCommitOptions options)
    : conn_(std::move(conn)), options_(options) {
  thread_ = std::thread([this] { run(); });
}

GroupCommitWriter::~GroupCommitWriter() {
  shutdown();
}

void GroupCommitWriter::submit(Body body, Done done) {
  StoreError refused = StoreError::kClosed;
  {
    std::lock_guard lock(mu_);
    if (!closing_ && queue_.size() < options_.max_queued_ops) {
      queue_.push_back(Op{std::move(body), std::move(done)});
      wake_.notify_one();
      return;
    }
    if (!closing_) refused = StoreError::kBusy;
  }
  done(fail(refused));
}

void GroupCommitWriter::submit_after(std::chrono::steady_clock::time_point due, Body body,
                                     Done done, Needed needed) {
  {
    std::lock_guard lock(mu_);
    if (!closing_) {
      // Usually the latest due time so far (one hold for all): appended in O(1).
      auto at = delayed_.end();
      while (at != delayed_.begin() && std::prev(at)->due > due) --at;
      const bool earliest = at == delayed_.begin();
      delayed_.insert(at, DelayedOp{due, Op{std::move(body), std::move(done)}, std::move(needed)});
      // The writer sleeps until the earliest due time: tell it of a new earliest.
      if (earliest) wake_.notify_one();
      return;
    }
  }
  done(fail(StoreError::kClosed));
}

void GroupCommitWriter::release_delayed() {
  std::lock_guard lock(mu_);
  if (delayed_.empty()) return;
  release_due({}, /*all=*/true);
  wake_.notify_one();
}

void GroupCommitWriter::release_due(std::chrono::steady_clock::time_point now, bool all) {
  while (!delayed_.empty() && (all || delayed_.front().due <= now)) {
    DelayedOp& d = delayed_.front();
    if (d.needed && !d.needed())
      unneeded_.push_back(std::move(d.op.done));
    else
      queue_.push_back(std::move(d.op));
    delayed_.pop_front();
  }
}

void GroupCommitWriter::shutdown() {
  std::lock_guard guard(shutdown_mu_);
  if (joined_) return;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  (void)conn_.close();  // every batch has ended; a failed close loses nothing committed
  joined_ = true;
}

CommitStats GroupCommitWriter::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void GroupCommitWriter::run() {
  std::vector<Op> batch;
  std::vector<Done> unneeded;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      for (;;) {
        // Delayed ops join the queue when due: in groups, once the earliest has waited
        // delayed_grouping past its due time, or with a batch that runs anyway; all of
        // them once closing (they commit).
        const auto now = std::chrono::steady_clock::now();
        if (closing_ || !queue_.empty() ||
            (!delayed_.empty() && delayed_.front().due + options_.delayed_grouping <= now))
          release_due(now, closing_);
        if (!unneeded_.empty()) break;
        if (!queue_.empty()) break;
        if (closing_) return;  // everything queued or delayed has been committed
        if (delayed_.empty()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, delayed_.front().due + options_.delayed_grouping);
        }
      }
      unneeded.swap(unneeded_);
      // Take everything waiting (up to the cap): this is the group of the group commit.
      const std::size_t n =
          std::min(queue_.size(), std::max<std::size_t>(options_.max_batch_ops, 1));
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    // Completions of ops with nothing to do, then the batch (if any).
    for (auto& done : unneeded) done({});
    unneeded.clear();
    if (!batch.empty()) run_batch(batch);
    batch.clear();
  }
}

void GroupCommitWriter::run_batch(std::vector<Op>& batch) {
  std::vector<bool> excluded(batch.size(), false);
  std::vector<StoreResult<void>> outcome(batch.size());
  // The fast form first (no savepoints); any failure sends the batch to the careful form.
  Attempt a = attempt(batch, excluded, outcome, /*careful=*/false);
  for (int i = 0; i < kMaxAttempts && a == Attempt::kRetry; ++i) {
    a = attempt(batch, excluded, outcome, /*careful=*/true);
  }
  if (a == Attempt::kRetry) {
    // Still failing after kMaxAttempts: nothing of what remains was committed.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!excluded[i]) outcome[i] = fail(StoreError::kBusy);
    }
  }
  if (a != Attempt::kCommitted) {
    std::lock_guard lock(stats_mu_);
    ++stats_.failed_batches;
  }
  // Completions only now: after COMMIT returned (or the batch definitely failed).
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcome[i]));
}

GroupCommitWriter::Attempt GroupCommitWriter::attempt(std::vector<Op>& batch,
                                                      std::vector<bool>& excluded,
                                                      std::vector<StoreResult<void>>& outcome,
                                                      bool careful) {
  const auto started = std::chrono::steady_clock::now();
  auto fail_all = [&](StoreError e) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!excluded[i]) outcome[i] = fail(e);
    }
    return Attempt::kFailed;
  };

  if (auto r = conn_.exec("BEGIN IMMEDIATE"); !r) {
    if (conn_.in_transaction()) (void)conn_.exec("ROLLBACK");  // cannot be: BEGIN failed
    return fail_all(r.error());
  }
  std::size_t carried = 0;
  if (!careful) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (excluded[i]) continue;
      ++carried;
      if (batch[i].body(conn_)) continue;
      // Which ops fail, and whether SQLite keeps the transaction, the careful form finds out.
      if (conn_.in_transaction()) (void)conn_.exec("ROLLBACK");
      return Attempt::kRetry;
    }
  }
  for (std::size_t i = 0; careful && i < batch.size(); ++i) {
    if (excluded[i]) continue;
    ++carried;
    StoreResult<void> r = conn_.exec("SAVEPOINT op");
    if (r) r = batch[i].body(conn_);
    if (r) r = conn_.exec("RELEASE op");
    if (r) {
      outcome[i] = {};
      continue;
    }
    outcome[i] = fail(r.error());
    if (conn_.in_transaction()) {
      // Undo this op only; the others in the batch stand.
      auto undo = conn_.exec("ROLLBACK TO op");
      if (undo) undo = conn_.exec("RELEASE op");
      if (undo) continue;
      (void)conn_.exec("ROLLBACK");  // the savepoint is unusable: drop the transaction
    }
    // SQLite rolled back the whole transaction: answer this op, re-run the others.
    excluded[i] = true;
    if (conn_.in_transaction()) (void)conn_.exec("ROLLBACK");
    return Attempt::kRetry;
  }
  if (options_.before_commit_for_tests) options_.before_commit_for_tests();
  if (auto r = conn_.exec("COMMIT"); !r) {
    // Not committed: no op of this batch may be answered ok.
    if (conn_.in_transaction()) (void)conn_.exec("ROLLBACK");
    return fail_all(r.error() == StoreError::kCorrupt ? StoreError::kCorrupt : StoreError::kBusy);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  record_commit(carried, static_cast<std::uint64_t>(elapsed.count()));
  return Attempt::kCommitted;
}

void GroupCommitWriter::record_commit(std::size_t ops, std::uint64_t latency_us) {
  std::lock_guard lock(stats_mu_);
  ++stats_.batches;
  stats_.ops += ops;
  stats_.max_batch_ops = std::max<std::uint64_t>(stats_.max_batch_ops, ops);
  stats_.commit_latency_us_total += latency_us;
  stats_.commit_latency_us_max = std::max(stats_.commit_latency_us_max, latency_us);
  std::size_t bucket = 0;
  while (bucket + 1 < CommitStats::kHistogramBuckets &&
         ops > CommitStats::histogram_upper_bound(bucket)) {
    ++bucket;
  }
  ++stats_.batch_size_histogram[bucket];
}

}  // namespace sotto::relay::sqlite
