// safety_number.cpp — iterated SHA-512 fingerprints of identity keys.
#include "common/safety_number.hpp"

#include <sodium.h>

#include <array>
#include <cstdlib>

namespace sotto {
namespace {

constexpr std::string_view kLabel = "Sotto/v1/SafetyNumber";

using Digest = std::array<std::uint8_t, crypto_hash_sha512_BYTES>;

// SHA-512(a || b), over public data only.
Digest sha512(ByteView a, ByteView b) {
  crypto_hash_sha512_state st;
  Digest out{};
  if (crypto_hash_sha512_init(&st) != 0 ||
      crypto_hash_sha512_update(&st, a.data(), a.size()) != 0 ||
      crypto_hash_sha512_update(&st, b.data(), b.size()) != 0 ||
      crypto_hash_sha512_final(&st, out.data()) != 0) {
    std::abort();  // libsodium cannot fail here
  }
  return out;
}

}  // namespace

std::string safety_number_half(const Ed25519PublicKey& identity) {
  ensure_sodium();
  // X_0 = label || u16be(version) || IK
  Bytes x0(label_bytes(kLabel).begin(), label_bytes(kLabel).end());
  put_u16be(x0, kSafetyNumberVersion);
  append(x0, identity.view());

  // X_1 = SHA-512(X_0 || IK); X_i = SHA-512(X_{i-1} || IK)
  Digest x = sha512(x0, identity.view());
  for (int i = 2; i <= kSafetyNumberIterations; ++i) x = sha512(x, identity.view());

  // Six 5-byte big-endian chunks, each mod 100000, as five digits.
  std::string out;
  out.reserve(30);
  for (std::size_t j = 0; j < 6; ++j) {
    std::uint64_t chunk = 0;
    for (std::size_t k = 0; k < 5; ++k) chunk = (chunk << 8) | x[5 * j + k];
    std::uint64_t group = chunk % 100000;
    char digits[5];
    for (int k = 4; k >= 0; --k) {
      digits[k] = static_cast<char>('0' + group % 10);
      group /= 10;
    }
    out.append(digits, 5);
  }
  return out;
}

SafetyNumber safety_number(const Ed25519PublicKey& a, const Ed25519PublicKey& b) {
  std::string ha = safety_number_half(a);
  std::string hb = safety_number_half(b);
  // The smaller half first: both parties get the same 60 digits.
  return SafetyNumber{ha <= hb ? ha + hb : hb + ha};
}

std::string SafetyNumber::grouped() const {
  std::string out;
  out.reserve(digits.size() + digits.size() / 5);
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (i > 0) out.push_back(' ');
    out.append(digits, i, 5);
  }
  return out;
}

}  // namespace sotto
