// test_write_queue.cpp — a connection's write queue (server/write_queue.hpp):
// first in, first out; no heap until the first frame and none once drained;
// under output that never drains, the taken slots are dropped.
#include <catch2/catch.hpp>

#include "server/write_queue.hpp"

using namespace sotto;
using namespace sotto::relay;

TEST_CASE("the write queue is FIFO and holds no storage when empty", "[write_queue]") {
  WriteQueue q;
  CHECK(q.empty());
  CHECK(q.capacity_bytes() == 0);
  for (std::uint8_t i = 0; i < 5; ++i) q.push_back(Bytes(3, i));
  CHECK(q.size() == 5);
  CHECK(q.capacity_bytes() > 0);
  for (std::uint8_t i = 0; i < 5; ++i) {
    CHECK(q.front() == Bytes(3, i));
    q.pop_front();
  }
  CHECK(q.empty());
  CHECK(q.capacity_bytes() == 0);
}

TEST_CASE("a queue that never drains stays bounded by what it holds", "[write_queue]") {
  WriteQueue q;
  std::uint32_t next_in = 0, next_out = 0;
  q.push_back(Bytes{0});
  ++next_in;
  for (int step = 0; step < 10000; ++step) {
    // Two in, one out, one in... never empty, never more than 3 frames.
    q.push_back(Bytes{static_cast<std::uint8_t>(next_in++ & 0xff)});
    CHECK(q.front() == Bytes{static_cast<std::uint8_t>(next_out++ & 0xff)});
    q.pop_front();
    REQUIRE(q.size() == 1);
  }
  // Slots taken are dropped: storage stays a small multiple of the frames held.
  CHECK(q.capacity_bytes() <= 128 * sizeof(Bytes));
}
