// prekeys.hpp — signed prekeys, one-time prekeys and the prekey bundle a relay
// hands out (Signal's X3DH, "Keys" and "Publishing keys"; docs/protocol.md section 20).
//
// A signed prekey (SPK) is an X25519 key with an id and a validity window,
// signed by the identity key IK over
//     "Sotto/v1/SignedPreKey" || id u32be || created_at u64be || expires_at u64be || key
// A one-time prekey (OPK) is an X25519 key with an id, unsigned (as in Signal).
// A bundle is IK || SPK record || optional OPK record, in a fixed byte layout.
//
// What fails: decode_* return DecodeError for a short, long or unknown-version
// encoding; verify_bundle returns ProtocolError for an identity key that does
// not convert to X25519 (kMalformed), a bad SPK signature (kBadSignature), an
// empty or too long validity window (kMalformed), an expired SPK
// (kExpiredPrekey), and low-order or non-canonical prekeys (kLowOrderKey,
// kMalformed). Nothing here reads a clock: every time is a parameter, in unix
// seconds.
//
// Ownership: the device owns every *PreKeyPair (its private halves live in
// Secret memory) and decides when to delete them; the relay only ever sees the
// *Public types and their encodings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/identity.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"

namespace sotto {

using PreKeyId = std::uint32_t;

inline constexpr std::string_view kSignedPreKeyLabel = "Sotto/v1/SignedPreKey";
inline constexpr std::uint8_t kPreKeyBundleVersion = 0x01;

inline constexpr std::uint64_t kSecondsPerDay = 24 * 60 * 60;
// Longest validity window (expires_at - created_at) an initiator accepts.
inline constexpr std::uint64_t kMaxSignedPreKeyLifetime = 90 * kSecondsPerDay;

// Encoded sizes (bytes).
inline constexpr std::size_t kSignedPreKeyRecordSize = 4 + 8 + 8 + 32 + 64;  // 116
inline constexpr std::size_t kOneTimePreKeyRecordSize = 4 + 32;              // 36
inline constexpr std::size_t kBundleSizeWithoutOneTime = 1 + 32 + kSignedPreKeyRecordSize + 1;
inline constexpr std::size_t kBundleSizeWithOneTime =
    kBundleSizeWithoutOneTime + kOneTimePreKeyRecordSize;

// ---- signed prekey ----

struct SignedPreKeyPublic {
  PreKeyId id = 0;
  X25519PublicKey key;
  std::uint64_t created_at = 0;  // unix seconds
  std::uint64_t expires_at = 0;  // unix seconds; unusable from this instant on
  Ed25519Signature signature;

  // True from expires_at on: an initiator must not start a session with it.
  bool is_expired(std::uint64_t now) const { return now >= expires_at; }
  bool operator==(const SignedPreKeyPublic&) const = default;
};

struct SignedPreKeyPair {
  SignedPreKeyPublic public_key;
  X25519SecretKey secret;
};

// When the device replaces its signed prekey and when it may forget an old one.
// Defaults: rotate weekly, each SPK valid for 30 days, and a replaced SPK's
// private half kept for 30 days after its replacement (the relay's default
// message retention), so a first message sent just before a rotation still
// decrypts when it is fetched late.
struct SignedPreKeyPolicy {
  std::uint64_t rotate_after = 7 * kSecondsPerDay;
  std::uint64_t lifetime = 30 * kSecondsPerDay;
  std::uint64_t keep_replaced_for = 30 * kSecondsPerDay;

