// identity.cpp — identity keys and peer X25519 key checks (see identity.hpp).
#include "common/identity.hpp"

namespace sotto {

IdentityKeyPair generate_identity(Rng& rng) {
  return crypto::ed25519_generate(rng);
}

IdentityKeyPair identity_from_seed(const Ed25519Seed& seed) {
  return crypto::ed25519_from_seed(seed);
}

X25519SecretKey identity_dh_secret(const IdentityKeyPair& ik) {
  return crypto::ed25519_secret_to_x25519(ik.secret);
}

Result<X25519PublicKey, ProtocolError> identity_dh_public(const IdentityPublicKey& ik) {
  auto converted = crypto::ed25519_public_to_x25519(ik);
  if (!converted) return fail(ProtocolError::kMalformed);
  SOTTO_TRY_VOID(check_peer_x25519(*converted));
  return *converted;
}

bool is_canonical_x25519(const X25519PublicKey& key) {
  const auto& b = key.bytes;
  if ((b[31] & 0x80) != 0) return false;
  // p = 2^255 - 19 little-endian: ed ff .. ff 7f. u >= p exactly when the top
  // byte is 0x7f, bytes 1..30 are 0xff and byte 0 is >= 0xed.
  if (b[31] != 0x7f) return true;
  for (std::size_t i = 1; i < 31; ++i) {
    if (b[i] != 0xff) return true;
  }
  return b[0] < 0xed;
}

namespace {

// The u-coordinates of order dividing 8 on Curve25519 and its twist, as
// encodings with bit 255 clear: 0, 1, the two points of order 8, p - 1, and
// the non-canonical p (= 0) and p + 1 (= 1). No other 255-bit string reduces
// to one of these mod p (u + p < 2^255 only for u < 19). Found by multiplying
// random points of the curve by its prime order l and of the twist by its
// prime order; every entry makes X25519 output zero (tests/unit/test_prekeys.cpp
// checks this against the X25519 probe for each entry and for random keys).
constexpr std::size_t kLowOrderCount = 7;
constexpr std::uint8_t kLowOrder[kLowOrderCount][32] = {
    // 0
    {0},
    // 1
    {0x01},
    // 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
     0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
     0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    // 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
     0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
     0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    // p - 1
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p (non-canonical 0)
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    // p + 1 (non-canonical 1)
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

// True when `key` (bit 255 ignored) is one of the encodings above. Compares
// against all of them without branching on the key's bytes.
bool is_low_order_x25519(const X25519PublicKey& key) {
  unsigned matches = 0;
  for (const auto& low : kLowOrder) {
    unsigned diff = 0;
    for (std::size_t i = 0; i < 31; ++i) diff |= static_cast<unsigned>(key.bytes[i] ^ low[i]);
    diff |= static_cast<unsigned>((key.bytes[31] & 0x7f) ^ low[31]);
    // diff is 0..255: (diff - 1) >> 8 is 1 for 0 and 0 otherwise, without a branch.
    matches |= ((diff - 1u) >> 8) & 1u;
  }
  return (matches & 1u) != 0;
}

}  // namespace

Result<void, ProtocolError> check_peer_x25519(const X25519PublicKey& key) {
  // Low order: X25519 with any clamped scalar maps exactly the points of order
  // dividing 8 (on the curve or its twist) to zero; they are seven encodings,
  // so a comparison decides it without a scalar multiplication.
  if (is_low_order_x25519(key)) return fail(ProtocolError::kLowOrderKey);
  if (!is_canonical_x25519(key)) return fail(ProtocolError::kMalformed);
  return {};
}

}  // namespace sotto
