// test_completion_inbox.cpp — the hand-off of store results to the event loop
// (server/completion_inbox.hpp): items run on the io_context's thread in the
// order put, a burst costs one posted drain, an item put while a drain runs is
// not lost, and items put from another thread all arrive, in order.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "server/completion_inbox.hpp"

using namespace sotto::relay;

namespace {
std::vector<int>* g_seen = nullptr;
void record(int v) {
  g_seen->push_back(v);
}
using Inbox = CompletionInbox<int, void (*)(int)>;
}  // namespace

TEST_CASE("a burst of items runs in order with one posted drain", "[completion_inbox]") {
  asio::io_context io;
  std::vector<int> seen;
  g_seen = &seen;
  Inbox inbox(io, &record);
  for (int i = 0; i < 100; ++i) inbox.put(i);
  CHECK(inbox.pending() == 100);
  CHECK(seen.empty());  // nothing runs before the event loop does
  // One handler ran for the whole burst: the drain.
  CHECK(io.run() == 1);
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);
  CHECK(inbox.pending() == 0);
  // A later burst posts a drain of its own.
  io.restart();
  inbox.put(7);
  CHECK(io.run() == 1);
  CHECK(seen.back() == 7);
  g_seen = nullptr;
}

namespace {
Inbox* g_inbox = nullptr;
void put_more(int v) {
  g_seen->push_back(v);
  if (v < 3) g_inbox->put(v + 1);  // put while the drain runs
}
}  // namespace

TEST_CASE("an item put while a drain runs is run by a drain of its own", "[completion_inbox]") {
  asio::io_context io;
  std::vector<int> seen;
  g_seen = &seen;
  Inbox inbox(io, &put_more);
  g_inbox = &inbox;
  inbox.put(0);
  CHECK(io.run() == 4);
  CHECK(seen == std::vector<int>{0, 1, 2, 3});
  CHECK(inbox.pending() == 0);
  g_inbox = nullptr;
  g_seen = nullptr;
}

TEST_CASE("items put from another thread all arrive in order", "[completion_inbox]") {
  asio::io_context io;
  std::vector<int> seen;
  g_seen = &seen;
  Inbox inbox(io, &record);
  auto guard = asio::make_work_guard(io);
  constexpr int kItems = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) inbox.put(i);
    asio::post(io, [&] { guard.reset(); });
  });
  const auto handlers = io.run();
  producer.join();
  io.restart();
  io.run();  // a drain posted after the guard's reset, if any
  REQUIRE(seen.size() == static_cast<std::size_t>(kItems));
  bool ordered = true;
  for (int i = 0; i < kItems; ++i) ordered = ordered && seen[static_cast<std::size_t>(i)] == i;
  CHECK(ordered);
  CHECK(handlers >= 2);  // at least one drain and the guard's reset
  g_seen = nullptr;
}
