// clock.hpp — the time the core is given. The core never reads the clock on
// its own; prekey expiry and rotation take a Clock& or a timestamp.
#pragma once

#include <cstdint>

namespace sotto {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual std::uint64_t now_unix() const = 0;
};

// A clock tests set and advance by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::uint64_t start = 1'700'000'000) : now_(start) {}
  std::uint64_t now_unix() const override { return now_; }
  void advance(std::uint64_t seconds) { now_ += seconds; }
  void set(std::uint64_t t) { now_ = t; }

 private:
  std::uint64_t now_;
};

}  // namespace sotto
