// system_clock.hpp — the wall clock for the client program: the core and the
// messenger take a sotto::Clock (common/clock.hpp) so tests can use a
// FakeClock; `sotto` itself passes this one. Nothing fails.
#pragma once

#include <ctime>

#include "common/clock.hpp"

namespace sotto::client {

class SystemClock final : public sotto::Clock {
 public:
  std::uint64_t now_unix() const override {
    const std::time_t t = std::time(nullptr);
    return t < 0 ? 0 : static_cast<std::uint64_t>(t);
  }
};

}  // namespace sotto::client
