// write_queue.hpp — a connection's queue of plaintext frames waiting to be
// encrypted and written: first in, first out, allocated on first use and
// freed as soon as it is drained, so an idle connection's queue costs no heap
// (libstdc++'s std::deque allocates a 512-byte block and its map up front).
//
// The bound (write_queue_frames) is the connection's to enforce with size().
// Not thread-safe; owned by its Connection.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "common/bytes.hpp"

namespace sotto::relay {

class WriteQueue {
 public:
  bool empty() const { return head_ == frames_.size(); }
  std::size_t size() const { return frames_.size() - head_; }
  void push_back(Bytes frame) { frames_.push_back(std::move(frame)); }
  Bytes& front() { return frames_[head_]; }
  void pop_front() {
    Bytes().swap(frames_[head_]);
    if (++head_ == frames_.size()) {
      // Drained: give the storage back.
      std::vector<Bytes>().swap(frames_);
      head_ = 0;
    } else if (head_ >= kCompactAfter && 2 * head_ >= frames_.size()) {
      // Never drained under steady output: drop the taken slots.
      frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Heap bytes held by the queue's own storage (not the frames), for tests.
  std::size_t capacity_bytes() const { return frames_.capacity() * sizeof(Bytes); }

 private:
  static constexpr std::size_t kCompactAfter = 32;
  std::vector<Bytes> frames_;
  std::size_t head_ = 0;  // frames_[0, head_) were taken
};

}  // namespace sotto::relay
