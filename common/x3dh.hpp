// x3dh.hpp — the X3DH key agreement (Signal's X3DH specification, section 3)
// between an initiator A holding a verified bundle of B's and the responder B.
//
//   DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)
//   DH4 = DH(EK_A, OPK_B)   (only when the bundle had a one-time prekey)
//   SK  = HKDF-SHA-256(salt = 32 x 0x00, IKM = F || DH1 || DH2 || DH3 [|| DH4],
//                      info = "Sotto/v1/X3DH", L = 32),  F = 32 x 0xFF
//   AD  = IK_A || IK_B   (the 32-byte Ed25519 public keys, i.e. the account ids)
// IK in DH means the identity key's X25519 form (identity.hpp).
//
// What fails: x3dh_initiate only with kLowOrderKey (a DH output of zero, which
// verify_bundle already rules out). decode_x3dh_header with DecodeError for a
// bad length, version or flags. x3dh_respond with kUnknownPrekey when the
// header's prekey ids and the keys the caller passed disagree, kLowOrderKey /
// kMalformed for a bad ephemeral or initiator identity key.
//
// Ownership: the caller owns every key. The responder's caller looks the signed
// and one-time prekeys up by the header's ids, and deletes the one-time prekey
// only after the first message of the session has decrypted (a forged header
// must not be able to burn it). SK is handed to the Double Ratchet and then dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

namespace sotto {

inline constexpr std::string_view kX3dhInfo = "Sotto/v1/X3DH";
inline constexpr std::uint8_t kX3dhHeaderVersion = 0x01;
inline constexpr std::uint8_t kX3dhFlagOneTimePreKey = 0x01;
inline constexpr std::size_t kX3dhAdSize = 64;
inline constexpr std::size_t kX3dhHeaderSizeWithoutOneTime = 1 + 1 + 32 + 32 + 4;             // 70
inline constexpr std::size_t kX3dhHeaderSizeWithOneTime = kX3dhHeaderSizeWithoutOneTime + 4;  // 74

// The 32-byte shared secret SK that seeds the Double Ratchet's root key.
using X3dhSharedKey = Secret<struct X3dhSharedKeyTag, 32>;

// What the initiator puts in front of its first message.
struct X3dhHeader {
  IdentityPublicKey initiator_identity;  // IK_A (Ed25519)
  X25519PublicKey ephemeral;             // EK_A
  PreKeyId signed_prekey_id = 0;
  std::optional<PreKeyId> one_time_prekey_id;
  bool operator==(const X3dhHeader&) const = default;
};

// version 0x01 || flags u8 (bit 0: OPK id present; others 0) || IK_A[32] ||
// EK_A[32] || signed_prekey_id u32be || [one_time_prekey_id u32be]   (70 or 74 bytes)
Bytes encode_x3dh_header(const X3dhHeader& header);
// kTruncated / kBadLength (length not the one the flags imply), kBadVersion,
// kMalformed (unknown flag bits).
[[nodiscard]] Result<X3dhHeader, DecodeError> decode_x3dh_header(ByteView in);

struct X3dhInitiated {
  X3dhSharedKey sk;
  Bytes ad;  // IK_A || IK_B, 64 bytes
  X3dhHeader header;
  // SPK_B: the Double Ratchet's first remote ratchet key.
  X25519PublicKey remote_ratchet_key;
};

struct X3dhResponded {
  X3dhSharedKey sk;
  Bytes ad;  // IK_A || IK_B, 64 bytes
};

// The initiator's side with a fresh ephemeral key EK_A drawn from `rng`.
[[nodiscard]] Result<X3dhInitiated, ProtocolError> x3dh_initiate(const IdentityKeyPair& ik_a,
                                                                 const VerifiedBundle& bundle,
                                                                 Rng& rng);
// The same with a given ephemeral key (test vectors). Never reuse an ephemeral key.
[[nodiscard]] Result<X3dhInitiated, ProtocolError> x3dh_initiate_with_ephemeral(
    const IdentityKeyPair& ik_a, const VerifiedBundle& bundle, const X25519KeyPair& ephemeral);

// The responder's side. `spk` and `opk` are the keys the caller found under the
// header's ids (`opk` is nullptr when the header names none, or the caller no
// longer holds it — then this fails with kUnknownPrekey).
[[nodiscard]] Result<X3dhResponded, ProtocolError> x3dh_respond(const IdentityKeyPair& ik_b,
                                                                const SignedPreKeyPair& spk,
                                                                const OneTimePreKeyPair* opk,
                                                                const X3dhHeader& header);

// AD = Encode(IK_A) || Encode(IK_B) with Encode = the 32-byte Ed25519 public key.
Bytes x3dh_associated_data(const IdentityPublicKey& ik_a, const IdentityPublicKey& ik_b);

}  // namespace sotto
