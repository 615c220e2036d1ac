// envelope.cpp — sealed-sender envelopes: an ephemeral layer that hides the
// sender, a static layer that authenticates it, padded contents.
#include "common/envelope.hpp"

#include <algorithm>

namespace sotto {
namespace {

constexpr std::string_view kEphemeralLabel = "Sotto/v1/Envelope/Ephemeral";
constexpr std::string_view kStaticLabel = "Sotto/v1/Envelope/Static";
constexpr std::size_t kEphemeralOkmBytes = 32 + 32 + crypto::kChaChaNonceBytes;  // 76
constexpr std::size_t kStaticOkmBytes = 32 + crypto::kChaChaNonceBytes;          // 44

bool is_known_type(std::uint8_t type) {
  return type == kPayloadPreKeyMessage || type == kPayloadRatchetMessage;
}

envelope_detail::Nonce nonce_from(ByteView v) {
  envelope_detail::Nonce n{};
  std::copy(v.begin(), v.end(), n.begin());
  return n;
}

}  // namespace

std::optional<std::size_t> envelope_size(std::size_t payload_len) {
  if (payload_len > kMaxPayloadBytes) return std::nullopt;
  const auto padded = padded_size(1 + payload_len);  // type || payload
  if (!padded) return std::nullopt;
  return kEnvelopeOverheadBytes + *padded;
}

bool is_envelope_size(std::size_t n) {
  return n >= kEnvelopeOverheadBytes && is_padded_size(n - kEnvelopeOverheadBytes);
}

namespace envelope_detail {

Result<EphemeralLayer, ProtocolError> derive_ephemeral_layer(const SharedSecret& dh_e_r,
                                                             const X25519PublicKey& e_pub,
                                                             const Ed25519PublicKey& recipient) {
  // info = "Sotto/v1/Envelope/Ephemeral" || version || e_pub || IK_R
  Bytes info = concat(label_bytes(kEphemeralLabel));
  info.push_back(kEnvelopeVersion);
  append(info, e_pub.view());
  append(info, recipient.view());
  // chain || key1 || nonce1 = HKDF-SHA-256(salt = "", DH(e, x(IK_R)), info, 76)
  auto okm = crypto::hkdf_sha256({}, dh_e_r.view(), info, kEphemeralOkmBytes);
  if (!okm.ok()) return fail(to_protocol_error(okm.error()));
  const ByteView o = okm->view();
  return EphemeralLayer{ChainKey::copy_of(o.subspan(0, 32)), LayerKey::copy_of(o.subspan(32, 32)),
                        nonce_from(o.subspan(64, crypto::kChaChaNonceBytes))};
}

Result<StaticLayer, ProtocolError> derive_static_layer(const ChainKey& chain,
                                                       const SharedSecret& dh_s_r,
                                                       const X25519PublicKey& e_pub,
                                                       const Ed25519PublicKey& recipient,
                                                       const Ed25519PublicKey& sender) {
  // info = "Sotto/v1/Envelope/Static" || version || e_pub || IK_R || IK_S
  Bytes info = concat(label_bytes(kStaticLabel));
  info.push_back(kEnvelopeVersion);
  append(info, e_pub.view());
  append(info, recipient.view());
  append(info, sender.view());
  // key2 || nonce2 = HKDF-SHA-256(salt = chain, DH(x(IK_S), x(IK_R)), info, 44)
  auto okm = crypto::hkdf_sha256(chain.view(), dh_s_r.view(), info, kStaticOkmBytes);
  if (!okm.ok()) return fail(to_protocol_error(okm.error()));
  const ByteView o = okm->view();
  return StaticLayer{LayerKey::copy_of(o.subspan(0, 32)),
                     nonce_from(o.subspan(32, crypto::kChaChaNonceBytes))};
}

namespace {

// seal_with_ephemeral once the type and size are checked and IK_R converted
// (the conversion costs about as much as a DH: seal_envelope does it once).
Result<Bytes, ProtocolError> seal_checked(const Ed25519KeyPair& sender,
                                          const Ed25519PublicKey& recipient,
                                          const X25519PublicKey& recipient_x, std::uint8_t type,
                                          ByteView payload, const X25519KeyPair& ephemeral) {
  // header = version || e_pub
  Bytes out;
  out.reserve(*envelope_size(payload.size()));
  out.push_back(kEnvelopeVersion);
  append(out, ephemeral.public_key.view());

  // Ephemeral layer: DH(e, x(IK_R)) -> chain, key1, nonce1; seal IK_S.
  auto dh_e_r = crypto::x25519(ephemeral.secret, recipient_x);
  if (!dh_e_r.ok()) return fail(to_protocol_error(dh_e_r.error()));
  SOTTO_TRY(EphemeralLayer l1, derive_ephemeral_layer(*dh_e_r, ephemeral.public_key, recipient));
  const Bytes sealed_sender =
      crypto::aead_chacha20poly1305_seal(l1.key.view(), l1.nonce, out, sender.public_key.view());
  append(out, sealed_sender);

  // Static layer: DH(x(IK_S), x(IK_R)) chained with the ephemeral layer; seal
  // pad(type || payload) with AD = everything before it.
  const X25519SecretKey sender_x = crypto::ed25519_secret_to_x25519(sender.secret);
  auto dh_s_r = crypto::x25519(sender_x, recipient_x);
  if (!dh_s_r.ok()) return fail(to_protocol_error(dh_s_r.error()));
  SOTTO_TRY(StaticLayer l2, derive_static_layer(l1.chain, *dh_s_r, ephemeral.public_key, recipient,
                                                sender.public_key));
  SecretBytes content(1 + payload.size());
  content.data()[0] = type;
  std::copy(payload.begin(), payload.end(), content.data() + 1);
  auto padded = pad(content.view());
  if (!padded.ok()) return fail(ProtocolError::kTooLarge);
  const Bytes body =
      crypto::aead_chacha20poly1305_seal(l2.key.view(), l2.nonce, out, padded->view());
  append(out, body);
  return out;
}

}  // namespace

Result<Bytes, ProtocolError> seal_with_ephemeral(const Ed25519KeyPair& sender,
                                                 const Ed25519PublicKey& recipient,
                                                 std::uint8_t type, ByteView payload,
                                                 const X25519KeyPair& ephemeral) {
  if (!is_known_type(type)) return fail(ProtocolError::kMalformed);
  if (payload.size() > kMaxPayloadBytes) return fail(ProtocolError::kTooLarge);
  auto recipient_x = crypto::ed25519_public_to_x25519(recipient);
  if (!recipient_x.ok()) return fail(ProtocolError::kMalformed);
  return seal_checked(sender, recipient, *recipient_x, type, payload, ephemeral);
}

}  // namespace envelope_detail

Result<Bytes, ProtocolError> seal_envelope(const Ed25519KeyPair& sender,
                                           const Ed25519PublicKey& recipient, std::uint8_t type,
                                           ByteView payload, Rng& rng) {
  // Check before drawing randomness, so a refused call consumes none.
  if (!is_known_type(type)) return fail(ProtocolError::kMalformed);
  if (payload.size() > kMaxPayloadBytes) return fail(ProtocolError::kTooLarge);
  auto recipient_x = crypto::ed25519_public_to_x25519(recipient);
  if (!recipient_x.ok()) return fail(ProtocolError::kMalformed);
  const X25519KeyPair ephemeral = crypto::x25519_generate(rng);
  return envelope_detail::seal_checked(sender, recipient, *recipient_x, type, payload, ephemeral);
}

Result<OpenedEnvelope, ProtocolError> open_envelope(const Ed25519KeyPair& recipient,
                                                    ByteView envelope) {
  using namespace envelope_detail;
  // Sizes and version first: public checks before any crypto.
  if (envelope.size() > kMaxEnvelopeBytes) return fail(ProtocolError::kTooLarge);
  if (!is_envelope_size(envelope.size())) return fail(ProtocolError::kMalformed);
  if (envelope[0] != kEnvelopeVersion) return fail(ProtocolError::kMalformed);

  const ByteView header = envelope.first(kEnvelopeHeaderBytes);
  const ByteView sealed_sender = envelope.subspan(kEnvelopeHeaderBytes, kEnvelopeSealedSenderBytes);
  const ByteView prefix = envelope.first(kEnvelopePrefixBytes);
  const ByteView body = envelope.subspan(kEnvelopePrefixBytes);
  const X25519PublicKey e_pub = *X25519PublicKey::from(header.subspan(1, 32));

  // Ephemeral layer: DH(x(IK_R), e_pub) -> chain, key1, nonce1; open IK_S.
  const X25519SecretKey recipient_x = crypto::ed25519_secret_to_x25519(recipient.secret);
  auto dh_e_r = crypto::x25519(recipient_x, e_pub);
  if (!dh_e_r.ok()) return fail(to_protocol_error(dh_e_r.error()));
  SOTTO_TRY(EphemeralLayer l1, derive_ephemeral_layer(*dh_e_r, e_pub, recipient.public_key));
  auto sender_bytes =
      crypto::aead_chacha20poly1305_open(l1.key.view(), l1.nonce, header, sealed_sender);
  if (!sender_bytes.ok()) return fail(ProtocolError::kDecryptFailed);
  const Ed25519PublicKey sender = *Ed25519PublicKey::from(sender_bytes->view());
  auto sender_x = crypto::ed25519_public_to_x25519(sender);
  if (!sender_x.ok()) return fail(ProtocolError::kMalformed);

  // Static layer: DH(x(IK_R), x(IK_S)) chained with the ephemeral layer; open the body.
  auto dh_s_r = crypto::x25519(recipient_x, *sender_x);
  if (!dh_s_r.ok()) return fail(to_protocol_error(dh_s_r.error()));
  SOTTO_TRY(StaticLayer l2,
            derive_static_layer(l1.chain, *dh_s_r, e_pub, recipient.public_key, sender));
  auto padded = crypto::aead_chacha20poly1305_open(l2.key.view(), l2.nonce, prefix, body);
  if (!padded.ok()) return fail(ProtocolError::kDecryptFailed);

  // pad(type || payload): authenticated, but validated all the same.
  auto content_len = unpadded_length(padded->view());
  if (!content_len.ok() || *content_len < 1) return fail(ProtocolError::kMalformed);
  const std::uint8_t type = padded->data()[0];
  if (!is_known_type(type)) return fail(ProtocolError::kMalformed);

  OpenedEnvelope out{sender, type, Bytes(padded->data() + 1, padded->data() + *content_len)};
  return out;
}

}  // namespace sotto
