// noise.hpp — Sotto's Noise transport: the two protocols Sotto speaks to a
// relay and their fixed parameters (docs/protocol/60-transport.md). Include
// this header; the machinery lives in noise_cipher_state.hpp,
// noise_symmetric_state.hpp, noise_handshake.hpp and noise_transport.hpp.
//
//   Noise_IK_25519_ChaChaPoly_BLAKE2b  a device's authenticated connection:
//       the client (initiator) knows the relay's static key from the relay
//       address and sends its own static key (its transport key) in message 1.
//   Noise_NK_25519_ChaChaPoly_BLAKE2b  an anonymous connection: the client
//       authenticates the relay and stays anonymous.
//
// The prologue of every Sotto handshake is the 24 ASCII bytes of
// kSottoPrologue. Handshake payloads are opaque here (the relay protocol
// defines them); each is at most kMaxHandshakePayload bytes.
//
// What fails: the helpers below fail like NoiseHandshake::create(). Ownership:
// as for NoiseHandshake (the Rng must outlive the handshake).
#pragma once

#include <string_view>

#include "common/crypto.hpp"
#include "common/noise_cipher_state.hpp"
#include "common/noise_handshake.hpp"
#include "common/noise_symmetric_state.hpp"
#include "common/noise_transport.hpp"

namespace sotto::noise {

// The prologue MixHash'ed by both sides of every Sotto relay handshake.
inline constexpr std::string_view kSottoPrologue = "Sotto/v1/relay-transport";

// Client side of an authenticated (IK) connection: `device` is the device's
// transport key pair, `relay` the relay's static key from the relay address.
Result<NoiseHandshake, ProtocolError> sotto_ik_initiator(X25519KeyPair device,
                                                         const X25519PublicKey& relay, Rng& rng);
// Client side of an anonymous (NK) connection.
Result<NoiseHandshake, ProtocolError> sotto_nk_initiator(const X25519PublicKey& relay, Rng& rng);
// Relay side of either, chosen by the pattern the connection announced
// (kIK or kNK; anything else fails with kHandshakeFailed).
Result<NoiseHandshake, ProtocolError> sotto_responder(Pattern pattern, X25519KeyPair relay,
                                                      Rng& rng);

}  // namespace sotto::noise
