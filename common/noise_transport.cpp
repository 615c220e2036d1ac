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

Result<void, ProtocolError> SendCipher::encrypt_into(ByteView plaintext, MutableByteView out) {
  // EncryptWithAd(zerolen, plaintext)
  SOTTO_TRY_VOID(cs_.encrypt_with_ad_into({}, plaintext, out));
  if (rekey_due(cs_.nonce(), rekey_interval_)) cs_.rekey();
  return {};
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

Result<void, ProtocolError> NoiseTransport::encrypt_frame_into(ByteView plaintext, Bytes& out) {
  if (is_closed()) return fail(ProtocolError::kOutOfOrder);
  if (plaintext.size() > kMaxTransportPlaintext) return fail(ProtocolError::kMalformed);
  const std::size_t at = out.size();
  const std::size_t len = plaintext.size() + kTagLen;  // <= kMaxMessageLen
  out.resize(at + 2 + len);
  out[at] = static_cast<std::uint8_t>(len >> 8);
  out[at + 1] = static_cast<std::uint8_t>(len);
  auto sealed = send_.encrypt_into(plaintext, MutableByteView(out).subspan(at + 2, len));
  if (!sealed) out.resize(at);  // nothing appended on failure
  return sealed;
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
