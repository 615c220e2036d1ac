// ratchet_keys.cpp — KDF_RK, KDF_CK and the per-message AEAD key/nonce
// derivation of the Double Ratchet (docs/protocol.md section 30).
#include "common/ratchet_keys.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace sotto::ratchet {

namespace {
constexpr std::size_t kRootOkmBytes = 64;
constexpr std::size_t kMessageOkmBytes = 44;

// HKDF with constant, in-range lengths cannot fail; a failure is a broken invariant.
SecretBytes hkdf_or_abort(ByteView salt, ByteView ikm, std::string_view info, std::size_t len) {
  auto okm = crypto::hkdf_sha256(salt, ikm, label_bytes(info), len);
  if (!okm.ok()) std::abort();
  return std::move(okm).value();
}
}  // namespace

RootStepRaw kdf_rk_raw(const RootKey& rk, const SharedSecret& dh_out) {
  // KDF_RK(rk, DH(...)): salt = rk, IKM = DH output.
  SecretBytes okm = hkdf_or_abort(rk.view(), dh_out.view(), kRootKdfLabel, kRootOkmBytes);
  return {RootKey::copy_of(okm.view().first(32)),
          Secret<struct RootStepChainTag, 32>::copy_of(okm.view().subspan(32, 32))};
}

MessageKey kdf_ck_step(std::span<std::uint8_t, 32> ck) {
  static constexpr std::array<std::uint8_t, 1> kMk{kMessageKeyByte};
  static constexpr std::array<std::uint8_t, 1> kCk{kChainKeyByte};
  // MK = HMAC-SHA-256(CK, 0x01)
  MessageKey mk;
  crypto::hmac_sha256(ByteView(ck), kMk, mk.mutable_view());
  // CK' = HMAC-SHA-256(CK, 0x02), written over CK.
  Secret<struct NextChainTag, 32> next;
  crypto::hmac_sha256(ByteView(ck), kCk, next.mutable_view());
  std::copy(next.view().begin(), next.view().end(), ck.begin());
  return mk;
}

MessageCipherKeys message_cipher_keys(const MessageKey& mk) {
  static constexpr std::array<std::uint8_t, 32> kZeroSalt{};
  // HKDF(salt = 0^32, IKM = MK, info = "Sotto/v1/Ratchet/Message", 44) -> key || nonce
  SecretBytes okm = hkdf_or_abort(kZeroSalt, mk.view(), kMessageKdfLabel, kMessageOkmBytes);
  return {Secret<struct MessageAeadKeyTag, 32>::copy_of(okm.view().first(32)),
          Secret<struct MessageAeadNonceTag, 12>::copy_of(okm.view().subspan(32, 12))};
}

}  // namespace sotto::ratchet
