// rng.hpp — the randomness the core is given. The core never draws randomness
// on its own: every function that needs it takes an Rng&.
//
// SystemRng is libsodium's randombytes (the OS CSPRNG). SeededRng is a
// deterministic stream for test vectors and fuzzing: the ChaCha20 (IETF,
// RFC 8439) keystream under key = seed and nonce = 0, counter from 0, consumed
// in order; docs/protocol.md ("Deterministic RNG") pins it so other
// implementations can reproduce tests/vectors/.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace sotto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
};

class SystemRng final : public Rng {
 public:
  SystemRng();
  void fill(std::span<std::uint8_t> out) override;
};

class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::span<const std::uint8_t, 32> seed);
  // Convenience for tests: the seed is the 32-byte little-endian encoding of n.
  explicit SeededRng(std::uint64_t n);
  ~SeededRng() override;
  void fill(std::span<std::uint8_t> out) override;
  // A uniform integer in [0, bound), for tests that pick actions.
  std::uint32_t uniform(std::uint32_t bound);

 private:
  void refill();
  std::array<std::uint8_t, 32> key_{};
  std::array<std::uint8_t, 64> block_{};
  std::uint32_t counter_ = 0;
  std::size_t used_ = 64;
};

}  // namespace sotto
