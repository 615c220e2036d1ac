// test_deadline_sweep.cpp — the hub-wide deadline sweep (server/deadline_sweep.hpp):
// owners are told in deadline order once their deadline has passed and not
// before; moving a deadline earlier or later, or cancelling it, is honoured;
// the one timer fires on a real io_context, and an empty sweep leaves no wait
// pending (io_context::run() returns).
#include <catch2/catch.hpp>

#include <chrono>
#include <random>
#include <vector>

#include "server/deadline_sweep.hpp"

using namespace sotto::relay;
using namespace std::chrono_literals;

namespace {

using TimePoint = DeadlineSweep::TimePoint;

struct Owner final : Deadlined {
  explicit Owner(int id_, std::vector<int>& log_) : id(id_), log(log_) {}
  void deadline_passed() override { log.push_back(id); }
  int id;
  std::vector<int>& log;
};

}  // namespace

TEST_CASE("owners are told in deadline order, only once their deadline has passed",
          "[deadline_sweep]") {
  asio::io_context io;
  DeadlineSweep sweep(io);
  std::vector<int> told;
  const TimePoint t0 = asio::steady_timer::clock_type::now() + 1h;
  Owner a(1, told), b(2, told), c(3, told), d(4, told);
  sweep.set(a, t0 + 30ms);
  sweep.set(b, t0 + 10ms);
  sweep.set(c, t0 + 20ms);
  sweep.set(d, t0 + 40ms);
  CHECK(sweep.size() == 4);
  CHECK(sweep.earliest() == t0 + 10ms);
  // Moved later, moved earlier, cancelled.
  sweep.set(b, t0 + 35ms);
  sweep.set(d, t0 + 5ms);
  sweep.cancel(c);
  CHECK(sweep.size() == 3);
  CHECK(sweep.earliest() == t0 + 5ms);

  sweep.expire(t0 + 4ms);
  CHECK(told.empty());
  sweep.expire(t0 + 30ms);  // d (5 ms) and a (30 ms: at its deadline)
  CHECK(told == std::vector<int>{4, 1});
  CHECK(a.deadline() == TimePoint::max());
  sweep.expire(t0 + 1h);
  CHECK(told == std::vector<int>{4, 1, 2});
  CHECK(sweep.size() == 0);
  CHECK(sweep.earliest() == TimePoint::max());
}

TEST_CASE("the heap stays ordered under many random updates", "[deadline_sweep]") {
  asio::io_context io;
  DeadlineSweep sweep(io);
  std::vector<int> told;
  std::vector<std::unique_ptr<Owner>> owners;
  for (int i = 0; i < 200; ++i) owners.push_back(std::make_unique<Owner>(i, told));
  std::mt19937 gen(7);
  const TimePoint t0 = asio::steady_timer::clock_type::now() + 1h;
  std::vector<TimePoint> expected(owners.size(), TimePoint::max());
  for (int step = 0; step < 5000; ++step) {
    const std::size_t i = gen() % owners.size();
    if (gen() % 5 == 0) {
      sweep.cancel(*owners[i]);
      expected[i] = TimePoint::max();
    } else {
      const TimePoint t = t0 + std::chrono::milliseconds(gen() % 1000);
      sweep.set(*owners[i], t);
      expected[i] = t;
    }
  }
  // Expiring everything tells each owner with a deadline once, in deadline order.
  sweep.expire(t0 + 2h);
  std::size_t with_deadline = 0;
  for (auto t : expected) with_deadline += t != TimePoint::max() ? 1 : 0;
  REQUIRE(told.size() == with_deadline);
  for (std::size_t k = 1; k < told.size(); ++k)
    CHECK(expected[static_cast<std::size_t>(told[k - 1])] <=
          expected[static_cast<std::size_t>(told[k])]);
}

TEST_CASE("the timer tells an owner at its deadline, an empty sweep keeps no wait",
          "[deadline_sweep]") {
  asio::io_context io;
  DeadlineSweep sweep(io);
  std::vector<int> told;
  Owner soon(1, told), later(2, told), cancelled(3, told);
  const auto start = asio::steady_timer::clock_type::now();
  sweep.set(later, start + 150ms);
  sweep.set(soon, start + 50ms);
  sweep.set(cancelled, start + 20ms);
  sweep.cancel(cancelled);
  // run() returns once both were told: nothing else keeps it alive.
  io.run_for(10s);
  const auto elapsed = asio::steady_timer::clock_type::now() - start;
  CHECK(told == std::vector<int>{1, 2});
  CHECK(elapsed >= 150ms);
  CHECK(elapsed < 5s);
  CHECK(io.stopped());
}
