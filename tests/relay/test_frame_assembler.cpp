// test_frame_assembler.cpp — reassembly of length-prefixed frames from bytes
// as they arrive (server/frame_assembler.hpp): whole frames are handed out in
// place, split frames (down to one byte at a time) are reassembled, a length
// of 0 or over the maximum is refused on its prefix before any body byte is
// taken, and nothing is held between frames.
#include <catch2/catch.hpp>

#include <vector>

#include "server/frame_assembler.hpp"

using namespace sotto;
using namespace sotto::relay;

namespace {

Bytes framed(std::size_t len, std::uint8_t fill) {
  Bytes f{static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len & 0xff)};
  f.insert(f.end(), len, fill);
  return f;
}

// Feeds `stream` in chunks of `chunk` bytes; returns the bodies handed out.
std::vector<Bytes> feed(FrameAssembler& a, const Bytes& stream, std::size_t chunk,
                        std::size_t max_body = 1000) {
  std::vector<Bytes> out;
  for (std::size_t off = 0; off < stream.size(); off += chunk) {
    ByteView in = ByteView(stream).subspan(off, std::min(chunk, stream.size() - off));
    for (;;) {
      const auto step = a.next(in, max_body);
      if (step == FrameAssembler::Step::kFrame) {
        out.emplace_back(a.body().begin(), a.body().end());
        continue;
      }
      REQUIRE(step == FrameAssembler::Step::kNeedMore);
      REQUIRE(in.empty());
      break;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("frames are reassembled whatever the chunking", "[frame_assembler]") {
  Bytes stream;
  append(stream, framed(1, 0xa1));
  append(stream, framed(300, 0xb2));
  append(stream, framed(1000, 0xc3));
  append(stream, framed(7, 0xd4));
  for (std::size_t chunk : {1u, 2u, 3u, 299u, 302u, 4096u}) {
    FrameAssembler a;
    auto bodies = feed(a, stream, chunk);
    INFO("chunk " << chunk);
    REQUIRE(bodies.size() == 4);
    CHECK(bodies[0] == Bytes(1, 0xa1));
    CHECK(bodies[1] == Bytes(300, 0xb2));
    CHECK(bodies[2] == Bytes(1000, 0xc3));
    CHECK(bodies[3] == Bytes(7, 0xd4));
    CHECK_FALSE(a.in_frame());
  }
}

TEST_CASE("a whole frame is handed out in place, a split one is held only until handed out",
          "[frame_assembler]") {
  const Bytes f = framed(100, 0x55);
  FrameAssembler a;
  ByteView in(f);
  REQUIRE(a.next(in, 1000) == FrameAssembler::Step::kFrame);
  CHECK(a.body().data() == f.data() + 2);  // no copy
  CHECK(a.held() == 0);

  ByteView first = ByteView(f).first(40), rest = ByteView(f).subspan(40);
  REQUIRE(a.next(first, 1000) == FrameAssembler::Step::kNeedMore);
  CHECK(a.in_frame());
  CHECK(a.frame_length() == 100);
  CHECK(a.held() == 100);
  REQUIRE(a.next(rest, 1000) == FrameAssembler::Step::kFrame);
  CHECK(a.body().size() == 100);
  ByteView none;
  REQUIRE(a.next(none, 1000) == FrameAssembler::Step::kNeedMore);
  CHECK(a.held() == 0);  // freed once the frame was used
  CHECK_FALSE(a.in_frame());
}

TEST_CASE("a length of 0 or over the maximum is refused on the prefix", "[frame_assembler]") {
  {
    FrameAssembler a;
    Bytes zero{0x00, 0x00, 0x01, 0x02};
    ByteView in(zero);
    CHECK(a.next(in, 1000) == FrameAssembler::Step::kRefused);
    CHECK(in.size() == 2);  // no body byte taken
  }
  {
    FrameAssembler a;
    const Bytes big = framed(1001, 0x00);
    ByteView p1 = ByteView(big).first(1), p2 = ByteView(big).subspan(1);
    CHECK(a.next(p1, 1000) == FrameAssembler::Step::kNeedMore);
    CHECK_FALSE(a.in_frame());  // half a prefix is not a frame yet
    CHECK(a.next(p2, 1000) == FrameAssembler::Step::kRefused);
    CHECK(p2.size() == 1001);
    CHECK(a.frame_length() == 1001);
    CHECK(a.held() == 0);
  }
  {
    FrameAssembler a;
    const Bytes max = framed(1000, 0x01);
    ByteView in(max);
    CHECK(a.next(in, 1000) == FrameAssembler::Step::kFrame);
  }
}
