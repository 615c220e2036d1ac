// errors.cpp — stable texts for the core's error enums.
#include "common/errors.hpp"

namespace sotto {

std::string_view to_string(CryptoError e) {
  switch (e) {
    case CryptoError::kInvalidKey: return "invalid key";
    case CryptoError::kLowOrderPoint: return "low-order point";
    case CryptoError::kBadSignature: return "bad signature";
    case CryptoError::kDecryptFailed: return "decryption failed";
    case CryptoError::kInvalidLength: return "invalid length";
  }
  return "unknown crypto error";
}

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::kTruncated: return "truncated";
    case DecodeError::kTooLarge: return "too large";
    case DecodeError::kMalformed: return "malformed";
    case DecodeError::kBadVersion: return "unsupported version";
    case DecodeError::kBadChecksum: return "checksum mismatch";
    case DecodeError::kBadCharacter: return "invalid character";
    case DecodeError::kBadLength: return "wrong length";
    case DecodeError::kBadPadding: return "bad padding";
    case DecodeError::kWrongPrefix: return "wrong prefix";
  }
  return "unknown decode error";
}

std::string_view to_string(ProtocolError e) {
  switch (e) {
    case ProtocolError::kBadSignature: return "bad signature";
    case ProtocolError::kLowOrderKey: return "low-order key";
    case ProtocolError::kUnknownPrekey: return "unknown prekey";
    case ProtocolError::kExpiredPrekey: return "expired prekey";
    case ProtocolError::kDecryptFailed: return "decryption failed";
    case ProtocolError::kDuplicateMessage: return "duplicate message";
    case ProtocolError::kTooManySkipped: return "too many skipped messages";
    case ProtocolError::kMalformed: return "malformed message";
    case ProtocolError::kWrongRecipient: return "wrong recipient";
    case ProtocolError::kStateCorrupt: return "corrupt state";
    case ProtocolError::kHandshakeFailed: return "handshake failed";
    case ProtocolError::kOutOfOrder: return "unexpected call for this state";
    case ProtocolError::kNonceExhausted: return "nonce exhausted";
    case ProtocolError::kTooLarge: return "too large";
  }
  return "unknown protocol error";
}

ProtocolError to_protocol_error(CryptoError e) {
  switch (e) {
    case CryptoError::kLowOrderPoint: return ProtocolError::kLowOrderKey;
    case CryptoError::kBadSignature: return ProtocolError::kBadSignature;
    case CryptoError::kDecryptFailed: return ProtocolError::kDecryptFailed;
    case CryptoError::kInvalidKey:
    case CryptoError::kInvalidLength: return ProtocolError::kMalformed;
  }
  return ProtocolError::kMalformed;
}

}  // namespace sotto
