// rng.cpp — SystemRng and the deterministic ChaCha20 SeededRng.
#include "common/rng.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "common/secret.hpp"

namespace sotto {

SystemRng::SystemRng() { ensure_sodium(); }

void SystemRng::fill(std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); }

SeededRng::SeededRng(std::span<const std::uint8_t, 32> seed) {
  ensure_sodium();
  std::copy(seed.begin(), seed.end(), key_.begin());
}

SeededRng::SeededRng(std::uint64_t n) {
  ensure_sodium();
  for (int i = 0; i < 8; ++i) key_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
}

SeededRng::~SeededRng() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(block_.data(), block_.size());
}

void SeededRng::refill() {
  static constexpr std::uint8_t kZeroNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  std::fill(block_.begin(), block_.end(), 0);
  // Keystream block `counter_`: encrypting zeros yields the keystream itself.
  if (crypto_stream_chacha20_ietf_xor_ic(block_.data(), block_.data(), block_.size(), kZeroNonce,
                                         counter_, key_.data()) != 0) {
    std::abort();
  }
  ++counter_;
  used_ = 0;
}

void SeededRng::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (used_ == block_.size()) refill();
    std::size_t n = std::min(out.size() - done, block_.size() - used_);
    std::copy_n(block_.begin() + static_cast<std::ptrdiff_t>(used_), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    used_ += n;
    done += n;
  }
}

std::uint32_t SeededRng::uniform(std::uint32_t bound) {
  if (bound <= 1) return 0;
  // Rejection sampling keeps the result unbiased.
  const std::uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  for (;;) {
    std::uint8_t b[4];
    fill(b);
    std::uint32_t v = get_u32be(b);
    if (v < limit) return v % bound;
  }
}

}  // namespace sotto
