// completion_inbox.hpp — hands results from the store's writer thread (or any
// thread) to the event loop in bursts: a producer appends an item under a mutex
// and posts one drain to the io_context only when the inbox was empty, so a
// group-commit batch of hundreds of completions costs one post (one wake-up of
// the event loop, one scheduler lock) instead of one each. The drain takes
// everything queued at once and runs `run(item)` for each, in the order they
// were put, on the io_context's thread.
//
// Order: items are run in the order put; an item put while a drain is pending
// runs in that drain. Nothing fails: put never blocks on the event loop (only on
// the mutex, held for a push or a swap). Ownership: the inbox must outlive the
// io_context's handlers that may drain it (the Hub owns it; run() returns only
// after every posted drain ran or the io_context was destroyed). Thread-safe.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include <asio.hpp>

namespace sotto::relay {

template <typename Item, typename Run>
class CompletionInbox {
 public:
  CompletionInbox(asio::io_context& io, Run run) : io_(io), run_(std::move(run)) {}
  CompletionInbox(const CompletionInbox&) = delete;
  CompletionInbox& operator=(const CompletionInbox&) = delete;

  // Any thread: queue `item`; the first item of a burst posts the drain.
  void put(Item item) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = items_.empty();
      items_.push_back(std::move(item));
    }
    if (first) asio::post(io_, [this] { drain(); });
  }

  // For tests: items put and not yet run.
  std::size_t pending() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }

 private:
  void drain() {
    {
      std::lock_guard lock(mu_);
      running_.swap(items_);
    }
    // Items put from here on post their own drain (the inbox is empty again).
    for (auto& item : running_) run_(std::move(item));
    running_.clear();  // keeps its capacity: the next burst allocates nothing
  }

  asio::io_context& io_;
  Run run_;
  mutable std::mutex mu_;
  std::vector<Item> items_;    // guarded by mu_
  std::vector<Item> running_;  // the event loop's: the burst being run
};

}  // namespace sotto::relay