  // created_at + lifetime (saturating).
  std::uint64_t expiry_for(std::uint64_t created_at) const;
  // True when `current` is at least rotate_after old, expires within
  // rotate_after, or claims a creation time in the future (the clock moved back).
  bool needs_rotation(const SignedPreKeyPublic& current, std::uint64_t now) const;
  // True when a signed prekey replaced at `replaced_at` may be deleted.
  bool may_delete_replaced(std::uint64_t replaced_at, std::uint64_t now) const;
};

// The exact bytes IK signs: label || id u32be || created u64be || expires u64be || key.
Bytes signed_prekey_signed_bytes(PreKeyId id, std::uint64_t created_at, std::uint64_t expires_at,
                                 const X25519PublicKey& key);

// Signs an existing X25519 public key as signed prekey `id` (vectors and tests
// use this to sign chosen keys).
SignedPreKeyPublic sign_prekey(const IdentityKeyPair& ik, PreKeyId id, std::uint64_t created_at,
                               std::uint64_t expires_at, const X25519PublicKey& key);

// A fresh signed prekey created at `now`, expiring at policy.expiry_for(now).
SignedPreKeyPair generate_signed_prekey(const IdentityKeyPair& ik, PreKeyId id, std::uint64_t now,
                                        Rng& rng, const SignedPreKeyPolicy& policy = {});
// The signed prekey with the given secret (restoring, vectors).
SignedPreKeyPair signed_prekey_from_secret(const IdentityKeyPair& ik, PreKeyId id,
                                           std::uint64_t created_at, std::uint64_t expires_at,
                                           X25519SecretKey secret);

// Checks the signature by `identity` (kBadSignature) and that the window is not
// empty and at most kMaxSignedPreKeyLifetime long (kMalformed). Does not look
// at the time or the key's order (verify_bundle does both). The relay calls
// this on upload.
[[nodiscard]] Result<void, ProtocolError> verify_signed_prekey(const IdentityPublicKey& identity,
                                                               const SignedPreKeyPublic& spk);

// ---- one-time prekeys ----

struct OneTimePreKeyPublic {
  PreKeyId id = 0;
  X25519PublicKey key;
  bool operator==(const OneTimePreKeyPublic&) const = default;
};

struct OneTimePreKeyPair {
  OneTimePreKeyPublic public_key;
  X25519SecretKey secret;
};

OneTimePreKeyPair generate_one_time_prekey(PreKeyId id, Rng& rng);
OneTimePreKeyPair one_time_prekey_from_secret(PreKeyId id, X25519SecretKey secret);
// `count` keys with ids next_id, next_id + 1, ... (mod 2^32); advances next_id.
// The device persists next_id so an id is never reused while its key is held.
std::vector<OneTimePreKeyPair> generate_one_time_prekeys(PreKeyId& next_id, std::size_t count,
                                                         Rng& rng);

// ---- records (the upload encodings; also the pieces of a bundle) ----

// id u32be || created u64be || expires u64be || key[32] || signature[64]  (116 bytes)
Bytes encode_signed_prekey(const SignedPreKeyPublic& spk);
[[nodiscard]] Result<SignedPreKeyPublic, DecodeError> decode_signed_prekey(ByteView in);
// id u32be || key[32]  (36 bytes)
Bytes encode_one_time_prekey(const OneTimePreKeyPublic& opk);
[[nodiscard]] Result<OneTimePreKeyPublic, DecodeError> decode_one_time_prekey(ByteView in);

// ---- bundle ----

struct PreKeyBundle {
  IdentityPublicKey identity;
  SignedPreKeyPublic signed_prekey;
  std::optional<OneTimePreKeyPublic> one_time_prekey;
  bool operator==(const PreKeyBundle&) const = default;
};

// version 0x01 || identity[32] || SPK record[116] || has_opk u8 (0|1) || [OPK record[36]]
// 150 bytes without a one-time prekey, 186 with.
Bytes encode_bundle(const PreKeyBundle& bundle);
// kTruncated (too short), kBadLength (bytes after the end), kBadVersion,
// kMalformed (has_opk not 0 or 1).
[[nodiscard]] Result<PreKeyBundle, DecodeError> decode_bundle(ByteView in);

// A bundle that passed verify_bundle: only verify_bundle makes one, so
// x3dh_initiate cannot be handed unchecked keys.
class VerifiedBundle {
 public:
  const IdentityPublicKey& identity() const { return identity_; }
  // The identity key in X25519 form (IK_B for DH2).
  const X25519PublicKey& identity_dh() const { return identity_dh_; }
  PreKeyId signed_prekey_id() const { return signed_prekey_id_; }
  const X25519PublicKey& signed_prekey() const { return signed_prekey_; }
  std::uint64_t signed_prekey_expires_at() const { return signed_prekey_expires_at_; }
  const std::optional<OneTimePreKeyPublic>& one_time_prekey() const { return one_time_prekey_; }

 private:
  friend Result<VerifiedBundle, ProtocolError> verify_bundle(const PreKeyBundle&, std::uint64_t);
  VerifiedBundle() = default;
  IdentityPublicKey identity_;
  X25519PublicKey identity_dh_;
  PreKeyId signed_prekey_id_ = 0;
  X25519PublicKey signed_prekey_;
  std::uint64_t signed_prekey_expires_at_ = 0;
  std::optional<OneTimePreKeyPublic> one_time_prekey_;
};

// The initiator's checks, in this order: identity converts to X25519
// (kMalformed / kLowOrderKey); SPK signature (kBadSignature); SPK window
// (kMalformed); SPK not expired at `now` (kExpiredPrekey); SPK key, then OPK key,
// not low order and canonical (kLowOrderKey / kMalformed).
[[nodiscard]] Result<VerifiedBundle, ProtocolError> verify_bundle(const PreKeyBundle& bundle,
                                                                  std::uint64_t now);

}  // namespace sotto
