// crypto.hpp — typed wrappers over the libsodium primitives Sotto uses.
//
// Every fallible call is [[nodiscard]] and returns a Result or bool: a caller
// cannot forget that X25519 rejects low-order points or that a signature can
// fail. Keys are distinct types (X25519 vs Ed25519, public vs secret).
//
//   X25519 (RFC 7748)            x25519_generate, x25519_public_from, x25519
//   Ed25519 (RFC 8032)           ed25519_generate, ed25519_sign, ed25519_verify
//   Ed25519 -> X25519            ed25519_public_to_x25519, ed25519_secret_to_x25519
//   HMAC-SHA-256 (RFC 2104)      hmac_sha256
//   HKDF-SHA-256 (RFC 5869)      hkdf_sha256_extract, hkdf_sha256_expand, hkdf_sha256
//   ChaCha20-Poly1305 (RFC 8439) aead_chacha20poly1305_seal / _open
//   XChaCha20-Poly1305           aead_xchacha20poly1305_seal / _open
//   BLAKE2b (RFC 7693)           blake2b, Blake2b (incremental)
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

namespace sotto {

using X25519PublicKey = PublicBytes<struct X25519PublicTag, 32>;
using X25519SecretKey = Secret<struct X25519SecretTag, 32>;
using Ed25519PublicKey = PublicBytes<struct Ed25519PublicTag, 32>;
// libsodium's form: the 32-byte seed followed by the 32-byte public key.
using Ed25519SecretKey = Secret<struct Ed25519SecretTag, 64>;
using Ed25519Seed = Secret<struct Ed25519SeedTag, 32>;
using Ed25519Signature = PublicBytes<struct Ed25519SignatureTag, 64>;
// The output of X25519: a secret, never used directly as a key.
using SharedSecret = Secret<struct SharedSecretTag, 32>;

struct X25519KeyPair {
  X25519SecretKey secret;
  X25519PublicKey public_key;
};

struct Ed25519KeyPair {
  Ed25519SecretKey secret;
  Ed25519PublicKey public_key;
};

using Key32 = std::span<const std::uint8_t, 32>;

namespace crypto {

inline constexpr std::size_t kAeadTagBytes = 16;
inline constexpr std::size_t kChaChaNonceBytes = 12;
inline constexpr std::size_t kXChaChaNonceBytes = 24;
inline constexpr std::size_t kHkdfSha256MaxOutput = 255 * 32;

// Fresh public bytes from `rng` (nonces, salts, ids).
Bytes random_bytes(Rng& rng, std::size_t n);

// ---- X25519 ----
// A key pair whose secret is 32 bytes from `rng` (clamped by X25519 itself).
X25519KeyPair x25519_generate(Rng& rng);
// The key pair with the given secret scalar.
X25519KeyPair x25519_from_secret(X25519SecretKey secret);
X25519PublicKey x25519_public_from(const X25519SecretKey& secret);
// DH(secret, peer). Fails with kLowOrderPoint when the result is all zeros,
// which is exactly when `peer` is a point of small order (RFC 7748, section 6.1).
[[nodiscard]] Result<SharedSecret, CryptoError> x25519(const X25519SecretKey& secret,
                                                      const X25519PublicKey& peer);

// ---- Ed25519 ----
Ed25519KeyPair ed25519_generate(Rng& rng);
Ed25519KeyPair ed25519_from_seed(const Ed25519Seed& seed);
Ed25519Signature ed25519_sign(const Ed25519SecretKey& secret, ByteView message);
// True only for a valid signature by `key` over `message`. libsodium 1.0.18
// rejects non-canonical S, small-order R and small-order public keys.
[[nodiscard]] bool ed25519_verify(const Ed25519PublicKey& key, ByteView message,
                                  const Ed25519Signature& signature);

// ---- Ed25519 -> X25519 (birational map; libsodium's conversion) ----
[[nodiscard]] Result<X25519PublicKey, CryptoError> ed25519_public_to_x25519(
    const Ed25519PublicKey& key);
X25519SecretKey ed25519_secret_to_x25519(const Ed25519SecretKey& key);

// ---- HMAC-SHA-256 ----
void hmac_sha256(ByteView key, ByteView data, std::span<std::uint8_t, 32> out);
// Over data1 || data2 without concatenating (the ratchet's chain step).
void hmac_sha256(ByteView key, ByteView data1, ByteView data2, std::span<std::uint8_t, 32> out);

// ---- HKDF-SHA-256 (RFC 5869) ----
// PRK = HMAC-SHA-256(salt, IKM); an empty salt means 32 zero bytes.
SecretBytes hkdf_sha256_extract(ByteView salt, ByteView ikm);
// OKM of `length` bytes; kInvalidLength when length is 0 or > 255 * 32, or
// when `prk` is shorter than 32 bytes.
[[nodiscard]] Result<SecretBytes, CryptoError> hkdf_sha256_expand(ByteView prk, ByteView info,
                                                                  std::size_t length);
[[nodiscard]] Result<SecretBytes, CryptoError> hkdf_sha256(ByteView salt, ByteView ikm,
                                                           ByteView info, std::size_t length);

// ---- AEAD ----
// Output: ciphertext || 16-byte tag.
Bytes aead_chacha20poly1305_seal(Key32 key, std::span<const std::uint8_t, 12> nonce, ByteView ad,
                                 ByteView plaintext);
[[nodiscard]] Result<SecretBytes, CryptoError> aead_chacha20poly1305_open(
    Key32 key, std::span<const std::uint8_t, 12> nonce, ByteView ad, ByteView ciphertext);
// Opens into `out` (ciphertext.size() - 16 bytes), for hot paths that reuse a buffer.
[[nodiscard]] Result<void, CryptoError> aead_chacha20poly1305_open_into(
    Key32 key, std::span<const std::uint8_t, 12> nonce, ByteView ad, ByteView ciphertext,
    MutableByteView out);
// Seals into `out` (plaintext.size() + 16 bytes).
void aead_chacha20poly1305_seal_into(Key32 key, std::span<const std::uint8_t, 12> nonce,
                                     ByteView ad, ByteView plaintext, MutableByteView out);

Bytes aead_xchacha20poly1305_seal(Key32 key, std::span<const std::uint8_t, 24> nonce, ByteView ad,
                                  ByteView plaintext);
[[nodiscard]] Result<SecretBytes, CryptoError> aead_xchacha20poly1305_open(
    Key32 key, std::span<const std::uint8_t, 24> nonce, ByteView ad, ByteView ciphertext);

// ---- BLAKE2b ----
// Unkeyed or keyed (key up to 64 bytes) BLAKE2b with an output of 1..64 bytes.
Bytes blake2b(std::size_t out_len, ByteView data, ByteView key = {});

class Blake2b {
 public:
  explicit Blake2b(std::size_t out_len, ByteView key = {});
  ~Blake2b();
  Blake2b(const Blake2b&) = delete;
  Blake2b& operator=(const Blake2b&) = delete;
  void update(ByteView data);
  // Writes out_len bytes; the object may not be updated afterwards.
  void finish(MutableByteView out);

 private:
  alignas(64) unsigned char state_[384];
  std::size_t out_len_;
};

// ---- comparison ----
// Constant-time equality for MACs and secrets (false when sizes differ).
[[nodiscard]] bool ct_equal(ByteView a, ByteView b);
// True when every byte is zero, in constant time.
[[nodiscard]] bool is_zero(ByteView v);

}  // namespace crypto
}  // namespace sotto
