// noise_cipher_state.hpp — the Noise CipherState (Noise Protocol Framework,
// revision 34, section 5.1) for the cipher ChaChaPoly (section 12.3).
//
// A CipherState holds a 32-byte key k (or no key yet) and a 64-bit counter n.
//   ENCRYPT(k, n, ad, p) = ChaCha20-Poly1305 (RFC 8439) with the 96-bit nonce
//                          4 zero bytes || n as 64-bit little-endian.
//   n = 2^64-1 is reserved (used only by REKEY): EncryptWithAd/DecryptWithAd at
//   that value fail with kNonceExhausted and change nothing.
//   REKEY(k) = the first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes).
//
// What fails: decrypt_with_ad fails with kDecryptFailed when authentication
// fails (or the ciphertext is shorter than the 16-byte tag); then the state is
// left exactly as it was (n is not advanced), as section 5.1 requires.
// Ownership: the CipherState owns its key (a Secret, wiped on destruction);
// decrypted plaintexts are returned as SecretBytes owned by the caller.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto::noise {

inline constexpr std::size_t kCipherKeyLen = 32;  // ChaChaPoly key
inline constexpr std::size_t kTagLen = 16;        // Poly1305 tag
inline constexpr std::uint64_t kReservedNonce = UINT64_MAX;

using CipherKey = Secret<struct NoiseCipherKeyTag, kCipherKeyLen>;

class CipherState {
 public:
  // InitializeKey(empty): no key; Encrypt/Decrypt pass data through unchanged.
  CipherState() = default;
  // InitializeKey(k): k = key, n = 0.
  explicit CipherState(CipherKey key) : k_(std::move(key)) {}

  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;

  // HasKey()
  bool has_key() const { return k_.has_value(); }
  std::uint64_t nonce() const { return n_; }
  // SetNonce(n)
  void set_nonce(std::uint64_t n) { n_ = n; }

  // EncryptWithAd(ad, plaintext): ENCRYPT(k, n++, ad, plaintext), or the
  // plaintext itself when there is no key. kNonceExhausted at n = 2^64-1.
  Result<Bytes, ProtocolError> encrypt_with_ad(ByteView ad, ByteView plaintext);
  // The same, written to `out`, which must be exactly as long as the result
  // (plaintext + 16 with a key, plaintext without): kMalformed otherwise.
  Result<void, ProtocolError> encrypt_with_ad_into(ByteView ad, ByteView plaintext,
                                                   MutableByteView out);

  // DecryptWithAd(ad, ciphertext): DECRYPT(k, n, ad, ciphertext) and n++ on
  // success only; a copy of the ciphertext when there is no key.
  // kDecryptFailed (state unchanged) when authentication fails.
  Result<SecretBytes, ProtocolError> decrypt_with_ad(ByteView ad, ByteView ciphertext);

  // Rekey(): k = REKEY(k); n is unchanged. A no-op without a key.
  void rekey();

 private:
  std::optional<CipherKey> k_;
  std::uint64_t n_ = 0;
};

}  // namespace sotto::noise
