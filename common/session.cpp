// session.cpp — X3DH + Double Ratchet + envelope (see session.hpp).
#include "common/session.hpp"

namespace sotto {

Result<InitiatedSession, ProtocolError> initiate_session(const IdentityKeyPair& self,
                                                         const VerifiedBundle& bundle, Rng& rng) {
  SOTTO_TRY(X3dhInitiated x, x3dh_initiate(self, bundle, rng));
  // RatchetInitAlice(SK, SPK_B) with AD = IK_A || IK_B.
  SOTTO_TRY(ratchet::State state,
            ratchet::State::init_initiator(x.sk.view(), x.ad, x.remote_ratchet_key, rng));
  return InitiatedSession{std::move(state), x.header};
}

Result<Bytes, ProtocolError> seal_message(const IdentityKeyPair& self,
                                          const IdentityPublicKey& recipient,
                                          ratchet::State& state,
                                          const std::optional<X3dhHeader>& header,
                                          ByteView plaintext, Rng& rng) {
  SOTTO_TRY(Bytes message, ratchet::encrypt(state, plaintext));
  if (!header) return seal_envelope(self, recipient, kPayloadRatchetMessage, message, rng);
  // Prekey message: X3DH header || ratchet message.
  Bytes payload = encode_x3dh_header(*header);
  append(payload, message);
  return seal_envelope(self, recipient, kPayloadPreKeyMessage, payload, rng);
}

Result<IncomingMessage, ProtocolError> open_message(const IdentityKeyPair& self,
                                                    ByteView envelope) {
  SOTTO_TRY(OpenedEnvelope opened, open_envelope(self, envelope));
  IncomingMessage in{opened.sender, std::nullopt, {}};
  if (opened.type == kPayloadRatchetMessage) {
    in.ratchet_message = std::move(opened.payload);
    return in;
  }
  // Prekey message: the header's flags byte says how long it is (70 or 74 bytes).
  const ByteView payload = opened.payload;
  if (payload.size() < kX3dhHeaderSizeWithoutOneTime) return fail(ProtocolError::kMalformed);
  const std::size_t header_size = (payload[1] & kX3dhFlagOneTimePreKey) != 0
                                      ? kX3dhHeaderSizeWithOneTime
                                      : kX3dhHeaderSizeWithoutOneTime;
  if (payload.size() < header_size) return fail(ProtocolError::kMalformed);
  auto header = decode_x3dh_header(payload.first(header_size));
  if (!header.ok()) return fail(ProtocolError::kMalformed);
  // The envelope authenticated its sender; the X3DH header must name the same identity.
  if (header->initiator_identity != opened.sender) return fail(ProtocolError::kMalformed);
  in.header = *header;
  in.ratchet_message.assign(payload.begin() + static_cast<std::ptrdiff_t>(header_size),
                            payload.end());
  return in;
}

Result<ratchet::Decrypted, ProtocolError> accept_prekey_message(const IdentityKeyPair& self,
                                                                const SignedPreKeyPair& spk,
                                                                const OneTimePreKeyPair* opk,
                                                                const X3dhHeader& header,
                                                                ByteView ratchet_message,
                                                                Rng& rng) {
  SOTTO_TRY(X3dhResponded x, x3dh_respond(self, spk, opk, header));
  // RatchetInitBob(SK, (SPK_B, spk_B)).
  SOTTO_TRY(ratchet::State state,
            ratchet::State::init_responder(x.sk.view(), x.ad,
                                           crypto::x25519_from_secret(spk.secret.clone())));
  return ratchet::decrypt(state, ratchet_message, rng);
}

}  // namespace sotto
