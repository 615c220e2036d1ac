// padding.cpp — power-of-two buckets with a 0x80 marker (see padding.hpp).
#include "common/padding.hpp"

#include <algorithm>
#include <cstdint>

namespace sotto {

std::optional<std::size_t> padded_size(std::size_t content_len) {
  if (content_len > kPadMaxContent) return std::nullopt;
  std::size_t bucket = kPadMinBucket;
  while (bucket < content_len + 1) bucket *= 2;
  return bucket;
}

bool is_padded_size(std::size_t n) {
  return n >= kPadMinBucket && n <= kPadMaxBucket && (n & (n - 1)) == 0;
}

Result<SecretBytes, DecodeError> pad(ByteView content) {
  const auto size = padded_size(content.size());
  if (!size) return fail(DecodeError::kTooLarge);
  SecretBytes out(*size);  // zero-filled
  std::copy(content.begin(), content.end(), out.data());
  out.data()[content.size()] = 0x80;
  return out;
}

Result<std::size_t, DecodeError> unpadded_length(ByteView padded) {
  if (!is_padded_size(padded.size())) return fail(DecodeError::kBadPadding);
  // From the end: zeros, then the 0x80 marker; any other byte before the
  // marker is an error. Masks instead of branches on the (secret) bytes.
  std::uint32_t found = 0;
  std::uint32_t bad = 0;
  std::size_t marker = 0;
  for (std::size_t i = padded.size(); i-- > 0;) {
    const std::uint32_t b = padded[i];
    const std::uint32_t is_zero = (b - 1) >> 31;              // 1 iff b == 0
    const std::uint32_t is_marker = ((b ^ 0x80u) - 1) >> 31;  // 1 iff b == 0x80
    const std::uint32_t searching = found ^ 1;
    bad |= searching & (is_zero ^ 1) & (is_marker ^ 1);
    const std::uint32_t take = searching & is_marker;
    marker ^= (marker ^ i) & (std::size_t{0} - take);
    found |= take;
  }
  if (!found || bad) return fail(DecodeError::kBadPadding);
  // Canonical: the content must need exactly this bucket.
  if (padded_size(marker) != padded.size()) return fail(DecodeError::kBadPadding);
  return marker;
}

}  // namespace sotto
