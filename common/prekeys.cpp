// prekeys.cpp — signed and one-time prekeys, their records and the bundle
// (see prekeys.hpp and docs/protocol.md section 20).
#include "common/prekeys.hpp"

#include <limits>

namespace sotto {

namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > std::numeric_limits<std::uint64_t>::max() - b
             ? std::numeric_limits<std::uint64_t>::max()
             : a + b;
}

// Reads the fixed-size SPK record at `p` (the caller checked the length).
SignedPreKeyPublic read_signed_prekey(const std::uint8_t* p) {
  SignedPreKeyPublic spk;
  spk.id = get_u32be(p);
  spk.created_at = get_u64be(p + 4);
  spk.expires_at = get_u64be(p + 12);
  std::copy_n(p + 20, 32, spk.key.bytes.begin());
  std::copy_n(p + 52, 64, spk.signature.bytes.begin());
  return spk;
}

OneTimePreKeyPublic read_one_time_prekey(const std::uint8_t* p) {
  OneTimePreKeyPublic opk;
  opk.id = get_u32be(p);
  std::copy_n(p + 4, 32, opk.key.bytes.begin());
  return opk;
}

void put_signed_prekey(Bytes& out, const SignedPreKeyPublic& spk) {
  put_u32be(out, spk.id);
  put_u64be(out, spk.created_at);
  put_u64be(out, spk.expires_at);
  append(out, spk.key.view());
  append(out, spk.signature.view());
}

void put_one_time_prekey(Bytes& out, const OneTimePreKeyPublic& opk) {
  put_u32be(out, opk.id);
  append(out, opk.key.view());
}

// Exactly `want` bytes, or the error for a short or long input.
Result<void, DecodeError> check_size(ByteView in, std::size_t want) {
  if (in.size() < want) return fail(DecodeError::kTruncated);
  if (in.size() > want) return fail(DecodeError::kBadLength);
  return {};
}

}  // namespace

// ---- policy ----

std::uint64_t SignedPreKeyPolicy::expiry_for(std::uint64_t created_at) const {
  return saturating_add(created_at, lifetime);
}

bool SignedPreKeyPolicy::needs_rotation(const SignedPreKeyPublic& current,
                                        std::uint64_t now) const {
  if (current.created_at > now) return true;  // the clock went back: start afresh
  if (now >= saturating_add(current.created_at, rotate_after)) return true;
  return saturating_add(now, rotate_after) >= current.expires_at;
}

bool SignedPreKeyPolicy::may_delete_replaced(std::uint64_t replaced_at, std::uint64_t now) const {
  return now >= saturating_add(replaced_at, keep_replaced_for);
}

// ---- signed prekey ----

Bytes signed_prekey_signed_bytes(PreKeyId id, std::uint64_t created_at, std::uint64_t expires_at,
                                 const X25519PublicKey& key) {
  // "Sotto/v1/SignedPreKey" || id u32be || created_at u64be || expires_at u64be || key
  Bytes out;
  out.reserve(kSignedPreKeyLabel.size() + 4 + 8 + 8 + 32);
  append(out, label_bytes(kSignedPreKeyLabel));
  put_u32be(out, id);
  put_u64be(out, created_at);
  put_u64be(out, expires_at);
  append(out, key.view());
  return out;
}

SignedPreKeyPublic sign_prekey(const IdentityKeyPair& ik, PreKeyId id, std::uint64_t created_at,
                               std::uint64_t expires_at, const X25519PublicKey& key) {
  SignedPreKeyPublic spk;
  spk.id = id;
  spk.key = key;
  spk.created_at = created_at;
  spk.expires_at = expires_at;
  // Sig(IK, "Sotto/v1/SignedPreKey" || ...)
  spk.signature =
      crypto::ed25519_sign(ik.secret, signed_prekey_signed_bytes(id, created_at, expires_at, key));
  return spk;
}

SignedPreKeyPair signed_prekey_from_secret(const IdentityKeyPair& ik, PreKeyId id,
                                           std::uint64_t created_at, std::uint64_t expires_at,
                                           X25519SecretKey secret) {
  X25519KeyPair kp = crypto::x25519_from_secret(std::move(secret));
  SignedPreKeyPublic pub = sign_prekey(ik, id, created_at, expires_at, kp.public_key);
  return SignedPreKeyPair{pub, std::move(kp.secret)};
}

SignedPreKeyPair generate_signed_prekey(const IdentityKeyPair& ik, PreKeyId id, std::uint64_t now,
                                        Rng& rng, const SignedPreKeyPolicy& policy) {
  X25519SecretKey secret;
  rng.fill(secret.mutable_view());
  return signed_prekey_from_secret(ik, id, now, policy.expiry_for(now), std::move(secret));
}

