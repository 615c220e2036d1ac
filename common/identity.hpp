// identity.hpp — the identity key (IK) and the checks every peer DH key passes.
//
// IK is an Ed25519 key pair made on the device; its public half is the account
// id. X3DH needs IK as an X25519 key: we use libsodium's birational map
// (crypto_sign_ed25519_pk_to_curve25519 / _sk_to_curve25519), so one key signs
// prekeys and takes part in DH.
//
// What fails: converting a peer's Ed25519 public key that is not a point on the
// curve or is of small order (kMalformed), and any peer X25519 key that is of
// low order (kLowOrderKey) or not the canonical encoding of a u < 2^255 - 19
// (kMalformed). The caller owns every key; the X25519 secret returned here is a
// fresh Secret the caller drops when done.
#pragma once

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"

namespace sotto {

using IdentityKeyPair = Ed25519KeyPair;
using IdentityPublicKey = Ed25519PublicKey;

// A fresh identity key: a 32-byte Ed25519 seed drawn from `rng`.
IdentityKeyPair generate_identity(Rng& rng);
// The identity key with the given seed (restoring a profile, test vectors).
IdentityKeyPair identity_from_seed(const Ed25519Seed& seed);

// IK's secret in X25519 form (the clamped scalar derived from SHA-512(seed)).
X25519SecretKey identity_dh_secret(const IdentityKeyPair& ik);
// A peer's IK in X25519 form. kMalformed when libsodium cannot convert it (not
// on the curve, or small order); kLowOrderKey if the result is low order.
[[nodiscard]] Result<X25519PublicKey, ProtocolError> identity_dh_public(
    const IdentityPublicKey& ik);

// The checks for any X25519 public key received from a peer (prekeys,
// ephemeral keys), applied in this order:
//   kLowOrderKey  X25519(k, u) is all zeros for a clamped scalar k, i.e. u
//                 (bit 255 ignored, reduced mod p) has order dividing 8;
//   kMalformed    bit 255 is set, or u >= p = 2^255 - 19 (not canonical).
[[nodiscard]] Result<void, ProtocolError> check_peer_x25519(const X25519PublicKey& key);

// True when `key` is the canonical encoding of a u-coordinate: bit 255 clear
// and u < 2^255 - 19.
bool is_canonical_x25519(const X25519PublicKey& key);

}  // namespace sotto
