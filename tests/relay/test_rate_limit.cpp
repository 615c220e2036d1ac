// test_rate_limit.cpp — token buckets refuse past their burst and say when to
// retry; buckets refill at their rate and are forgotten when full; admission
// enforces connections in total, per address and per minute per address.
#include <catch2/catch.hpp>

#include <array>

#include "server/rate_limit.hpp"

using namespace sotto::relay;

TEST_CASE("a token bucket allows its burst, then answers retry-after", "[rate]") {
  TokenBucket b(/*per_second=*/10, /*burst=*/3, /*now_ms=*/1000);
  CHECK_FALSE(b.take(1000));
  CHECK_FALSE(b.take(1000));
  CHECK_FALSE(b.take(1000));
  auto wait = b.take(1000);
  REQUIRE(wait);
  CHECK(*wait == 100);  // one token per 100 ms at 10/s
  // A refused request took nothing: after 40 ms the wait is 60 ms.
  CHECK(b.take(1040) == std::optional<std::uint32_t>(60));
  CHECK_FALSE(b.take(1100));  // refilled one token
  CHECK(b.take(1100));
  CHECK_FALSE(b.full(1100));
  CHECK(b.full(1100 + 300));  // three tokens back after 300 ms
  // Never more than the burst, however long it rests.
  CHECK_FALSE(b.take(1'000'000));
  CHECK_FALSE(b.take(1'000'000));
  CHECK_FALSE(b.take(1'000'000));
  CHECK(b.take(1'000'000));
}

TEST_CASE("a clock that goes backwards refills nothing", "[rate]") {
  TokenBucket b(1, 1, 5000);
  CHECK_FALSE(b.take(5000));
  CHECK(b.take(100));
  CHECK(b.take(5000));
  CHECK_FALSE(b.take(6000));
}

TEST_CASE("a rate limiter keeps one bucket per key and forgets full ones", "[rate]") {
  RateLimiter<std::string> r(1, 2, /*max_keys=*/3);
  CHECK_FALSE(r.take("a", 0));
  CHECK_FALSE(r.take("a", 0));
  CHECK(r.take("a", 0));        // a is out
  CHECK_FALSE(r.take("b", 0));  // b is not
  CHECK(r.size() == 2);
  r.prune(500);
  CHECK(r.size() == 2);  // neither refilled yet
  r.prune(2000);
  CHECK(r.size() == 0);
  // Bounded memory: never more than max_keys buckets.
  for (int i = 0; i < 10; ++i) (void)r.take("k" + std::to_string(i), 3000);
  CHECK(r.size() <= 3);
}

TEST_CASE("buckets of keys gone quiet are forgotten as other keys take, answers unchanged",
          "[rate]") {
  // 10 tokens a second, burst 2: a bucket that took one token is full again after 100 ms.
  RateLimiter<std::string> r(10, 2);
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(r.take("idle" + std::to_string(i), 0));
  CHECK(r.size() == 1000);
  // One active key keeps taking; each take walks on through two buckets.
  std::uint64_t now = 1000;
  for (int i = 0; i < 600; ++i, now += 100) CHECK_FALSE(r.take("active", now));
  CHECK(r.size() <= 2);
  // A forgotten key starts again from a full bucket, as it would have had.
  CHECK_FALSE(r.take("idle7", now));
  CHECK_FALSE(r.take("idle7", now));
  CHECK(r.take("idle7", now));
  // A bucket still refilling is never forgotten: its limit holds.
  RateLimiter<std::string> slow(1, 2);
  CHECK_FALSE(slow.take("x", 0));
  CHECK_FALSE(slow.take("x", 0));
  for (int i = 0; i < 50; ++i) (void)slow.take("y" + std::to_string(i), 10);
  CHECK(slow.take("x", 10));
}

TEST_CASE("accounts are limited independently", "[rate]") {
  using Id = std::array<std::uint8_t, 32>;
  Id alice{}, bob{};
  bob[0] = 1;
  RateLimiter<Id> r(50, 2);
  CHECK_FALSE(r.take(alice, 0));
  CHECK_FALSE(r.take(alice, 0));
  auto wait = r.take(alice, 0);
  REQUIRE(wait);
  CHECK(*wait == 20);
  CHECK_FALSE(r.take(bob, 0));
}

TEST_CASE("admission enforces total, per-address and per-minute limits", "[rate][connections]") {
  Admission a(AdmissionLimits{/*total=*/3, /*per_address=*/2, /*per_minute=*/3});
  CHECK(a.admit("10.0.0.1", 0) == Admit::kOk);
  CHECK(a.admit("10.0.0.1", 0) == Admit::kOk);
  CHECK(a.admit("10.0.0.1", 0) == Admit::kTooManyFromAddress);
  CHECK(a.admit("10.0.0.2", 0) == Admit::kOk);
  CHECK(a.admit("10.0.0.3", 0) == Admit::kTooManyTotal);
  CHECK(a.open() == 3);
  CHECK(a.open_from("10.0.0.1") == 2);

  a.release("10.0.0.1");
  a.release("10.0.0.1");
  CHECK(a.open_from("10.0.0.1") == 0);
  // 10.0.0.1 opened two connections this minute (the refused one cost nothing): one more...
  CHECK(a.admit("10.0.0.1", 100) == Admit::kOk);
  a.release("10.0.0.1");
  // ...and then it is connecting too fast, even with no connection open.
  CHECK(a.admit("10.0.0.1", 200) == Admit::kTooFastFromAddress);
  CHECK(a.admit("10.0.0.1", 200 + 20'000) == Admit::kOk);  // 3 per minute: one every 20 s

  a.stop();
  CHECK(a.admit("10.0.0.9", 10'000'000) == Admit::kStopping);
  a.release("nobody");  // releasing an unknown address is harmless
  CHECK(a.open() == 2);
}
