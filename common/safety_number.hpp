// safety_number.hpp — the number two people compare (in person, or over a
// channel they trust) to verify that each holds the other's real identity key.
//
// In the style of Signal's numeric fingerprint. For each party with identity
// key IK (Ed25519 public, 32 bytes):
//
//   X_0 = "Sotto/v1/SafetyNumber" || u16be(kSafetyNumberVersion) || IK
//   X_i = SHA-512(X_{i-1} || IK)          for i = 1 .. kSafetyNumberIterations
//
// The party's 30 digits are six groups of five: group j (0..5) is the
// big-endian 40-bit integer of X_5200 bytes [5j, 5j+5) modulo 100000, written
// with leading zeros. The pair's number is the two 30-digit strings
// concatenated, the smaller (byte-wise, equivalently numerically) first, so
// both sides compute the same 60 digits whoever is "local". It changes when
// either key changes; it depends on nothing but the two keys.
//
// Everything here is public (keys and digits); nothing fails.
#pragma once

#include <cstdint>
#include <string>

#include "common/crypto.hpp"

namespace sotto {

inline constexpr std::uint16_t kSafetyNumberVersion = 1;
inline constexpr int kSafetyNumberIterations = 5200;
inline constexpr std::size_t kSafetyNumberDigits = 60;

// The 30 digits of one party.
std::string safety_number_half(const Ed25519PublicKey& identity);

struct SafetyNumber {
  std::string digits;  // exactly 60 ASCII digits

  // Twelve groups of five digits separated by single spaces (71 characters):
  // "12345 67890 ... 24680".
  std::string grouped() const;
  bool operator==(const SafetyNumber&) const = default;
};

// The pair's number; safety_number(a, b) == safety_number(b, a).
SafetyNumber safety_number(const Ed25519PublicKey& a, const Ed25519PublicKey& b);

}  // namespace sotto
