// crypto.cpp — libsodium behind the typed interface of crypto.hpp.
#include "common/crypto.hpp"

#include <sodium.h>

#include <cstdlib>
#include <new>

namespace sotto::crypto {

static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);
static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_BYTES == 64 && crypto_sign_SEEDBYTES == 32);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kChaChaNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kXChaChaNonceBytes);
static_assert(crypto_auth_hmacsha256_BYTES == 32);

namespace {
// libsodium only fails on these calls for arguments we have already checked;
// a failure is a broken invariant, not an input error.
void must(int rc) {
  if (rc != 0) std::abort();
}
}  // namespace

Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes out(n);
  rng.fill(out);
  return out;
}

// ---- X25519 ----

X25519KeyPair x25519_from_secret(X25519SecretKey secret) {
  X25519PublicKey pub = x25519_public_from(secret);
  return {std::move(secret), pub};
}

X25519KeyPair x25519_generate(Rng& rng) {
  ensure_sodium();
  X25519SecretKey secret;
  rng.fill(secret.mutable_view());
  return x25519_from_secret(std::move(secret));
}

X25519PublicKey x25519_public_from(const X25519SecretKey& secret) {
  ensure_sodium();
  X25519PublicKey pub;
  must(crypto_scalarmult_base(pub.data(), secret.data()));
  return pub;
}

Result<SharedSecret, CryptoError> x25519(const X25519SecretKey& secret,
                                         const X25519PublicKey& peer) {
  ensure_sodium();
  SharedSecret out;
  // libsodium returns -1 when the output is all zeros (a low-order peer point).
  if (crypto_scalarmult(out.data(), secret.data(), peer.data()) != 0) {
    return fail(CryptoError::kLowOrderPoint);
  }
  // Belt and braces: never let an all-zero secret through, whatever the library version.
  if (is_zero(out.view())) return fail(CryptoError::kLowOrderPoint);
  return out;
}

// ---- Ed25519 ----

Ed25519KeyPair ed25519_from_seed(const Ed25519Seed& seed) {
  ensure_sodium();
  Ed25519KeyPair kp{Ed25519SecretKey(), Ed25519PublicKey()};
  must(crypto_sign_seed_keypair(kp.public_key.data(), kp.secret.data(), seed.data()));
  return kp;
}

Ed25519KeyPair ed25519_generate(Rng& rng) {
  Ed25519Seed seed;
  rng.fill(seed.mutable_view());
  return ed25519_from_seed(seed);
}

Ed25519Signature ed25519_sign(const Ed25519SecretKey& secret, ByteView message) {
  ensure_sodium();
  Ed25519Signature sig;
  must(crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret.data()));
  return sig;
}

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message,
                    const Ed25519Signature& signature) {
  ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

Result<X25519PublicKey, CryptoError> ed25519_public_to_x25519(const Ed25519PublicKey& key) {
  ensure_sodium();
  X25519PublicKey out;
  // Fails for points not on the curve and for small-order points.
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), key.data()) != 0) {
    return fail(CryptoError::kInvalidKey);
  }
  return out;
}

X25519SecretKey ed25519_secret_to_x25519(const Ed25519SecretKey& key) {
  ensure_sodium();
  X25519SecretKey out;
  must(crypto_sign_ed25519_sk_to_curve25519(out.data(), key.data()));
  return out;
}

// ---- HMAC-SHA-256 ----

void hmac_sha256(ByteView key, ByteView data1, ByteView data2, std::span<std::uint8_t, 32> out) {
  ensure_sodium();
  crypto_auth_hmacsha256_state st;
  must(crypto_auth_hmacsha256_init(&st, key.data(), key.size()));
  must(crypto_auth_hmacsha256_update(&st, data1.data(), data1.size()));
  if (!data2.empty()) must(crypto_auth_hmacsha256_update(&st, data2.data(), data2.size()));
  must(crypto_auth_hmacsha256_final(&st, out.data()));
  sodium_memzero(&st, sizeof st);
}

void hmac_sha256(ByteView key, ByteView data, std::span<std::uint8_t, 32> out) {
  hmac_sha256(key, data, {}, out);
}

// ---- HKDF-SHA-256 (RFC 5869) ----

SecretBytes hkdf_sha256_extract(ByteView salt, ByteView ikm) {
  static constexpr std::uint8_t kZeroSalt[32] = {};
  // RFC 5869 2.2: "if not provided, [salt] is set to a string of HashLen zeros".
  if (salt.empty()) salt = ByteView(kZeroSalt, sizeof kZeroSalt);
  SecretBytes prk(32);
  hmac_sha256(salt, ikm, std::span<std::uint8_t, 32>(prk.data(), 32));
  return prk;
}

Result<SecretBytes, CryptoError> hkdf_sha256_expand(ByteView prk, ByteView info,
                                                    std::size_t length) {
  if (length == 0 || length > kHkdfSha256MaxOutput || prk.size() < 32) {
    return fail(CryptoError::kInvalidLength);
  }
  ensure_sodium();
  SecretBytes okm(length);
  SecretBytes t(32);  // T(i)
  std::size_t t_len = 0;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < length; ++i) {
    // T(i) = HMAC(PRK, T(i-1) || info || i)
    crypto_auth_hmacsha256_state st;
    must(crypto_auth_hmacsha256_init(&st, prk.data(), prk.size()));
    must(crypto_auth_hmacsha256_update(&st, t.data(), t_len));
    must(crypto_auth_hmacsha256_update(&st, info.data(), info.size()));
    must(crypto_auth_hmacsha256_update(&st, &i, 1));
    must(crypto_auth_hmacsha256_final(&st, t.data()));
    sodium_memzero(&st, sizeof st);
    t_len = 32;
    std::size_t n = std::min<std::size_t>(32, length - done);
    std::copy_n(t.data(), n, okm.data() + done);
    done += n;
  }
  return okm;
}

