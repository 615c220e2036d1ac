// noise_transport.cpp — transport messages, the rekey policy and the
// authentication-failure rule of noise_transport.hpp.
#include "common/noise_transport.hpp"

namespace sotto::noise {

namespace {
// Rekey policy: rekey after the message with nonce n when (n + 1) is a
// multiple of the interval; `next` is the nonce after that message (n + 1).
bool rekey_due(std::uint64_t next, std::uint64_t interval) {
  return interval != 0 && next % interval == 0;
}
}  // namespace

Result<Bytes, ProtocolError> SendCipher::encrypt(ByteView plaintext) {
  // EncryptWithAd(zerolen, plaintext)
  SOTTO_TRY(Bytes ciphertext, cs_.encrypt_with_ad({}, plaintext));
  if (rekey_due(cs_.nonce(), rekey_interval_)) cs_.rekey();
  return ciphertext;
}

Result<SecretBytes, ProtocolError> ReceiveCipher::decrypt(ByteView ciphertext) {
  // DecryptWithAd(zerolen, ciphertext): n advances only when it authenticates,
  // and the rekey that follows happens only then too.
  SOTTO_TRY(SecretBytes plaintext, cs_.decrypt_with_ad({}, ciphertext));
  if (rekey_due(cs_.nonce(), rekey_interval_)) cs_.rekey();
  return plaintext;
}

Result<Bytes, ProtocolError> NoiseTransport::encrypt(ByteView plaintext) {
  if (is_closed()) return fail(ProtocolError::kOutOfOrder);
  if (plaintext.size() > kMaxTransportPlaintext) return fail(ProtocolError::kMalformed);
  return send_.encrypt(plaintext);
}

Result<SecretBytes, ProtocolError> NoiseTransport::decrypt(ByteView ciphertext) {
  if (is_closed()) return fail(ProtocolError::kOutOfOrder);
  if (ciphertext.size() > kMaxMessageLen) {
    ++auth_failures_;
    return fail(ProtocolError::kDecryptFailed);
  }
  auto plaintext = receive_.decrypt(ciphertext);
  if (!plaintext) {
    if (plaintext.error() == ProtocolError::kDecryptFailed) ++auth_failures_;
    return fail(plaintext.error());
  }
  return std::move(plaintext).value();
}

}  // namespace sotto::noise
