// deadline_sweep.hpp — one timer for every connection's deadline. Each
// connection has at most one deadline in force (the earlier of its reading and
// writing deadlines: handshake, frame or idle; frame while a write is
// pending). The sweep keeps them in a binary min-heap of (deadline, owner)
// entries, 16 bytes each, and one steady_timer armed at the earliest; when it
// fires, every owner whose deadline has passed is taken out of the heap and
// told (Deadlined::deadline_passed), in deadline order. A connection therefore
// costs no timer, no pending wait and no coroutine for its deadlines.
//
// Deadlines are exact (the heap, not a wheel of slots): an owner is told at
// the first timer expiry at or after its deadline. Moving a deadline later
// does not re-arm the timer; it may then fire early, find nothing due and
// re-arm at the new earliest. An empty heap leaves no wait pending, so
// io_context::run() can return once every connection is gone.
//
// Ownership: the Hub owns the sweep; each owner embeds its Deadlined slot and
// must leave the heap (cancel) before it is destroyed (~Deadlined checks it
// in debug builds). Single-threaded: the io_context's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <asio.hpp>

namespace sotto::relay {

class DeadlineSweep;

// What an owner embeds: its place in the sweep's heap.
class Deadlined {
 public:
  using TimePoint = asio::steady_timer::time_point;
  // Called once when the deadline has passed; the owner is already out of the heap.
  virtual void deadline_passed() = 0;
  TimePoint deadline() const { return deadline_; }

 protected:
  Deadlined() = default;
  virtual ~Deadlined();
  Deadlined(const Deadlined&) = delete;
  Deadlined& operator=(const Deadlined&) = delete;

 private:
  friend class DeadlineSweep;
  static constexpr std::size_t kNotQueued = static_cast<std::size_t>(-1);
  TimePoint deadline_ = TimePoint::max();
  std::size_t slot_ = kNotQueued;
};

class DeadlineSweep {
 public:
  using TimePoint = Deadlined::TimePoint;
  explicit DeadlineSweep(asio::io_context& io) : timer_(io) {}
  DeadlineSweep(const DeadlineSweep&) = delete;
  DeadlineSweep& operator=(const DeadlineSweep&) = delete;

  // Sets `d`'s deadline (TimePoint::max() takes it out: no deadline).
  void set(Deadlined& d, TimePoint deadline);
  void cancel(Deadlined& d) { set(d, TimePoint::max()); }
  std::size_t size() const { return heap_.size(); }
  // The earliest deadline in the heap (max when empty), for tests.
  TimePoint earliest() const { return heap_.empty() ? TimePoint::max() : heap_.front().at; }
  // Tells every owner whose deadline is at or before `now` (the timer's handler; tests call it).
  void expire(TimePoint now);

 private:
  struct Entry {
    TimePoint at;
    Deadlined* owner;
  };
  void place(std::size_t i, Entry e);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void remove_at(std::size_t i);
  void rearm();

  asio::steady_timer timer_;
  TimePoint armed_ = TimePoint::max();  // when the pending wait fires (max: none pending)
  std::uint64_t generation_ = 0;        // of the wait in force; older ones are stale
  std::vector<Entry> heap_;
};

}  // namespace sotto::relay