Result<void, ProtocolError> verify_signed_prekey(const IdentityPublicKey& identity,
                                                 const SignedPreKeyPublic& spk) {
  Bytes signed_bytes = signed_prekey_signed_bytes(spk.id, spk.created_at, spk.expires_at, spk.key);
  if (!crypto::ed25519_verify(identity, signed_bytes, spk.signature)) {
    return fail(ProtocolError::kBadSignature);
  }
  if (spk.expires_at <= spk.created_at ||
      spk.expires_at - spk.created_at > kMaxSignedPreKeyLifetime) {
    return fail(ProtocolError::kMalformed);
  }
  return {};
}

// ---- one-time prekeys ----

OneTimePreKeyPair one_time_prekey_from_secret(PreKeyId id, X25519SecretKey secret) {
  X25519KeyPair kp = crypto::x25519_from_secret(std::move(secret));
  return OneTimePreKeyPair{OneTimePreKeyPublic{id, kp.public_key}, std::move(kp.secret)};
}

OneTimePreKeyPair generate_one_time_prekey(PreKeyId id, Rng& rng) {
  X25519SecretKey secret;
  rng.fill(secret.mutable_view());
  return one_time_prekey_from_secret(id, std::move(secret));
}

std::vector<OneTimePreKeyPair> generate_one_time_prekeys(PreKeyId& next_id, std::size_t count,
                                                         Rng& rng) {
  std::vector<OneTimePreKeyPair> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(generate_one_time_prekey(next_id, rng));
    ++next_id;  // wraps mod 2^32
  }
  return out;
}

// ---- records ----

Bytes encode_signed_prekey(const SignedPreKeyPublic& spk) {
  Bytes out;
  out.reserve(kSignedPreKeyRecordSize);
  put_signed_prekey(out, spk);
  return out;
}

Result<SignedPreKeyPublic, DecodeError> decode_signed_prekey(ByteView in) {
  SOTTO_TRY_VOID(check_size(in, kSignedPreKeyRecordSize));
  return read_signed_prekey(in.data());
}

Bytes encode_one_time_prekey(const OneTimePreKeyPublic& opk) {
  Bytes out;
  out.reserve(kOneTimePreKeyRecordSize);
  put_one_time_prekey(out, opk);
  return out;
}

Result<OneTimePreKeyPublic, DecodeError> decode_one_time_prekey(ByteView in) {
  SOTTO_TRY_VOID(check_size(in, kOneTimePreKeyRecordSize));
  return read_one_time_prekey(in.data());
}

// ---- bundle ----

Bytes encode_bundle(const PreKeyBundle& bundle) {
  Bytes out;
  out.reserve(kBundleSizeWithOneTime);
  out.push_back(kPreKeyBundleVersion);
  append(out, bundle.identity.view());
  put_signed_prekey(out, bundle.signed_prekey);
  out.push_back(bundle.one_time_prekey ? 1 : 0);
  if (bundle.one_time_prekey) put_one_time_prekey(out, *bundle.one_time_prekey);
  return out;
}

Result<PreKeyBundle, DecodeError> decode_bundle(ByteView in) {
  // version u8 || identity[32] || SPK record[116] || has_opk u8 || [OPK record[36]]
  if (in.empty()) return fail(DecodeError::kTruncated);
  if (in[0] != kPreKeyBundleVersion) return fail(DecodeError::kBadVersion);
  if (in.size() < kBundleSizeWithoutOneTime) return fail(DecodeError::kTruncated);
  const std::uint8_t has_opk = in[kBundleSizeWithoutOneTime - 1];
  if (has_opk > 1) return fail(DecodeError::kMalformed);
  SOTTO_TRY_VOID(check_size(in, has_opk == 1 ? kBundleSizeWithOneTime : kBundleSizeWithoutOneTime));

  PreKeyBundle bundle;
  std::copy_n(in.data() + 1, 32, bundle.identity.bytes.begin());
  bundle.signed_prekey = read_signed_prekey(in.data() + 33);
  if (has_opk == 1)
    bundle.one_time_prekey = read_one_time_prekey(in.data() + kBundleSizeWithoutOneTime);
  return bundle;
}

Result<VerifiedBundle, ProtocolError> verify_bundle(const PreKeyBundle& bundle, std::uint64_t now) {
  VerifiedBundle v;
  // IK_B must have an X25519 form for DH2.
  SOTTO_TRY(v.identity_dh_, identity_dh_public(bundle.identity));
  // Sig(IK_B, SPK_B) and a sane validity window.
  const SignedPreKeyPublic& spk = bundle.signed_prekey;
  SOTTO_TRY_VOID(verify_signed_prekey(bundle.identity, spk));
  if (spk.is_expired(now)) return fail(ProtocolError::kExpiredPrekey);
  // SPK_B and OPK_B are used in DH: no low-order or non-canonical points.
  SOTTO_TRY_VOID(check_peer_x25519(spk.key));
  if (bundle.one_time_prekey) SOTTO_TRY_VOID(check_peer_x25519(bundle.one_time_prekey->key));

  v.identity_ = bundle.identity;
  v.signed_prekey_id_ = spk.id;
  v.signed_prekey_ = spk.key;
  v.signed_prekey_expires_at_ = spk.expires_at;
  v.one_time_prekey_ = bundle.one_time_prekey;
  return v;
}

}  // namespace sotto
