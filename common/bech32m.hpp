// bech32m.hpp — the generic Bech32m text codec (BIP-173 structure with the
// BIP-350 checksum constant), used for account ids (account_id.hpp).
//
// A Bech32m string is  hrp || "1" || data || checksum  where data and the
// 6-character checksum use the 32-character alphabet
// "qpzry9x8gf2tvdw0s3jn54khce6mua7l". The checksum is a BCH code over GF(32):
// for strings of at most 90 characters it always detects up to 4 substituted
// characters, and misses other common error patterns with probability about
// 2^-30 (BIP-350, appendix).
//
// decode() follows BIP-173's decoder rules exactly (length <= 90, characters
// 33..126, no mixed case, last '1' is the separator, non-empty hrp, at least 6
// data characters) and then checks the Bech32m constant; it never corrects an
// error. Upper-case input is accepted only when the whole string is upper case,
// and the returned hrp is lower case. Failures are DecodeError values:
//   kBadLength     longer than 90 characters, or fewer than 6 checksum characters
//   kBadCharacter  a character outside 33..126, mixed case, or a data character
//                  outside the alphabet
//   kMalformed     no separator, or an empty hrp
//   kBadChecksum   the checksum does not verify (a typo)
// encode() takes a lower-case hrp and 5-bit values; it returns nullopt when
// the result would violate the same rules (a programming error by the caller).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto::bech32m {

inline constexpr std::size_t kMaxLength = 90;
inline constexpr std::size_t kChecksumLength = 6;
inline constexpr std::uint32_t kConst = 0x2bc830a3;  // BIP-350 (Bech32 used 1)

// The decoded parts: the hrp (lower case) and the data as 5-bit values, checksum removed.
struct Decoded {
  std::string hrp;
  std::vector<std::uint8_t> data;
};

// hrp || "1" || data || checksum in lower case, or nullopt if hrp is empty, has a
// character outside 33..126 or an upper-case letter, a value is >= 32, or the
// result would exceed kMaxLength.
std::optional<std::string> encode(std::string_view hrp, const std::vector<std::uint8_t>& data);

Result<Decoded, DecodeError> decode(std::string_view text);

// Regroups bytes into 5-bit values, most significant bit first, padding the last
// group with zero bits (BIP-173 convertbits(data, 8, 5, pad=True)).
std::vector<std::uint8_t> bytes_to_5bit(ByteView bytes);
// The inverse: nullopt if a value is >= 32, if more than 4 bits are left over,
// or if the left-over bits are not all zero (convertbits(data, 5, 8, pad=False)).
std::optional<Bytes> bytes_from_5bit(const std::vector<std::uint8_t>& values);

}  // namespace sotto::bech32m
