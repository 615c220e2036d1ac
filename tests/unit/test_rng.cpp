// test_rng.cpp — SeededRng is exactly the stream docs/protocol ("Deterministic
// RNG") pins, so other implementations can regenerate tests/vectors/:
// the ChaCha20 (RFC 8439) keystream under key = seed, nonce = 12 zero bytes,
// block counter from 0, consumed in order; SeededRng(n) seeds with
// LE64(n) || 24 zero bytes; uniform(bound) is 4-byte big-endian rejection
// sampling. SystemRng is only checked for producing output.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <array>
#include <set>

#include "common/crypto.hpp"
#include "common/rng.hpp"

using namespace sotto;

namespace {

Bytes take(Rng& rng, std::size_t n) {
  Bytes out(n);
  rng.fill(out);
  return out;
}

// The reference: libsodium's ChaCha20-IETF keystream, key = seed, nonce = 0.
Bytes keystream(std::span<const std::uint8_t, 32> seed, std::size_t n) {
  static constexpr std::uint8_t kZeroNonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  Bytes out(n);
  REQUIRE(crypto_stream_chacha20_ietf(out.data(), out.size(), kZeroNonce, seed.data()) == 0);
  return out;
}

std::array<std::uint8_t, 32> seed_of(std::uint64_t n) {
  std::array<std::uint8_t, 32> s{};
  for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<std::uint8_t>(n >> (8 * i));
  return s;
}

}  // namespace

TEST_CASE("SeededRng(0) is the RFC 8439 A.1 ChaCha20 keystream (key 0, nonce 0)", "[rng]") {
  // RFC 8439 appendix A.1, test vectors #1 (block counter 0) and #2 (counter 1).
  SeededRng rng(std::uint64_t{0});
  CHECK(to_hex(take(rng, 64)) ==
        "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
        "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
  CHECK(to_hex(take(rng, 64)) ==
        "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
        "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f");
}

TEST_CASE("SeededRng equals libsodium's crypto_stream_chacha20_ietf with key = seed, nonce = 0",
          "[rng]") {
  SeededRng seeds(std::uint64_t{0x5eed});
  for (int i = 0; i < 8; ++i) {
    std::array<std::uint8_t, 32> seed{};
    seeds.fill(seed);
    SeededRng rng(seed);
    CHECK(take(rng, 1000) == keystream(seed, 1000));
  }
}

TEST_CASE("SeededRng(n) seeds with the 8-byte little-endian n then 24 zero bytes", "[rng]") {
  for (std::uint64_t n :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0102030405060708}, ~std::uint64_t{0}}) {
    const auto seed = seed_of(n);
    SeededRng by_number(n);
    SeededRng by_seed(seed);
    const Bytes a = take(by_number, 200);
    CHECK(a == take(by_seed, 200));
    CHECK(a == keystream(seed, 200));
  }
}

TEST_CASE("SeededRng: same seed same stream, different seeds different streams", "[rng]") {
  SeededRng a(std::uint64_t{42});
  SeededRng b(std::uint64_t{42});
  SeededRng c(std::uint64_t{43});
  const Bytes sa = take(a, 512);
  CHECK(sa == take(b, 512));
  CHECK(sa != take(c, 512));
  std::array<std::uint8_t, 32> s1{};
  std::array<std::uint8_t, 32> s2{};
  s2[31] = 1;  // a difference in the last seed byte matters too
  SeededRng d(s1);
  SeededRng e(s2);
  CHECK(take(d, 64) != take(e, 64));
}

TEST_CASE("SeededRng: filling in pieces gives the same bytes as one fill", "[rng]") {
  const Bytes whole = [] {
    SeededRng r(std::uint64_t{7});
    return take(r, 1000);
  }();
  // Piece sizes that start, end and straddle 64-byte block boundaries.
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{63}, std::size_t{64},
                            std::size_t{65}, std::size_t{100}, std::size_t{129}}) {
    SeededRng r(std::uint64_t{7});
    Bytes got;
    while (got.size() < whole.size()) {
      append(got, take(r, std::min(piece, whole.size() - got.size())));
    }
    INFO("piece size " << piece);
    CHECK(got == whole);
  }
  // Mixed sizes, including empty fills, and uniform() drawing from the same stream.
  SeededRng r(std::uint64_t{7});
  Bytes got;
  for (std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{0}, std::size_t{59},
                        std::size_t{200}, std::size_t{1}}) {
    append(got, take(r, n));
  }
  CHECK(got == Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(got.size())));
  const std::uint32_t v = r.uniform(0xFFFFFFFFu);  // limit 0xFFFFFFFF - 0 = UINT32_MAX
  const std::size_t at = got.size();
  const std::uint32_t expect = get_u32be(whole.data() + at);
  if (expect < 0xFFFFFFFFu) CHECK(v == expect % 0xFFFFFFFFu);
}

TEST_CASE("SeededRng::uniform: 4 bytes big-endian, rejection at UINT32_MAX - UINT32_MAX % bound",
          "[rng]") {
  // A reference model over the raw stream.
  auto model = [](SeededRng& raw, std::uint32_t bound) -> std::uint32_t {
    if (bound <= 1) return 0;
    const std::uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
    for (;;) {
      std::uint8_t b[4];
      raw.fill(b);
      const std::uint32_t x = get_u32be(b);
      if (x < limit) return x % bound;
    }
  };
  // 2^31 + 1 rejects about half of all draws, so the rejection path runs.
  for (std::uint32_t bound : {2u, 3u, 6u, 10u, 1000u, 0x80000001u, 0xFFFFFFFFu}) {
    SeededRng rng(std::uint64_t{bound});
    SeededRng raw(std::uint64_t{bound});
    for (int i = 0; i < 500; ++i) {
      const std::uint32_t v = rng.uniform(bound);
      CHECK(v < bound);
      CHECK(v == model(raw, bound));
    }
    // Both consumed exactly the same number of bytes.
    CHECK(take(rng, 16) == take(raw, 16));
  }
  // bound 0 and 1 return 0 and consume nothing.
  SeededRng a(std::uint64_t{9});
  SeededRng b(std::uint64_t{9});
  CHECK(a.uniform(0) == 0);
  CHECK(a.uniform(1) == 0);
  CHECK(take(a, 32) == take(b, 32));
  // Every value of a small range turns up.
  SeededRng c(std::uint64_t{10});
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 600; ++i) seen.insert(c.uniform(6));
  CHECK(seen.size() == 6);
}

TEST_CASE("SystemRng fills buffers with fresh bytes", "[rng]") {
  SystemRng rng;
  const Bytes a = take(rng, 32);
  const Bytes b = take(rng, 32);
  CHECK(a != b);  // fails with probability 2^-256
  CHECK_FALSE(crypto::is_zero(a));
}
