// ratchet.hpp — the Double Ratchet session of Sotto, after Signal's Double
// Ratchet specification (docs/protocol.md section 30).
//
// A session starts from X3DH's 32-byte shared key SK, the associated data AD
// and the responder's ratchet key pair: the initiator (Alice) knows its public
// half and draws her first ratchet key from an injected Rng; the responder
// (Bob) holds the pair and can send only after his first received message.
//
//   encrypt(State&, plaintext)        advances the sending chain in place and
//                                     returns header || ciphertext
//   decrypt(const State&, msg, Rng&)  works on a copy: returns the plaintext and
//                                     the next State; the caller commits both.
//                                     On any failure nothing changes.
//
// decrypt takes an Rng because a message carrying a new ratchet key makes the
// receiver generate its next ratchet key pair at once (the spec's DHRatchet);
// it draws exactly 32 bytes then, and none otherwise.
//
// Failures (ProtocolError): kMalformed (size, version, counter), kDuplicateMessage
// (a key already used or deleted, see the spec for exactly when),
// kTooManySkipped (over kMaxSkip), kLowOrderKey (a peer ratchet key of small
// order), kDecryptFailed (authentication failed), kOutOfOrder (encrypt before
// a sending chain exists), kNonceExhausted (a sending chain at kMaxCounter),
// kStateCorrupt (restore of malformed state).
//
// The State owns every secret it holds (Secret / SecretBytes); it is move-only
// and copied only through clone(). serialize()/restore() use the
// sotto.store.RatchetSession schema of proto/store.proto, written straight into
// a SecretBytes buffer (never through a std::string).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/ratchet_header.hpp"
#include "common/ratchet_keys.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"
#include "common/skipped_keys.hpp"

namespace sotto::ratchet {

// Longest associated data a session accepts (X3DH's AD is 64 bytes).
inline constexpr std::size_t kMaxAssociatedDataBytes = 1024;
// Version of the serialised state (RatchetSession.version).
inline constexpr std::uint32_t kStateVersion = 1;

class State;
struct Decrypted;

Result<Bytes, ProtocolError> encrypt(State& state, ByteView plaintext);
Result<Bytes, ProtocolError> encrypt(State& state, const SecretBytes& plaintext);
Result<Decrypted, ProtocolError> decrypt(const State& state, ByteView message, Rng& rng);

class State {
 public:
  // RatchetInitAlice: DHs = GENERATE_DH() from `rng` (32 bytes drawn),
  // DHr = responder_ratchet_key, (RK, CKs) = KDF_RK(SK, DH(DHs, DHr)).
  // kMalformed if AD is longer than kMaxAssociatedDataBytes; kLowOrderKey if
  // the responder's key is of small order.
  static Result<State, ProtocolError> init_initiator(Key32 shared_key, ByteView associated_data,
                                                     const X25519PublicKey& responder_ratchet_key,
                                                     Rng& rng);
  // RatchetInitBob: DHs = the responder's ratchet key pair (public half must
  // match the secret), RK = SK, no chains yet. kMalformed if AD is too long.
  static Result<State, ProtocolError> init_responder(Key32 shared_key, ByteView associated_data,
                                                     X25519KeyPair responder_ratchet_key);

  State(State&&) noexcept = default;
  State& operator=(State&&) noexcept = default;
  State clone() const;

  // Serialised sotto.store.RatchetSession (secret: holds every key).
  SecretBytes serialize() const;
  // kStateCorrupt for anything malformed (see the spec, "Stored state").
  static Result<State, ProtocolError> restore(ByteView serialized);
  static Result<State, ProtocolError> restore(const SecretBytes& serialized) {
    return restore(serialized.view());
  }

  // ---- public facts about the session ----
  bool can_send() const { return sending_chain_.has_value(); }
  const X25519PublicKey& ratchet_public_key() const { return dh_self_.public_key; }
  const std::optional<X25519PublicKey>& peer_ratchet_key() const { return dh_remote_; }
  std::uint32_t sending_counter() const { return ns_; }
  std::uint32_t receiving_counter() const { return nr_; }
  std::uint32_t previous_sending_counter() const { return pn_; }
  std::size_t skipped_key_count() const { return skipped_.size(); }
  ByteView associated_data() const { return ad_; }

 private:
  State() = default;
  friend Result<Bytes, ProtocolError> encrypt(State& state, ByteView plaintext);
  friend Result<Decrypted, ProtocolError> decrypt(const State& state, ByteView message, Rng& rng);

  // Stores the keys of the current receiving chain from Nr up to `until` (exclusive).
  void skip_receiving_until(std::uint32_t until);
  // DHRatchet: new peer key -> receiving chain; new own key pair -> sending chain.
  Result<void, ProtocolError> dh_ratchet(const X25519PublicKey& peer, Rng& rng);

  Bytes ad_;                                          // session AD (public)
  X25519KeyPair dh_self_;                             // DHs
  std::optional<X25519PublicKey> dh_remote_;          // DHr
  RootKey root_;                                      // RK
  std::optional<SendingChainKey> sending_chain_;      // CKs
  std::optional<ReceivingChainKey> receiving_chain_;  // CKr
  std::uint32_t ns_ = 0;                              // Ns
  std::uint32_t nr_ = 0;                              // Nr
  std::uint32_t pn_ = 0;                              // PN
  SkippedKeys skipped_;                               // MKSKIPPED
};

struct Decrypted {
  SecretBytes plaintext;
  State next;
};

}  // namespace sotto::ratchet
