// deadline_sweep.cpp — see deadline_sweep.hpp.
#include "server/deadline_sweep.hpp"

#include <cassert>

namespace sotto::relay {

Deadlined::~Deadlined() {
  assert(slot_ == kNotQueued);
}

void DeadlineSweep::place(std::size_t i, Entry e) {
  heap_[i] = e;
  e.owner->slot_ = i;
}

void DeadlineSweep::sift_up(std::size_t i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(e.at < heap_[parent].at)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void DeadlineSweep::sift_down(std::size_t i) {
  const Entry e = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1].at < heap_[child].at) ++child;
    if (!(heap_[child].at < e.at)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, e);
}

void DeadlineSweep::remove_at(std::size_t i) {
  heap_[i].owner->slot_ = Deadlined::kNotQueued;
  heap_[i].owner->deadline_ = TimePoint::max();
  const Entry last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  place(i, last);
  if (i > 0 && last.at < heap_[(i - 1) / 2].at)
    sift_up(i);
  else
    sift_down(i);
}

void DeadlineSweep::set(Deadlined& d, TimePoint deadline) {
  if (deadline == d.deadline_) return;
  if (deadline == TimePoint::max()) {
    if (d.slot_ != Deadlined::kNotQueued) remove_at(d.slot_);
  } else if (d.slot_ == Deadlined::kNotQueued) {
    d.deadline_ = deadline;
    heap_.push_back(Entry{deadline, &d});
    d.slot_ = heap_.size() - 1;
    sift_up(d.slot_);
  } else {
    const bool earlier = deadline < d.deadline_;
    d.deadline_ = deadline;
    heap_[d.slot_].at = deadline;
    if (earlier)
      sift_up(d.slot_);
    else
      sift_down(d.slot_);
  }
  rearm();
}

void DeadlineSweep::expire(TimePoint now) {
  // Each owner leaves the heap before it is told, so what it does when told
  // (close, set another deadline) sees a consistent heap.
  while (!heap_.empty() && heap_.front().at <= now) {
    Deadlined* owner = heap_.front().owner;
    remove_at(0);
    owner->deadline_passed();
  }
  rearm();
}

void DeadlineSweep::rearm() {
  const TimePoint next = earliest();
  if (next == armed_) return;
  if (next == TimePoint::max()) {
    // Nothing to wait for: no pending wait keeps io_context::run() alive.
    armed_ = TimePoint::max();
    ++generation_;
    timer_.cancel();
    return;
  }
  // A wait that fires earlier than needed finds nothing due and re-arms.
  if (armed_ < next) return;
  armed_ = next;
  const std::uint64_t generation = ++generation_;
  timer_.expires_at(next);  // cancels the wait for the later time
  timer_.async_wait([this, generation](const std::error_code& ec) {
    // Re-armed or cancelled (possibly after this wait had already fired): a
    // newer wait, if any, is the one in force.
    if (ec || generation != generation_) return;
    armed_ = TimePoint::max();
    expire(asio::steady_timer::clock_type::now());
  });
}

}  // namespace sotto::relay
