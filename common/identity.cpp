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

Result<void, ProtocolError> check_peer_x25519(const X25519PublicKey& key) {
  // Low order: X25519 with any clamped scalar (a multiple of 8) maps every
  // point of order dividing 8, on the curve or its twist, to u = 0. The scalar
  // is a public constant: this is a test of the point, not a key agreement.
  static constexpr std::uint8_t kProbeScalar[32] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                                    0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
                                                    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                                                    0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
  X25519SecretKey probe = X25519SecretKey::copy_of(ByteView(kProbeScalar, sizeof kProbeScalar));
  auto dh = crypto::x25519(probe, key);
  if (!dh) return fail(ProtocolError::kLowOrderKey);
  if (!is_canonical_x25519(key)) return fail(ProtocolError::kMalformed);
  return {};
}

}  // namespace sotto
