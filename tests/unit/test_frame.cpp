// test_frame.cpp — the 2-byte big-endian length framing (common/frame.hpp):
// round trips, reads split at every byte, the maximum and maximum + 1, zero
// length, truncated prefixes and bodies, and the decoder's bounded buffering.
#include <catch2/catch.hpp>

#include "common/crypto.hpp"
#include "common/frame.hpp"
#include "common/rng.hpp"

using namespace sotto;

namespace {
Bytes body_of(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}
}  // namespace

TEST_CASE("encode_frame writes a 2-byte big-endian length then the body", "[frame]") {
  auto f = encode_frame(Bytes{0xAA, 0xBB, 0xCC});
  REQUIRE(f.ok());
  CHECK(*f == Bytes{0x00, 0x03, 0xAA, 0xBB, 0xCC});
  auto big = encode_frame(body_of(0x1234, 1));
  REQUIRE(big.ok());
  CHECK((*big)[0] == 0x12);
  CHECK((*big)[1] == 0x34);
  CHECK(big->size() == 2 + 0x1234);
}

TEST_CASE("encode_frame limits: 65535 passes, 65536 and empty do not", "[frame]") {
  auto max = encode_frame(body_of(kMaxFrameBody, 3));
  REQUIRE(max.ok());
  CHECK((*max)[0] == 0xFF);
  CHECK((*max)[1] == 0xFF);
  CHECK(encode_frame(body_of(kMaxFrameBody + 1, 3)).error() == DecodeError::kTooLarge);
  CHECK(encode_frame(Bytes{}).error() == DecodeError::kMalformed);
  // A smaller configured maximum.
  CHECK(encode_frame(body_of(100, 0), 100).ok());
  CHECK(encode_frame(body_of(101, 0), 100).error() == DecodeError::kTooLarge);
}

TEST_CASE("several frames in one feed come out in order", "[frame]") {
  const Bytes a = body_of(1, 1), b = body_of(300, 2), c = body_of(16, 3);
  Bytes stream = concat(*encode_frame(a), *encode_frame(b), *encode_frame(c));
  FrameDecoder d;
  auto frames = d.feed(stream);
  REQUIRE(frames.ok());
  REQUIRE(frames->size() == 3);
  CHECK((*frames)[0] == a);
  CHECK((*frames)[1] == b);
  CHECK((*frames)[2] == c);
  CHECK(d.buffered() == 0);
  CHECK(d.finish().ok());
}

TEST_CASE("frames split across feeds at every byte, and byte by byte", "[frame]") {
  const Bytes a = body_of(5, 9), b = body_of(70, 4);
  const Bytes stream = concat(*encode_frame(a), *encode_frame(b));
  // Every split point into two feeds.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO(cut);
    FrameDecoder d;
    auto first = d.feed(ByteView(stream).first(cut));
    REQUIRE(first.ok());
    auto second = d.feed(ByteView(stream).subspan(cut));
    REQUIRE(second.ok());
    std::vector<Bytes> all = *first;
    all.insert(all.end(), second->begin(), second->end());
    REQUIRE(all.size() == 2);
    CHECK(all[0] == a);
    CHECK(all[1] == b);
    CHECK(d.finish().ok());
  }
  // One byte at a time: a frame appears exactly when its last byte arrives.
  FrameDecoder d;
  std::vector<Bytes> got;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    auto out = d.feed(ByteView(stream).subspan(i, 1));
    REQUIRE(out.ok());
    const bool ends_a = i == 2 + a.size() - 1;
    const bool ends_b = i == stream.size() - 1;
    CHECK(out->size() == ((ends_a || ends_b) ? 1u : 0u));
    got.insert(got.end(), out->begin(), out->end());
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0] == a);
  CHECK(got[1] == b);
}

TEST_CASE("decoder maximum: max passes, max + 1 fails on the prefix alone", "[frame]") {
  SECTION("the default maximum, 65535") {
    FrameDecoder d;
    auto f = d.feed(*encode_frame(body_of(kMaxFrameBody, 5)));
    REQUIRE(f.ok());
    REQUIRE(f->size() == 1);
    CHECK((*f)[0].size() == kMaxFrameBody);
  }
  SECTION("a configured maximum: only the 2 prefix bytes are needed to refuse") {
    FrameDecoder d(1000);
    CHECK(d.feed(*encode_frame(body_of(1000, 5))).ok());
    auto f = d.feed(Bytes{0x03, 0xE9});  // 1001
    REQUIRE_FALSE(f.ok());
    CHECK(f.error() == DecodeError::kTooLarge);
    CHECK(d.failed());
    CHECK(d.buffered() <= 2);
    // Failed for good: framing is lost.
    CHECK(d.feed(*encode_frame(body_of(1, 0))).error() == DecodeError::kTooLarge);
    CHECK(d.finish().error() == DecodeError::kTooLarge);
  }
  SECTION("set_max_body applies to the next prefix") {
    FrameDecoder d(kMaxFrameBody);
    d.set_max_body(16);
    CHECK(d.max_body() == 16);
    CHECK(d.feed(*encode_frame(body_of(17, 0))).error() == DecodeError::kTooLarge);
  }
  SECTION("maxima outside [1, 65535] are clamped") {
    CHECK(FrameDecoder(0).max_body() == 1);
    CHECK(FrameDecoder(1u << 20).max_body() == kMaxFrameBody);
  }
}

TEST_CASE("a zero-length frame is rejected", "[frame]") {
  FrameDecoder d;
  const Bytes stream = concat(*encode_frame(body_of(3, 0)), Bytes{0x00, 0x00});
  auto f = d.feed(stream);
  REQUIRE_FALSE(f.ok());
  CHECK(f.error() == DecodeError::kMalformed);
  CHECK(d.failed());
}

TEST_CASE("end of stream inside a prefix or a body is truncation", "[frame]") {
  {
    FrameDecoder d;
    REQUIRE(d.feed(Bytes{0x00}).ok());  // one prefix byte
    CHECK(d.buffered() == 1);
    CHECK(d.finish().error() == DecodeError::kTruncated);
  }
  {
    FrameDecoder d;
    Bytes f = *encode_frame(body_of(10, 0));
    f.pop_back();
    auto out = d.feed(f);
    REQUIRE(out.ok());
    CHECK(out->empty());
    CHECK(d.buffered() == 11);
    CHECK(d.finish().error() == DecodeError::kTruncated);
  }
  {
    FrameDecoder d;
    CHECK(d.finish().ok());  // nothing at all is a clean end
  }
}

TEST_CASE("random streams cut at random points decode to what was framed", "[frame]") {
  SeededRng rng(0xF4A3E);
  std::vector<Bytes> bodies;
  Bytes stream;
  for (int i = 0; i < 200; ++i) {
    Bytes b = crypto::random_bytes(rng, 1 + rng.uniform(2000));
    append(stream, *encode_frame(b));
    bodies.push_back(std::move(b));
  }
  FrameDecoder d(2000);
  std::vector<Bytes> got;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t n = std::min<std::size_t>(1 + rng.uniform(3000), stream.size() - pos);
    auto out = d.feed(ByteView(stream).subspan(pos, n));
    REQUIRE(out.ok());
    got.insert(got.end(), out->begin(), out->end());
    CHECK(d.buffered() <= kFrameHeaderLen + 2000);  // bounded by one frame
    pos += n;
  }
  CHECK(got == bodies);
  CHECK(d.finish().ok());
}
