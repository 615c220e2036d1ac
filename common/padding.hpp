// padding.hpp — padding of sealed contents to a few fixed sizes, so that the
// length of an envelope says little about the length of what it carries.
//
// Buckets: the powers of two from 256 to 32768 bytes (eight sizes). A content
// of n bytes is padded to the smallest bucket B with B >= n + 1:
//
//   padded = content || 0x80 || 0x00 * (B - n - 1)
//
// (ISO/IEC 7816-4 style: one marker byte, then zeros). The padded size
// reveals only which of the eight buckets the content fell into: at most
// log2(8) = 3 bits per message. Overhead: at least 1 byte; below 256 bytes
// the content is padded up to 256; above that, less than 2x (the worst case is
// a content of exactly 2^k bytes, which needs 2^(k+1)).
//
// The format is canonical and checked strictly by unpadded_length(): the
// input size must be a bucket, the last non-zero byte must be 0x80, and the
// bucket must be the smallest one for the content length that results (a
// content that would fit a smaller bucket is not accepted in a larger one).
// Anything else is DecodeError::kBadPadding. pad() of more than 32767 bytes is
// DecodeError::kTooLarge. The scan for the marker does not branch on the
// bytes it reads.
#pragma once

#include <cstddef>
#include <optional>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto {

inline constexpr std::size_t kPadMinBucket = 256;
inline constexpr std::size_t kPadMaxBucket = 32768;
// 32 KiB, not 64: the largest envelope, inside a relay Send request, must fit one
// Noise transport message (65535 bytes less the 16-byte tag).
// The largest content that fits: the largest bucket less the marker byte.
inline constexpr std::size_t kPadMaxContent = kPadMaxBucket - 1;

// The padded size of a content of `content_len` bytes, or nullopt above kPadMaxContent.
std::optional<std::size_t> padded_size(std::size_t content_len);

// True when `n` is one of the bucket sizes.
bool is_padded_size(std::size_t n);

// content || 0x80 || zeros, in secret memory (a padded plaintext). kTooLarge
// above kPadMaxContent.
Result<SecretBytes, DecodeError> pad(ByteView content);

// The length of the content inside `padded` (its first bytes), or kBadPadding.
Result<std::size_t, DecodeError> unpadded_length(ByteView padded);

}  // namespace sotto
