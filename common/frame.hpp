// frame.hpp — the framing of Noise messages on a TCP stream: every message is
// preceded by its length as a 2-byte big-endian integer (docs/protocol.md section 60).
//
//   frame = length (u16, big-endian) || body (length bytes), 1 <= length <= max
//
// A zero-length frame is never valid (no Noise message is empty: a transport
// message carries at least its 16-byte tag) and is rejected as kMalformed.
//
// FrameDecoder is I/O-free: the caller feeds whatever bytes arrived, in pieces
// of any size, and gets back the frames they complete. The length prefix is
// checked against the configured maximum as soon as its two bytes arrive,
// before any body byte is buffered, so at most 2 + max bytes are ever held.
//
// What fails: feed() returns kTooLarge for a length above the maximum and
// kMalformed for a zero length; finish() returns kTruncated at end of stream
// when part of a frame (even one prefix byte) is buffered. A decoder that has
// failed stays failed (every later feed returns the same error): framing is
// lost and the owner must close the connection. Frames completed earlier in
// the same feed() call as the error are discarded with it.
// Ownership: the decoder owns its partial frame; returned frames belong to
// the caller. Frame bodies are ciphertext (public bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto {

inline constexpr std::size_t kFrameHeaderLen = 2;
// The largest body a 2-byte prefix can describe; also Noise's message limit.
inline constexpr std::size_t kMaxFrameBody = 65535;

// length || body. kMalformed for an empty body, kTooLarge above `max_body`
// (which is itself capped at kMaxFrameBody).
Result<Bytes, DecodeError> encode_frame(ByteView body, std::size_t max_body = kMaxFrameBody);

class FrameDecoder {
 public:
  // `max_body` in [1, kMaxFrameBody]; values outside are clamped into it.
  explicit FrameDecoder(std::size_t max_body = kMaxFrameBody);

  // Consumes all of `data`; returns the frames (bodies) it completed, in order.
  Result<std::vector<Bytes>, DecodeError> feed(ByteView data);

  // At end of stream: ok when no partial frame is buffered, else kTruncated.
  Result<void, DecodeError> finish() const;

  // Changes the maximum for frames whose prefix has not yet been read.
  void set_max_body(std::size_t max_body);
  std::size_t max_body() const { return max_body_; }
  // Bytes held for the frame in progress (prefix and body).
  std::size_t buffered() const { return header_len_ + body_.size(); }
  bool failed() const { return error_.has_value(); }

 private:
  std::size_t max_body_;
  std::uint8_t header_[kFrameHeaderLen] = {};
  std::size_t header_len_ = 0;
  std::size_t expected_ = 0;  // body length once the prefix is complete
  Bytes body_;
  std::optional<DecodeError> error_;
};

}  // namespace sotto
