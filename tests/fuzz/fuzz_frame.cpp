// fuzz_frame.cpp — FrameDecoder (common/frame.hpp) on an arbitrary byte stream
// cut at arbitrary points.
//
// Input: max_body u16be || cut seed u8 || stream. The stream is fed once
// whole and once in pieces whose sizes the cut seed and the stream choose.
// Properties (abort on violation): both decoders agree on every frame and on
// the error; the frames respect max_body and are never empty; re-encoding the
// frames gives back exactly the stream prefix they came from; after an error
// the decoder stays failed; finish() is ok exactly when nothing is buffered.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/frame.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;

namespace {

struct Outcome {
  std::vector<Bytes> frames;
  std::optional<DecodeError> error;
  std::size_t buffered = 0;
};

Outcome feed_in_pieces(std::size_t max_body, ByteView stream, std::uint8_t cut_seed) {
  FrameDecoder d(max_body);
  Outcome out;
  std::size_t pos = 0;
  std::uint32_t state = cut_seed;
  while (pos < stream.size()) {
    // Piece sizes 0..7 and, now and then, a long one: splits inside the
    // prefix, at its end, inside bodies and across several frames.
    state = state * 1103515245u + 12345u;
    std::size_t piece = (state >> 16) % 8;
    if (((state >> 8) & 0xF) == 0) piece = (state >> 4) % 300;
    piece = std::min(piece, stream.size() - pos);
    auto r = d.feed(stream.subspan(pos, piece));
    pos += piece;
    if (!r.ok()) {
      out.error = r.error();
      // A failed decoder stays failed.
      auto again = d.feed(stream.subspan(pos));
      SOTTO_FUZZ_CHECK(!again.ok() && again.error() == r.error(), "failed decoder recovered");
      SOTTO_FUZZ_CHECK(d.failed(), "failed() after an error");
      return out;
    }
    for (auto& f : *r) out.frames.push_back(std::move(f));
  }
  out.buffered = d.buffered();
  SOTTO_FUZZ_CHECK(d.finish().ok() == (d.buffered() == 0), "finish() vs buffered()");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::size_t max_body = static_cast<std::size_t>(data[0]) << 8 | data[1];
  const std::uint8_t cut_seed = data[2];
  const ByteView stream(data + 3, size - 3);

  // Whole.
  FrameDecoder whole(max_body);
  auto r = whole.feed(stream);
  Outcome a;
  if (r.ok()) {
    a.frames = std::move(r).value();
    a.buffered = whole.buffered();
  } else {
    a.error = r.error();
  }

  // In pieces.
  Outcome b = feed_in_pieces(max_body, stream, cut_seed);

  SOTTO_FUZZ_CHECK(a.error == b.error, "whole and piecewise errors differ");
  // On an error the whole feed discards its frames while the piecewise one may
  // have returned some earlier: those must still be a prefix of the framing
  // (checked below).
  if (!a.error) {
    SOTTO_FUZZ_CHECK(a.frames == b.frames, "whole and piecewise frames differ");
    SOTTO_FUZZ_CHECK(a.buffered == b.buffered, "whole and piecewise buffered differ");
  }

  // Re-encoding the frames reproduces the stream they were cut from.
  const std::size_t limit = std::clamp<std::size_t>(max_body, 1, kMaxFrameBody);
  Bytes reencoded;
  for (const Bytes& f : b.frames) {
    SOTTO_FUZZ_CHECK(!f.empty() && f.size() <= limit, "frame size outside [1, max_body]");
    auto e = encode_frame(f, max_body);
    SOTTO_FUZZ_CHECK(e.ok(), "encode_frame of a decoded frame");
    append(reencoded, *e);
  }
  SOTTO_FUZZ_CHECK(reencoded.size() <= stream.size() &&
                       std::equal(reencoded.begin(), reencoded.end(), stream.begin()),
                   "frames are not the stream's prefix");
  if (!a.error) {
    SOTTO_FUZZ_CHECK(reencoded.size() + a.buffered == stream.size(), "frames + buffered != stream");
  }
  return 0;
}
