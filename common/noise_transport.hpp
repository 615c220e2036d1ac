// noise_transport.hpp — the transport phase of a Sotto Noise connection: the
// two CipherStates returned by Split(), one per direction, with Sotto's
// limits and rekey policy (docs/protocol.md section 60).
//
// Policy (normative, both peers must apply it identically):
//   - A transport message is EncryptWithAd(empty ad, plaintext): at most
//     kMaxTransportPlaintext = 65535 - 16 bytes of plaintext, so that the Noise
//     message fits the 65535-byte limit and one frame (frame.hpp).
//   - Rekey: after the message with nonce n has been sent (or received and
//     authenticated) and (n + 1) is a multiple of the rekey interval
//     (kRekeyInterval = 2^20 in Sotto), that direction's CipherState performs
//     Rekey(). n itself keeps counting (Rekey does not reset it).
//   - A received message that fails authentication (or is shorter than the
//     16-byte tag, or longer than 65535 bytes) is dropped: decrypt() returns
//     kDecryptFailed, the receive state is left exactly as it was (no nonce
//     advance, no rekey) and the failure is counted. The connection continues,
//     so a later genuine message still decrypts. When the count reaches
//     kMaxAuthFailures (8) on one transport, the transport is closed: that and
//     every later encrypt()/decrypt() call returns kOutOfOrder, and the owner
//     must close the TCP connection.
//   - Replayed, reordered or dropped messages fail authentication (the nonce is
//     implicit), so they are handled by the rule above.
//
// Ownership: a NoiseTransport owns both keys (wiped on destruction); it is
// move-only. Plaintexts come back as SecretBytes owned by the caller.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/noise_cipher_state.hpp"
#include "common/noise_symmetric_state.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto::noise {

inline constexpr std::size_t kMaxMessageLen = 65535;  // Noise section 3
inline constexpr std::size_t kMaxTransportPlaintext = kMaxMessageLen - kTagLen;
inline constexpr std::uint64_t kRekeyInterval = std::uint64_t{1} << 20;
inline constexpr std::uint32_t kMaxAuthFailures = 8;

// The sending direction's CipherState (a different type from the receiving
// one, so the two cannot be swapped).
class SendCipher {
 public:
  SendCipher(CipherState cs, std::uint64_t rekey_interval)
      : cs_(std::move(cs)), rekey_interval_(rekey_interval) {}
  // EncryptWithAd(empty, plaintext), then the rekey policy.
  Result<Bytes, ProtocolError> encrypt(ByteView plaintext);
  // The same into `out` (exactly plaintext + 16 bytes).
  Result<void, ProtocolError> encrypt_into(ByteView plaintext, MutableByteView out);
  std::uint64_t nonce() const { return cs_.nonce(); }

 private:
  CipherState cs_;
  std::uint64_t rekey_interval_;
};

class ReceiveCipher {
 public:
  ReceiveCipher(CipherState cs, std::uint64_t rekey_interval)
      : cs_(std::move(cs)), rekey_interval_(rekey_interval) {}
  // DecryptWithAd(empty, ciphertext), then the rekey policy; unchanged on failure.
  Result<SecretBytes, ProtocolError> decrypt(ByteView ciphertext);
  std::uint64_t nonce() const { return cs_.nonce(); }

 private:
  CipherState cs_;
  std::uint64_t rekey_interval_;
};

class NoiseTransport {
 public:
  NoiseTransport(SendCipher send, ReceiveCipher receive, HandshakeHash handshake_hash)
      : send_(std::move(send)), receive_(std::move(receive)), handshake_hash_(handshake_hash) {}

  NoiseTransport(NoiseTransport&&) noexcept = default;
  NoiseTransport& operator=(NoiseTransport&&) noexcept = default;

  // One transport message carrying `plaintext` (<= kMaxTransportPlaintext,
  // else kMalformed). kNonceExhausted at nonce 2^64-1; kOutOfOrder once closed.
  Result<Bytes, ProtocolError> encrypt(ByteView plaintext);
  // The same transport message appended to `out` as a frame (protocol.md 20:
  // u16be length || message), without an intermediate buffer.
  Result<void, ProtocolError> encrypt_frame_into(ByteView plaintext, Bytes& out);

  // The plaintext of the next transport message from the peer. On
  // kDecryptFailed nothing changes but the failure count (see the policy above).
  Result<SecretBytes, ProtocolError> decrypt(ByteView ciphertext);

  // The handshake hash h of the completed handshake (a channel binding).
  const HandshakeHash& handshake_hash() const { return handshake_hash_; }
  std::uint64_t send_nonce() const { return send_.nonce(); }
  std::uint64_t receive_nonce() const { return receive_.nonce(); }
  std::uint32_t auth_failures() const { return auth_failures_; }
  // True once kMaxAuthFailures messages failed: the connection must be closed.
  bool is_closed() const { return auth_failures_ >= kMaxAuthFailures; }

 private:
  SendCipher send_;
  ReceiveCipher receive_;
  HandshakeHash handshake_hash_;
  std::uint32_t auth_failures_ = 0;
};

}  // namespace sotto::noise
