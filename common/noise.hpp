// noise.hpp — Sotto's Noise transport: the two protocols Sotto speaks to a
// relay and their fixed parameters (docs/protocol.md section 60). Include
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

#include <cstdint>
#include <string_view>

#include "common/crypto.hpp"
#include "common/noise_cipher_state.hpp"
#include "common/noise_handshake.hpp"
#include "common/noise_symmetric_state.hpp"
#include "common/noise_transport.hpp"

namespace sotto::noise {

// The prologue MixHash'ed by both sides of every Sotto relay handshake.
inline constexpr std::string_view kSottoPrologue = "Sotto/v1/relay-transport";

// The first frame of a connection is one type byte naming the handshake,
// followed by Noise message 1. The type byte is not hashed: a changed byte
// selects a different protocol name, so the handshake fails.
enum class HandshakeType : std::uint8_t { kIK = 0x01, kNK = 0x02 };

// Largest Noise message 1 (IK): e (32) || encrypted s (32 + 16) || payload + 16.
inline constexpr std::size_t kMaxHandshakeMessage =
    kDhLen + (kDhLen + kTagLen) + kMaxHandshakePayload + kTagLen;
// The relay's frame limit for the first frame of a connection (type byte + message 1).
inline constexpr std::size_t kMaxFirstFrameBody = 1 + kMaxHandshakeMessage;

struct FirstFrame {
  Pattern pattern;   // kIK or kNK
  ByteView message;  // Noise message 1 (a view into the frame body)
};

// type byte || message 1.
Bytes first_frame_body(HandshakeType type, ByteView message1);
// Splits a first frame body: kTruncated when it is empty, kBadVersion for an
// unknown type byte, kTooLarge above kMaxFirstFrameBody.
Result<FirstFrame, DecodeError> parse_first_frame_body(ByteView body);

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
