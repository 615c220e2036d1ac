// noise_symmetric_state.hpp — the Noise SymmetricState (Noise Protocol
// Framework, revision 34, section 5.2) with the hash BLAKE2b (section 12.8),
// plus the HASH, HMAC-HASH and HKDF functions it is built from (section 4.3).
//
//   HASH(data)        = BLAKE2b with a 64-byte output, unkeyed. HASHLEN = 64,
//                       BLOCKLEN = 128.
//   HMAC-HASH(K, t)   = RFC 2104 HMAC over HASH with a 128-byte block.
//   HKDF(ck, ikm, 2)  = temp_key = HMAC-HASH(ck, ikm);
//                       output1 = HMAC-HASH(temp_key, 0x01);
//                       output2 = HMAC-HASH(temp_key, output1 || 0x02).
//
// The state is a chaining key ck (secret, 64 bytes), a handshake hash h
// (64 bytes, not secret: it is a hash of the transcript) and a CipherState.
//
// What fails: decrypt_and_hash fails with kDecryptFailed when authentication
// fails, and encrypt_and_hash with kNonceExhausted at the reserved nonce (never
// reached during a handshake). The handshake that owns this state treats any
// failure as fatal, so partial updates on failure do not matter. Ownership: the
// state owns ck and the CipherState key; split() hands out new keys.
#pragma once

#include <span>
#include <string_view>
#include <utility>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/noise_cipher_state.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto::noise {

inline constexpr std::size_t kHashLen = 64;    // BLAKE2b HASHLEN
inline constexpr std::size_t kBlockLen = 128;  // BLAKE2b BLOCKLEN

using ChainingKey = Secret<struct NoiseChainingKeyTag, kHashLen>;
// An HKDF output: HASHLEN secret bytes (ck, or a cipher key before truncation).
using HkdfOutput = Secret<struct NoiseHkdfOutputTag, kHashLen>;
// The handshake hash h: public, usable as a channel binding once complete.
using HandshakeHash = PublicBytes<struct NoiseHandshakeHashTag, kHashLen>;

// HMAC-HASH(key, data) per RFC 2104 over BLAKE2b-512 with BLOCKLEN 128. Keys
// longer than BLOCKLEN are first hashed (never the case inside Noise).
void hmac_blake2b(ByteView key, ByteView data, std::span<std::uint8_t, kHashLen> out);

// HKDF(chaining_key, input_key_material, 2) of section 4.3.
std::pair<HkdfOutput, HkdfOutput> hkdf2(ByteView chaining_key, ByteView input_key_material);

class SymmetricState {
 public:
  // InitializeSymmetric(protocol_name): h = protocol_name padded with zeros to
  // HASHLEN if it fits, else HASH(protocol_name); ck = h; no cipher key.
  explicit SymmetricState(std::string_view protocol_name);

  SymmetricState(SymmetricState&&) noexcept = default;
  SymmetricState& operator=(SymmetricState&&) noexcept = default;

  // MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k[0..32)).
  void mix_key(ByteView input_key_material);
  // MixHash(data): h = HASH(h || data).
  void mix_hash(ByteView data);
  // EncryptAndHash(plaintext): c = EncryptWithAd(h, plaintext); MixHash(c).
  Result<Bytes, ProtocolError> encrypt_and_hash(ByteView plaintext);
  // DecryptAndHash(c): p = DecryptWithAd(h, c); MixHash(c). h is unchanged on failure.
  Result<SecretBytes, ProtocolError> decrypt_and_hash(ByteView ciphertext);
  // Split(): temp_k1, temp_k2 = HKDF(ck, empty, 2); two CipherStates keyed with
  // the first 32 bytes of each (k1: initiator to responder, k2: the reverse).
  std::pair<CipherState, CipherState> split() const;

  bool has_key() const { return cipher_.has_key(); }
  const HandshakeHash& handshake_hash() const { return h_; }

 private:
  ChainingKey ck_;
  HandshakeHash h_;
  CipherState cipher_;
};

}  // namespace sotto::noise
