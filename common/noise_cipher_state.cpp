// noise_cipher_state.cpp — CipherState over libsodium's ChaCha20-Poly1305 (IETF).
#include "common/noise_cipher_state.hpp"

#include <algorithm>
#include <array>

#include "common/crypto.hpp"

namespace sotto::noise {

namespace {

// ChaChaPoly nonce (Noise section 12.3): 32 bits of zeros followed by the
// little-endian encoding of n.
std::array<std::uint8_t, 12> chachapoly_nonce(std::uint64_t n) {
  std::array<std::uint8_t, 12> nonce{};
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

}  // namespace

Result<Bytes, ProtocolError> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
  Bytes out(plaintext.size() + (k_ ? kTagLen : 0));
  SOTTO_TRY_VOID(encrypt_with_ad_into(ad, plaintext, out));
  return out;
}

Result<void, ProtocolError> CipherState::encrypt_with_ad_into(ByteView ad, ByteView plaintext,
                                                              MutableByteView out) {
  if (out.size() != plaintext.size() + (k_ ? kTagLen : 0)) return fail(ProtocolError::kMalformed);
  if (!k_) {
    std::copy(plaintext.begin(), plaintext.end(), out.begin());
    return {};
  }
  if (n_ == kReservedNonce) return fail(ProtocolError::kNonceExhausted);
  // ENCRYPT(k, n, ad, plaintext); n = n + 1
  const auto nonce = chachapoly_nonce(n_);
  crypto::aead_chacha20poly1305_seal_into(k_->view(), nonce, ad, plaintext, out);
  ++n_;
  return {};
}

Result<SecretBytes, ProtocolError> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
  if (!k_) return SecretBytes::copy_of(ciphertext);
  if (n_ == kReservedNonce) return fail(ProtocolError::kNonceExhausted);
  if (ciphertext.size() < kTagLen) return fail(ProtocolError::kDecryptFailed);
  // DECRYPT(k, n, ad, ciphertext); n = n + 1 only if it authenticated.
  const auto nonce = chachapoly_nonce(n_);
  auto opened = crypto::aead_chacha20poly1305_open(k_->view(), nonce, ad, ciphertext);
  if (!opened) return fail(ProtocolError::kDecryptFailed);
  ++n_;
  return std::move(opened).value();
}

void CipherState::rekey() {
  if (!k_) return;
  // REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros[32]), truncated to 32 bytes.
  static constexpr std::uint8_t kZeros[kCipherKeyLen] = {};
  const auto nonce = chachapoly_nonce(kReservedNonce);
  SecretBytes out(kCipherKeyLen + kTagLen);
  crypto::aead_chacha20poly1305_seal_into(k_->view(), nonce, {}, ByteView(kZeros, sizeof kZeros),
                                          out.mutable_view());
  k_ = CipherKey::copy_of(out.view().first(kCipherKeyLen));
}

}  // namespace sotto::noise
