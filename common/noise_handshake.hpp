// noise_handshake.hpp — the Noise HandshakeState (Noise Protocol Framework,
// revision 34, section 5.3) as an I/O-free state machine, for
// Noise_<P>_25519_ChaChaPoly_BLAKE2b with P one of the interactive patterns
// below. Sotto uses IK (a device's authenticated connection) and NK
// (anonymous connections); NN, KK, XK and XX are here so the implementation
// is checked against every published vector of this cipher suite.
//
// Use: create(), then alternately write_message()/read_message() in the order
// of the pattern (the initiator writes first) until is_complete(), then split()
// once. Each call is one step: bytes in, bytes or payload out; no I/O.
//
// What fails (every failure is final):
//   - create(): kHandshakeFailed when a key the pattern needs is missing
//     (local static for a role that sends or pre-shares "s", remote static for
//     a peer whose "s" is a pre-message), a key is given that the pattern
//     does not use, or the local static public key does not match its secret.
//   - write_message(): kOutOfOrder when it is not our turn or the handshake is
//     complete; kMalformed when the payload exceeds kMaxHandshakePayload;
//     kHandshakeFailed when a DH output is all zeros (low-order key).
//   - read_message(): kOutOfOrder as above; kHandshakeFailed when the message
//     is too short or too long, a key is low-order, or any decryption fails
//     (tampering, or the wrong responder static key given to the initiator).
//   After any error the handshake is unusable: is_failed() is true and every
//   later call returns kHandshakeFailed. The owner closes the connection.
//
// Ownership: the handshake owns the local static key pair, the ephemeral key
// pair and the SymmetricState (all wiped on destruction). It keeps a reference
// to the caller's Rng, which must outlive it. It is move-only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/noise_symmetric_state.hpp"
#include "common/noise_transport.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"

namespace sotto::noise {

inline constexpr std::size_t kDhLen = 32;  // X25519 DHLEN
// Largest handshake payload (plaintext) Sotto accepts in any handshake message.
inline constexpr std::size_t kMaxHandshakePayload = 2048;

enum class Pattern { kNN, kNK, kKK, kXK, kIK, kXX };
enum class Role { kInitiator, kResponder };

// "NN", "IK", ... and the inverse (nullopt for a pattern not implemented).
std::string_view pattern_name(Pattern p);
std::optional<Pattern> pattern_from_name(std::string_view name);
// "Noise_<P>_25519_ChaChaPoly_BLAKE2b"
std::string protocol_name(Pattern p);
// Parses a full protocol name of this suite; nullopt for anything else.
std::optional<Pattern> pattern_from_protocol_name(std::string_view name);

struct HandshakeConfig {
  Role role = Role::kInitiator;
  Pattern pattern = Pattern::kIK;
  Bytes prologue;
  std::optional<X25519KeyPair> local_static;     // s
  std::optional<X25519PublicKey> remote_static;  // rs (pre-message keys only)
  // Test vectors only: the ephemeral secret to use instead of one from the Rng.
  std::optional<X25519SecretKey> fixed_ephemeral;
  // Passed to split(): the transport's rekey interval (kRekeyInterval in
  // Sotto; 0 disables rekeying, for generic Noise interop tests only).
  std::uint64_t rekey_interval = kRekeyInterval;
};

class NoiseHandshake {
 public:
  // Initialize(): InitializeSymmetric(protocol_name); MixHash(prologue);
  // MixHash of each pre-message public key (initiator's first).
  static Result<NoiseHandshake, ProtocolError> create(HandshakeConfig config, Rng& rng);

  NoiseHandshake(NoiseHandshake&&) noexcept = default;
  NoiseHandshake& operator=(NoiseHandshake&&) noexcept = default;

  // WriteMessage(payload): the next handshake message to send.
  Result<Bytes, ProtocolError> write_message(ByteView payload);
  // ReadMessage(message): the peer's payload (opaque here; the relay protocol
  // defines it).
  Result<SecretBytes, ProtocolError> read_message(ByteView message);

  // True when the next step is write_message (and not complete or failed).
  bool is_my_turn_to_write() const;
  bool is_complete() const { return !failed_ && next_message_ == message_count(); }
  bool is_failed() const { return failed_; }

  // Split(): the transport. Only once, only when complete (else kOutOfOrder).
  Result<NoiseTransport, ProtocolError> split();

  // h: the handshake hash. Final (and equal on both sides) once complete.
  const HandshakeHash& handshake_hash() const { return symmetric_.handshake_hash(); }
  // rs: the peer's static key, once known (pre-message or received "s").
  const std::optional<X25519PublicKey>& remote_static() const { return rs_; }
  Role role() const { return config_role_; }
  Pattern pattern() const { return pattern_; }

 private:
  NoiseHandshake(Role role, Pattern pattern, Rng& rng, std::uint64_t rekey_interval);
  std::size_t message_count() const;
  bool is_my_turn_to_write_unchecked() const;
  bool initiator_writes(std::size_t index) const { return index % 2 == 0; }
  Result<Bytes, ProtocolError> write_tokens(ByteView payload);
  Result<SecretBytes, ProtocolError> read_tokens(ByteView message);
  Result<void, ProtocolError> mix_dh(const X25519SecretKey& secret,
                                     const std::optional<X25519PublicKey>& peer);

  Role config_role_;
  Pattern pattern_;
  Rng* rng_;
  std::uint64_t rekey_interval_;
  SymmetricState symmetric_;
  std::optional<X25519KeyPair> s_;
  std::optional<X25519KeyPair> e_;
  std::optional<X25519PublicKey> rs_;
  std::optional<X25519PublicKey> re_;
  std::optional<X25519SecretKey> fixed_ephemeral_;
  std::size_t next_message_ = 0;
  bool failed_ = false;
  bool split_done_ = false;
};

}  // namespace sotto::noise
