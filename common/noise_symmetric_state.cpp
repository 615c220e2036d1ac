// noise_symmetric_state.cpp — HASH/HMAC/HKDF over BLAKE2b and the SymmetricState.
#include "common/noise_symmetric_state.hpp"

#include <algorithm>

#include "common/crypto.hpp"

namespace sotto::noise {

void hmac_blake2b(ByteView key, ByteView data, std::span<std::uint8_t, kHashLen> out) {
  // RFC 2104: K0 = key (hashed first if longer than the block), zero-padded to BLOCKLEN.
  SecretBytes k0(kBlockLen);
  if (key.size() > kBlockLen) {
    crypto::Blake2b hk(kHashLen);
    hk.update(key);
    hk.finish(k0.mutable_view().first(kHashLen));
  } else {
    std::copy(key.begin(), key.end(), k0.data());
  }
  SecretBytes pad(kBlockLen);
  // inner = HASH((K0 ^ ipad) || data)
  for (std::size_t i = 0; i < kBlockLen; ++i) pad.data()[i] = k0.data()[i] ^ 0x36;
  SecretBytes inner(kHashLen);
  {
    crypto::Blake2b h(kHashLen);
    h.update(pad.view());
    h.update(data);
    h.finish(inner.mutable_view());
  }
  // HMAC = HASH((K0 ^ opad) || inner)
  for (std::size_t i = 0; i < kBlockLen; ++i) pad.data()[i] = k0.data()[i] ^ 0x5c;
  crypto::Blake2b h(kHashLen);
  h.update(pad.view());
  h.update(inner.view());
  h.finish(out);
}

std::pair<HkdfOutput, HkdfOutput> hkdf2(ByteView chaining_key, ByteView input_key_material) {
  // temp_key = HMAC-HASH(chaining_key, input_key_material)
  HkdfOutput temp_key;
  hmac_blake2b(chaining_key, input_key_material, temp_key.mutable_view());
  // output1 = HMAC-HASH(temp_key, byte(0x01))
  static constexpr std::uint8_t kOne[1] = {0x01};
  HkdfOutput out1;
  hmac_blake2b(temp_key.view(), ByteView(kOne, 1), out1.mutable_view());
  // output2 = HMAC-HASH(temp_key, output1 || byte(0x02))
  SecretBytes in2(kHashLen + 1);
  std::copy(out1.view().begin(), out1.view().end(), in2.data());
  in2.data()[kHashLen] = 0x02;
  HkdfOutput out2;
  hmac_blake2b(temp_key.view(), in2.view(), out2.mutable_view());
  return {std::move(out1), std::move(out2)};
}

SymmetricState::SymmetricState(std::string_view protocol_name) {
  const ByteView name = label_bytes(protocol_name);
  if (name.size() <= kHashLen) {
    // h = protocol_name || zero padding to HASHLEN
    std::copy(name.begin(), name.end(), h_.bytes.begin());
  } else {
    // h = HASH(protocol_name)
    crypto::Blake2b h(kHashLen);
    h.update(name);
    h.finish(h_.bytes);
  }
  // ck = h
  ck_ = ChainingKey::copy_of(h_.view());
}

void SymmetricState::mix_key(ByteView input_key_material) {
  // ck, temp_k = HKDF(ck, input_key_material, 2)
  auto [ck, temp_k] = hkdf2(ck_.view(), input_key_material);
  ck_ = ChainingKey::copy_of(ck.view());
  // HASHLEN is 64: temp_k is truncated to 32 bytes; InitializeKey(temp_k)
  cipher_ = CipherState(CipherKey::copy_of(temp_k.view().first(kCipherKeyLen)));
}

void SymmetricState::mix_hash(ByteView data) {
  // h = HASH(h || data)
  crypto::Blake2b h(kHashLen);
  h.update(h_.view());
  h.update(data);
  h.finish(h_.bytes);
}

Result<Bytes, ProtocolError> SymmetricState::encrypt_and_hash(ByteView plaintext) {
  SOTTO_TRY(Bytes ciphertext, cipher_.encrypt_with_ad(h_.view(), plaintext));
  mix_hash(ciphertext);
  return ciphertext;
}

Result<SecretBytes, ProtocolError> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
  SOTTO_TRY(SecretBytes plaintext, cipher_.decrypt_with_ad(h_.view(), ciphertext));
  mix_hash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::split() const {
  // temp_k1, temp_k2 = HKDF(ck, zerolen, 2), each truncated to 32 bytes.
  auto [k1, k2] = hkdf2(ck_.view(), {});
  return {CipherState(CipherKey::copy_of(k1.view().first(kCipherKeyLen))),
          CipherState(CipherKey::copy_of(k2.view().first(kCipherKeyLen)))};
}

}  // namespace sotto::noise