Result<SecretBytes, CryptoError> hkdf_sha256(ByteView salt, ByteView ikm, ByteView info,
                                             std::size_t length) {
  SecretBytes prk = hkdf_sha256_extract(salt, ikm);
  return hkdf_sha256_expand(prk.view(), info, length);
}

// ---- AEAD ----

void aead_chacha20poly1305_seal_into(Key32 key, std::span<const std::uint8_t, 12> nonce,
                                     ByteView ad, ByteView plaintext, MutableByteView out) {
  ensure_sodium();
  if (out.size() != plaintext.size() + kAeadTagBytes) std::abort();
  unsigned long long clen = 0;
  must(crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &clen, plaintext.data(),
                                                 plaintext.size(), ad.data(), ad.size(), nullptr,
                                                 nonce.data(), key.data()));
}

Bytes aead_chacha20poly1305_seal(Key32 key, std::span<const std::uint8_t, 12> nonce, ByteView ad,
                                 ByteView plaintext) {
  Bytes out(plaintext.size() + kAeadTagBytes);
  aead_chacha20poly1305_seal_into(key, nonce, ad, plaintext, out);
  return out;
}

Result<void, CryptoError> aead_chacha20poly1305_open_into(Key32 key,
                                                          std::span<const std::uint8_t, 12> nonce,
                                                          ByteView ad, ByteView ciphertext,
                                                          MutableByteView out) {
  ensure_sodium();
  if (ciphertext.size() < kAeadTagBytes || out.size() != ciphertext.size() - kAeadTagBytes) {
    return fail(CryptoError::kInvalidLength);
  }
  unsigned long long mlen = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &mlen, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key.data()) != 0) {
    return fail(CryptoError::kDecryptFailed);
  }
  return {};
}

Result<SecretBytes, CryptoError> aead_chacha20poly1305_open(Key32 key,
                                                            std::span<const std::uint8_t, 12> nonce,
                                                            ByteView ad, ByteView ciphertext) {
  if (ciphertext.size() < kAeadTagBytes) return fail(CryptoError::kInvalidLength);
  SecretBytes out(ciphertext.size() - kAeadTagBytes);
  SOTTO_TRY_VOID(aead_chacha20poly1305_open_into(key, nonce, ad, ciphertext, out.mutable_view()));
  return out;
}

Bytes aead_xchacha20poly1305_seal(Key32 key, std::span<const std::uint8_t, 24> nonce, ByteView ad,
                                  ByteView plaintext) {
  ensure_sodium();
  Bytes out(plaintext.size() + kAeadTagBytes);
  unsigned long long clen = 0;
  must(crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &clen, plaintext.data(),
                                                  plaintext.size(), ad.data(), ad.size(), nullptr,
                                                  nonce.data(), key.data()));
  return out;
}

Result<SecretBytes, CryptoError> aead_xchacha20poly1305_open(
    Key32 key, std::span<const std::uint8_t, 24> nonce, ByteView ad, ByteView ciphertext) {
  ensure_sodium();
  if (ciphertext.size() < kAeadTagBytes) return fail(CryptoError::kInvalidLength);
  SecretBytes out(ciphertext.size() - kAeadTagBytes);
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &mlen, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(),
                                                 nonce.data(), key.data()) != 0) {
    return fail(CryptoError::kDecryptFailed);
  }
  return out;
}

// ---- BLAKE2b ----

Bytes blake2b(std::size_t out_len, ByteView data, ByteView key) {
  Blake2b h(out_len, key);
  h.update(data);
  Bytes out(out_len);
  h.finish(out);
  return out;
}

static_assert(sizeof(crypto_generichash_state) <= 384);

Blake2b::Blake2b(std::size_t out_len, ByteView key) : out_len_(out_len) {
  ensure_sodium();
  // BLAKE2b (RFC 7693 2.1) takes any output of 1..64 bytes and a key of 0..64
  // bytes, as crypto.hpp promises; libsodium's *_BYTES_MIN (16) is only advice.
  if (out_len == 0 || out_len > crypto_generichash_BYTES_MAX ||
      key.size() > crypto_generichash_KEYBYTES_MAX) {
    std::abort();  // a programming error: lengths are constants at every call site
  }
  auto* st = new (state_) crypto_generichash_state;
  must(crypto_generichash_init(st, key.empty() ? nullptr : key.data(), key.size(), out_len));
}

Blake2b::~Blake2b() { sodium_memzero(state_, sizeof state_); }

void Blake2b::update(ByteView data) {
  must(crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), data.data(),
                                 data.size()));
}

void Blake2b::finish(MutableByteView out) {
  if (out.size() != out_len_) std::abort();
  must(crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), out.data(),
                                out.size()));
}

// ---- comparison ----

bool ct_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool is_zero(ByteView v) { return sodium_is_zero(v.data(), v.size()) == 1; }

}  // namespace sotto::crypto
