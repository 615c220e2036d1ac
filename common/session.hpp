// session.hpp — a conversation's first and later messages: X3DH, the Double
// Ratchet and the envelope put together (docs/protocol.md, "Sessions").
//
// Sending (Alice -> Bob):
//   initiate_session(IK_A, verified bundle, rng) -> {ratchet state, X3DH header}
//   seal_message(IK_A, IK_B, state, pending header or none, plaintext, rng)
//     -> envelope bytes for the relay. While Alice has not yet received a reply
//        she passes the X3DH header, and every message is a prekey message
//        (payload type 1) so Bob can start the session from whichever arrives
//        first; afterwards, payload type 2.
// Receiving (Bob):
//   open_message(IK_B, envelope) -> {sender, optional X3DH header, ratchet message}
//   accept_prekey_message(IK_B, SPK, OPK or null, header, ratchet message, rng)
//     -> plaintext and the new session state (a session that does not exist yet);
//   ratchet::decrypt(state, ratchet message, rng) for an existing session.
//
// Nothing here keeps state: the caller (the client) stores sessions, looks up
// prekeys by the header's ids, deletes a one-time prekey only after the first
// message decrypted, and commits the new state with the stored plaintext in one
// transaction before acknowledging the envelope.
#pragma once

#include <optional>

#include "common/envelope.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/ratchet.hpp"
#include "common/x3dh.hpp"

namespace sotto {

struct InitiatedSession {
  ratchet::State state;
  X3dhHeader header;  // sent with every message until the peer's first reply
};

[[nodiscard]] Result<InitiatedSession, ProtocolError> initiate_session(
    const IdentityKeyPair& self, const VerifiedBundle& bundle, Rng& rng);

// Encrypts `plaintext` with the session and seals it to `recipient`. With a
// header the payload is a prekey message (type 1: header || ratchet message),
// without one a ratchet message (type 2). `state` advances even if sealing
// fails afterwards (it cannot, for a valid recipient key: the recipient key was
// checked when the session was made).
[[nodiscard]] Result<Bytes, ProtocolError> seal_message(const IdentityKeyPair& self,
                                                        const IdentityPublicKey& recipient,
                                                        ratchet::State& state,
                                                        const std::optional<X3dhHeader>& header,
                                                        ByteView plaintext, Rng& rng);

struct IncomingMessage {
  IdentityPublicKey sender;               // authenticated by the envelope's static layer
  std::optional<X3dhHeader> header;       // present for a prekey message
  Bytes ratchet_message;                  // header || ciphertext of the ratchet
};

// Opens the envelope and splits its payload. A prekey message whose X3DH
// header names an initiator other than the envelope's sender is kMalformed.
[[nodiscard]] Result<IncomingMessage, ProtocolError> open_message(const IdentityKeyPair& self,
                                                                  ByteView envelope);

// Runs X3DH as responder and decrypts the first ratchet message. The signed
// prekey pair doubles as the responder's first ratchet key pair.
[[nodiscard]] Result<ratchet::Decrypted, ProtocolError> accept_prekey_message(
    const IdentityKeyPair& self, const SignedPreKeyPair& spk, const OneTimePreKeyPair* opk,
    const X3dhHeader& header, ByteView ratchet_message, Rng& rng);

}  // namespace sotto
