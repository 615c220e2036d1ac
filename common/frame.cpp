// frame.cpp — 2-byte big-endian length framing and the incremental decoder.
#include "common/frame.hpp"

#include <algorithm>

namespace sotto {

namespace {
std::size_t clamp_max(std::size_t max_body) {
  return std::clamp<std::size_t>(max_body, 1, kMaxFrameBody);
}
}  // namespace

Result<Bytes, DecodeError> encode_frame(ByteView body, std::size_t max_body) {
  if (body.empty()) return fail(DecodeError::kMalformed);
  if (body.size() > clamp_max(max_body)) return fail(DecodeError::kTooLarge);
  Bytes out;
  out.reserve(kFrameHeaderLen + body.size());
  put_u16be(out, static_cast<std::uint16_t>(body.size()));
  append(out, body);
  return out;
}

FrameDecoder::FrameDecoder(std::size_t max_body) : max_body_(clamp_max(max_body)) {}

void FrameDecoder::set_max_body(std::size_t max_body) {
  max_body_ = clamp_max(max_body);
}

Result<std::vector<Bytes>, DecodeError> FrameDecoder::feed(ByteView data) {
  if (error_) return fail(*error_);
  std::vector<Bytes> frames;
  while (!data.empty()) {
    if (header_len_ < kFrameHeaderLen) {
      // The length prefix, possibly split across feeds.
      header_[header_len_++] = data.front();
      data = data.subspan(1);
      if (header_len_ < kFrameHeaderLen) continue;
      expected_ = get_u16be(header_);
      // Checked before any body byte is buffered.
      if (expected_ == 0) error_ = DecodeError::kMalformed;
      if (expected_ > max_body_) error_ = DecodeError::kTooLarge;
      if (error_) return fail(*error_);
      body_.reserve(expected_);
      continue;
    }
    const std::size_t take = std::min(expected_ - body_.size(), data.size());
    body_.insert(body_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
    data = data.subspan(take);
    if (body_.size() == expected_) {
      frames.push_back(std::move(body_));
      body_ = Bytes();
      header_len_ = 0;
      expected_ = 0;
    }
  }
  return frames;
}

Result<void, DecodeError> FrameDecoder::finish() const {
  if (error_) return fail(*error_);
  if (buffered() != 0) return fail(DecodeError::kTruncated);
  return {};
}

}  // namespace sotto
