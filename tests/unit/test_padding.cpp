// test_padding.cpp — the power-of-two buckets with a 0x80 marker: sizes,
// round trips at every bucket edge, and strict rejection of every padding
// that is not the canonical one.
#include <catch2/catch.hpp>

#include "common/padding.hpp"

using namespace sotto;

namespace {
Bytes content_of(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::uint8_t>(i * 7 + 0x80);  // includes 0x80 and 0x00
  return b;
}
}  // namespace

TEST_CASE("padded sizes are the eight powers of two from 256 to 32768", "[padding]") {
  CHECK(padded_size(0) == 256u);
  CHECK(padded_size(255) == 256u);
  CHECK(padded_size(256) == 512u);
  CHECK(padded_size(511) == 512u);
  CHECK(padded_size(512) == 1024u);
  CHECK(padded_size(32767) == 32768u);
  CHECK_FALSE(padded_size(32768).has_value());
  CHECK(padded_size(kPadMaxContent) == 32768u);
  CHECK_FALSE(padded_size(kPadMaxContent + 1).has_value());

  std::size_t buckets = 0;
  for (std::size_t n = 0; n <= kPadMaxBucket + 1; ++n) {
    if (is_padded_size(n)) ++buckets;
  }
  CHECK(buckets == 8);
  CHECK_FALSE(is_padded_size(128));
  CHECK_FALSE(is_padded_size(257));
  CHECK_FALSE(is_padded_size(131072));
  // Overhead: never less than one byte, never more than 2x above the floor.
  for (std::size_t n = 256; n <= kPadMaxContent; n += 97) {
    const std::size_t p = *padded_size(n);
    CHECK(p > n);
    CHECK(p <= 2 * n + 1);
  }
}

TEST_CASE("pad and unpad round-trip at every bucket edge", "[padding]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{254}, std::size_t{255},
                        std::size_t{256}, std::size_t{511}, std::size_t{512}, std::size_t{1023},
                        std::size_t{4095}, std::size_t{16384}, kPadMaxContent}) {
    INFO(n);
    const Bytes c = content_of(n);
    auto p = pad(c);
    REQUIRE(p.ok());
    REQUIRE(p->size() == *padded_size(n));
    CHECK(p->data()[n] == 0x80);
    for (std::size_t i = n + 1; i < p->size(); ++i) REQUIRE(p->data()[i] == 0);
    auto len = unpadded_length(p->view());
    REQUIRE(len.ok());
    CHECK(*len == n);
    CHECK(std::equal(c.begin(), c.end(), p->data()));
  }
}

TEST_CASE("pad refuses contents above the largest bucket", "[padding]") {
  const Bytes c(kPadMaxContent + 1, 1);
  auto p = pad(c);
  REQUIRE_FALSE(p.ok());
  CHECK(p.error() == DecodeError::kTooLarge);
}

TEST_CASE("unpad rejects every non-canonical padding", "[padding]") {
  auto bad = [](const Bytes& b) {
    auto r = unpadded_length(b);
    return !r.ok() && r.error() == DecodeError::kBadPadding;
  };
  SECTION("a size that is not a bucket") {
    Bytes b(300, 0);
    b[0] = 0x80;
    CHECK(bad(b));
    CHECK(bad(Bytes{}));
    Bytes small(128, 0);
    small[0] = 0x80;
    CHECK(bad(small));
  }
  SECTION("all zeros: no marker") {
    CHECK(bad(Bytes(256, 0)));
  }
  SECTION("a non-zero byte other than 0x80 after the content") {
    for (std::uint8_t last :
         {std::uint8_t{0x01}, std::uint8_t{0x7f}, std::uint8_t{0x81}, std::uint8_t{0xff}}) {
      Bytes b(256, 0);
      b[10] = 0x80;
      b[255] = last;
      CHECK(bad(b));
      Bytes c(256, 0);
      c[10] = last;  // the last non-zero byte is not the marker
      CHECK(bad(c));
    }
  }
  SECTION("a content that belongs in a smaller bucket") {
    Bytes b(512, 0);
    b[255] = 0x80;  // 255 bytes of content fit the 256 bucket
    CHECK(bad(b));
    Bytes c(512, 0);
    c[256] = 0x80;  // 256 bytes need 512: accepted
    auto r = unpadded_length(c);
    REQUIRE(r.ok());
    CHECK(*r == 256);
  }
  SECTION("every single-byte change of the padding region is caught") {
    auto p = pad(content_of(100));
    REQUIRE(p.ok());
    for (std::size_t i = 100; i < p->size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes b(p->view().begin(), p->view().end());
        b[i] = static_cast<std::uint8_t>(b[i] ^ (1u << bit));
        auto r = unpadded_length(b);
        // Setting bit 7 of a zero byte after the marker makes a new marker: a
        // valid padding of a longer content (which is why padding lives inside
        // the AEAD). Every other change is rejected; none gives back 100.
        if (r.ok()) CHECK(*r != 100);
        if (i == 100 || bit != 7) CHECK_FALSE(r.ok());
      }
    }
  }
}
