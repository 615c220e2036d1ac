// errors.hpp — the error enums of the core, one per layer (STYLE.md).
//
// Each has a stable text (to_string) used in logs, CLI messages and tests.
// Values carry no secret data.
#pragma once

#include <string_view>

namespace sotto {

// Failures of a cryptographic primitive.
enum class CryptoError {
  kInvalidKey,        // a key of the wrong length or an encoding that is not a key
  kLowOrderPoint,     // X25519 with a low-order point (all-zero shared secret)
  kBadSignature,      // Ed25519 verification failed
  kDecryptFailed,     // AEAD authentication failed
  kInvalidLength,     // an input or output length outside the primitive's range
};

// Failures to turn bytes into a validated domain value.
enum class DecodeError {
  kTruncated,         // fewer bytes than the encoding needs
  kTooLarge,          // more bytes than the limit allows
  kMalformed,         // bytes that do not parse (bad protobuf, bad structure)
  kBadVersion,        // a version this implementation does not speak
  kBadChecksum,       // a text form whose checksum does not match (a typo)
  kBadCharacter,      // a text form with a character outside its alphabet
  kBadLength,         // a field of the wrong length (a 31-byte key)
  kBadPadding,        // padding that is not of the specified form
  kWrongPrefix,       // a text form with another prefix (e.g. not "sotto1...")
};

// Failures of the protocol state machines (X3DH, ratchet, envelope, Noise).
enum class ProtocolError {
  kBadSignature,        // a signed prekey or certificate whose signature fails
  kLowOrderKey,         // a peer key that is a low-order point
  kUnknownPrekey,       // a message naming a prekey we do not hold
  kExpiredPrekey,       // a signed prekey past its expiry
  kDecryptFailed,       // authentication failed: tampered, wrong key or wrong session
  kDuplicateMessage,    // a message key already used (replay or duplicate)
  kTooManySkipped,      // a header that would skip more message keys than allowed
  kMalformed,           // a message that does not decode
  kWrongRecipient,      // an envelope sealed for someone else
  kStateCorrupt,        // stored state that does not restore
  kHandshakeFailed,     // Noise handshake failure (bad message, wrong static key)
  kOutOfOrder,          // a call the state machine is not ready for
  kNonceExhausted,      // a transport counter reached its limit
  kTooLarge,            // a payload or envelope above its size limit
};

std::string_view to_string(CryptoError e);
std::string_view to_string(DecodeError e);
std::string_view to_string(ProtocolError e);

// Maps a primitive failure into the protocol layer.
ProtocolError to_protocol_error(CryptoError e);

}  // namespace sotto
