// x3dh.cpp — X3DH initiator and responder, and the header encoding (see x3dh.hpp
// and docs/protocol.md section 20).
#include "common/x3dh.hpp"

#include <array>

namespace sotto {

namespace {

// SK = HKDF-SHA-256(salt = 0^32, IKM = F || DH1 || DH2 || DH3 [|| DH4],
//                   info = "Sotto/v1/X3DH", L = 32), F = 0xFF^32.
Result<X3dhSharedKey, ProtocolError> x3dh_kdf(const SharedSecret& dh1, const SharedSecret& dh2,
                                              const SharedSecret& dh3, const SharedSecret* dh4) {
  static constexpr std::array<std::uint8_t, 32> kZeroSalt{};
  SecretBytes ikm(32 * (dh4 != nullptr ? 5 : 4));
  std::uint8_t* p = ikm.data();
  std::fill_n(p, 32, std::uint8_t{0xFF});
  std::copy_n(dh1.data(), 32, p + 32);
  std::copy_n(dh2.data(), 32, p + 64);
  std::copy_n(dh3.data(), 32, p + 96);
  if (dh4 != nullptr) std::copy_n(dh4->data(), 32, p + 128);
  auto okm = crypto::hkdf_sha256(kZeroSalt, ikm.view(), label_bytes(kX3dhInfo), 32);
  if (!okm) return fail(to_protocol_error(okm.error()));
  return X3dhSharedKey::adopt(std::move(*okm));
}

Result<SharedSecret, ProtocolError> dh(const X25519SecretKey& secret, const X25519PublicKey& pub) {
  auto out = crypto::x25519(secret, pub);
  if (!out) return fail(to_protocol_error(out.error()));
  return std::move(*out);
}

}  // namespace

Bytes x3dh_associated_data(const IdentityPublicKey& ik_a, const IdentityPublicKey& ik_b) {
  return concat(ik_a.view(), ik_b.view());
}

// ---- header ----

Bytes encode_x3dh_header(const X3dhHeader& header) {
  Bytes out;
  out.reserve(kX3dhHeaderSizeWithOneTime);
  out.push_back(kX3dhHeaderVersion);
  out.push_back(header.one_time_prekey_id ? kX3dhFlagOneTimePreKey : 0);
  append(out, header.initiator_identity.view());
  append(out, header.ephemeral.view());
  put_u32be(out, header.signed_prekey_id);
  if (header.one_time_prekey_id) put_u32be(out, *header.one_time_prekey_id);
  return out;
}

Result<X3dhHeader, DecodeError> decode_x3dh_header(ByteView in) {
  // version u8 || flags u8 || IK_A[32] || EK_A[32] || spk_id u32be || [opk_id u32be]
  if (in.empty()) return fail(DecodeError::kTruncated);
  if (in[0] != kX3dhHeaderVersion) return fail(DecodeError::kBadVersion);
  if (in.size() < 2) return fail(DecodeError::kTruncated);
  const std::uint8_t flags = in[1];
  if ((flags & ~kX3dhFlagOneTimePreKey) != 0) return fail(DecodeError::kMalformed);
  const bool has_opk = (flags & kX3dhFlagOneTimePreKey) != 0;
  const std::size_t want = has_opk ? kX3dhHeaderSizeWithOneTime : kX3dhHeaderSizeWithoutOneTime;
  if (in.size() < want) return fail(DecodeError::kTruncated);
  if (in.size() > want) return fail(DecodeError::kBadLength);

  X3dhHeader h;
  std::copy_n(in.data() + 2, 32, h.initiator_identity.bytes.begin());
  std::copy_n(in.data() + 34, 32, h.ephemeral.bytes.begin());
  h.signed_prekey_id = get_u32be(in.data() + 66);
  if (has_opk) h.one_time_prekey_id = get_u32be(in.data() + 70);
  return h;
}

// ---- initiator ----

Result<X3dhInitiated, ProtocolError> x3dh_initiate_with_ephemeral(const IdentityKeyPair& ik_a,
                                                                  const VerifiedBundle& bundle,
                                                                  const X25519KeyPair& ephemeral) {
  const X25519SecretKey ik_a_x = identity_dh_secret(ik_a);
  // DH1 = DH(IK_A, SPK_B)
  SOTTO_TRY(SharedSecret dh1, dh(ik_a_x, bundle.signed_prekey()));
  // DH2 = DH(EK_A, IK_B)
  SOTTO_TRY(SharedSecret dh2, dh(ephemeral.secret, bundle.identity_dh()));
  // DH3 = DH(EK_A, SPK_B)
  SOTTO_TRY(SharedSecret dh3, dh(ephemeral.secret, bundle.signed_prekey()));
  std::optional<SharedSecret> dh4;
  if (bundle.one_time_prekey()) {
    // DH4 = DH(EK_A, OPK_B)
    SOTTO_TRY(dh4, dh(ephemeral.secret, bundle.one_time_prekey()->key));
  }
  SOTTO_TRY(X3dhSharedKey sk, x3dh_kdf(dh1, dh2, dh3, dh4 ? &*dh4 : nullptr));

  X3dhHeader header;
  header.initiator_identity = ik_a.public_key;
  header.ephemeral = ephemeral.public_key;
  header.signed_prekey_id = bundle.signed_prekey_id();
  if (bundle.one_time_prekey()) header.one_time_prekey_id = bundle.one_time_prekey()->id;

  return X3dhInitiated{std::move(sk), x3dh_associated_data(ik_a.public_key, bundle.identity()),
                       header, bundle.signed_prekey()};
}

Result<X3dhInitiated, ProtocolError> x3dh_initiate(const IdentityKeyPair& ik_a,
                                                   const VerifiedBundle& bundle, Rng& rng) {
  // EK_A: fresh for every session, dropped when this returns.
  const X25519KeyPair ephemeral = crypto::x25519_generate(rng);
  return x3dh_initiate_with_ephemeral(ik_a, bundle, ephemeral);
}

// ---- responder ----

Result<X3dhResponded, ProtocolError> x3dh_respond(const IdentityKeyPair& ik_b,
                                                  const SignedPreKeyPair& spk,
                                                  const OneTimePreKeyPair* opk,
                                                  const X3dhHeader& header) {
  // The keys the caller found must be the ones the header names.
  if (header.signed_prekey_id != spk.public_key.id) return fail(ProtocolError::kUnknownPrekey);
  if (header.one_time_prekey_id.has_value() != (opk != nullptr)) {
    return fail(ProtocolError::kUnknownPrekey);
  }
  if (opk != nullptr && *header.one_time_prekey_id != opk->public_key.id) {
    return fail(ProtocolError::kUnknownPrekey);
  }
  // IK_A must have an X25519 form; EK_A must be a usable point.
  SOTTO_TRY(X25519PublicKey ik_a_x, identity_dh_public(header.initiator_identity));
  SOTTO_TRY_VOID(check_peer_x25519(header.ephemeral));

  const X25519SecretKey ik_b_x = identity_dh_secret(ik_b);
  // DH1 = DH(SPK_B, IK_A)
  SOTTO_TRY(SharedSecret dh1, dh(spk.secret, ik_a_x));
  // DH2 = DH(IK_B, EK_A)
  SOTTO_TRY(SharedSecret dh2, dh(ik_b_x, header.ephemeral));
  // DH3 = DH(SPK_B, EK_A)
  SOTTO_TRY(SharedSecret dh3, dh(spk.secret, header.ephemeral));
  std::optional<SharedSecret> dh4;
  if (opk != nullptr) {
    // DH4 = DH(OPK_B, EK_A)
    SOTTO_TRY(dh4, dh(opk->secret, header.ephemeral));
  }
  SOTTO_TRY(X3dhSharedKey sk, x3dh_kdf(dh1, dh2, dh3, dh4 ? &*dh4 : nullptr));
  return X3dhResponded{std::move(sk),
                       x3dh_associated_data(header.initiator_identity, ik_b.public_key)};
}

}  // namespace sotto
