// bech32m.cpp — Bech32m encoding and decoding (BIP-173 rules, BIP-350 constant).
#include "common/bech32m.hpp"

#include <array>

namespace sotto::bech32m {
namespace {

constexpr std::string_view kAlphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

// The generator of the BCH code, one word per bit of the top 5 bits shifted out.
constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                                     0x2a1462b3};

// Residue of the polynomial whose coefficients are the 5-bit values fed so far.
class Polymod {
 public:
  void feed(std::uint32_t v) {
    const std::uint32_t top = acc_ >> 25;
    acc_ = ((acc_ & 0x1ffffff) << 5) ^ v;
    for (std::size_t i = 0; i < kGenerator.size(); ++i) {
      if ((top >> i) & 1) acc_ ^= kGenerator[i];
    }
  }
  // The hrp enters as its high bits, a zero, then its low bits (hrp_expand).
  void feed_hrp(std::string_view hrp) {
    for (char c : hrp) feed(static_cast<std::uint32_t>(static_cast<unsigned char>(c) >> 5));
    feed(0);
    for (char c : hrp) feed(static_cast<std::uint32_t>(static_cast<unsigned char>(c) & 31));
  }
  std::uint32_t value() const { return acc_; }

 private:
  std::uint32_t acc_ = 1;
};

// -1 for a character outside the alphabet (lower case only).
int alphabet_index(char c) {
  const auto pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
char to_lower(char c) {
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::optional<std::string> encode(std::string_view hrp, const std::vector<std::uint8_t>& data) {
  if (hrp.empty() || hrp.size() + 1 + data.size() + kChecksumLength > kMaxLength) {
    return std::nullopt;
  }
  for (char c : hrp) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || is_upper(c)) return std::nullopt;
  }
  Polymod pm;
  pm.feed_hrp(hrp);
  std::string out(hrp);
  out.push_back('1');
  for (std::uint8_t v : data) {
    if (v >= 32) return std::nullopt;
    pm.feed(v);
    out.push_back(kAlphabet[v]);
  }
  // checksum: the six values that make polymod(hrp, data, checksum) == kConst.
  for (std::size_t i = 0; i < kChecksumLength; ++i) pm.feed(0);
  const std::uint32_t check = pm.value() ^ kConst;
  for (std::size_t i = 0; i < kChecksumLength; ++i) {
    out.push_back(kAlphabet[(check >> (5 * (kChecksumLength - 1 - i))) & 31]);
  }
  return out;
}

Result<Decoded, DecodeError> decode(std::string_view text) {
  if (text.size() > kMaxLength) return fail(DecodeError::kBadLength);
  bool has_lower = false;
  bool has_upper = false;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return fail(DecodeError::kBadCharacter);
    has_lower = has_lower || is_lower(c);
    has_upper = has_upper || is_upper(c);
  }
  // Mixed case is never valid (BIP-173); an all-upper string is read as lower case.
  if (has_lower && has_upper) return fail(DecodeError::kBadCharacter);

  const auto sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0) return fail(DecodeError::kMalformed);
  if (text.size() - sep - 1 < kChecksumLength) return fail(DecodeError::kBadLength);

  Decoded out;
  out.hrp.reserve(sep);
  for (std::size_t i = 0; i < sep; ++i) out.hrp.push_back(to_lower(text[i]));

  Polymod pm;
  pm.feed_hrp(out.hrp);
  std::vector<std::uint8_t> values;
  values.reserve(text.size() - sep - 1);
  for (std::size_t i = sep + 1; i < text.size(); ++i) {
    const int v = alphabet_index(to_lower(text[i]));
    if (v < 0) return fail(DecodeError::kBadCharacter);
    values.push_back(static_cast<std::uint8_t>(v));
    pm.feed(static_cast<std::uint32_t>(v));
  }
  if (pm.value() != kConst) return fail(DecodeError::kBadChecksum);
  values.resize(values.size() - kChecksumLength);
  out.data = std::move(values);
  return out;
}

std::vector<std::uint8_t> bytes_to_5bit(ByteView bytes) {
  std::vector<std::uint8_t> out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t acc = 0;
  unsigned bits = 0;
  for (std::uint8_t b : bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (5 - bits)) & 31));
  return out;
}

std::optional<Bytes> bytes_from_5bit(const std::vector<std::uint8_t>& values) {
  Bytes out;
  out.reserve(values.size() * 5 / 8);
  std::uint32_t acc = 0;
  unsigned bits = 0;
  for (std::uint8_t v : values) {
    if (v >= 32) return std::nullopt;
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  // What is left must be fewer than 5 zero bits of padding.
  if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace sotto::bech32m
