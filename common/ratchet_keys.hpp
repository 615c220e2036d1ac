// ratchet_keys.hpp — the keys of the Double Ratchet and the KDFs between them
// (docs/protocol.md section 30, "Keys and KDFs").
//
//   RootKey             RK: input of KDF_RK, replaced at every DH ratchet step
//   SendingChainKey     CKs: our chain, steps once per message we encrypt
//   ReceivingChainKey   CKr: the peer's chain, steps once per message we derive
//   MessageKey          MK: one message's key, used once, then wiped
//
// Sending and receiving chain keys are distinct types, so passing one where
// the other is meant does not compile. Nothing here can fail: every input is a
// fixed-size key, and the HKDF output lengths are constants within range.
// Every key is a Secret (sodium_malloc'd, wiped); the caller owns what it gets.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "common/crypto.hpp"
#include "common/secret.hpp"

namespace sotto::ratchet {

using RootKey = Secret<struct RootKeyTag, 32>;
using SendingChainKey = Secret<struct SendingChainKeyTag, 32>;
using ReceivingChainKey = Secret<struct ReceivingChainKeyTag, 32>;
using MessageKey = Secret<struct MessageKeyTag, 32>;

// HKDF info labels (ASCII, no NUL).
inline constexpr std::string_view kRootKdfLabel = "Sotto/v1/Ratchet/Root";
inline constexpr std::string_view kMessageKdfLabel = "Sotto/v1/Ratchet/Message";
// HMAC-SHA-256 inputs of the chain KDF.
inline constexpr std::uint8_t kMessageKeyByte = 0x01;
inline constexpr std::uint8_t kChainKeyByte = 0x02;

// KDF_RK(rk, dh_out) = HKDF-SHA-256(salt = rk, IKM = dh_out,
//                                   info = "Sotto/v1/Ratchet/Root", L = 64)
//                    -> (new rk = OKM[0..32], chain key = OKM[32..64]).
// The chain key's direction is chosen by the caller: the step after receiving a
// new ratchet key yields a ReceivingChainKey, the step after generating ours a
// SendingChainKey.
struct RootStepRaw {
  RootKey root;
  Secret<struct RootStepChainTag, 32> chain;
};
RootStepRaw kdf_rk_raw(const RootKey& rk, const SharedSecret& dh_out);

template <class ChainKey>
std::pair<RootKey, ChainKey> kdf_rk(const RootKey& rk, const SharedSecret& dh_out) {
  RootStepRaw raw = kdf_rk_raw(rk, dh_out);
  return {std::move(raw.root), ChainKey::copy_of(raw.chain.view())};
}

// KDF_CK(ck): MK = HMAC-SHA-256(ck, 0x01), next ck = HMAC-SHA-256(ck, 0x02).
// Advances `ck` in place (the old chain key is overwritten) and returns MK.
MessageKey kdf_ck_step(std::span<std::uint8_t, 32> ck);

template <class ChainKey>
MessageKey kdf_ck(ChainKey& ck) {
  return kdf_ck_step(ck.mutable_view());
}

// The AEAD key and nonce of one message:
// HKDF-SHA-256(salt = 32 zero bytes, IKM = MK, info = "Sotto/v1/Ratchet/Message", L = 44)
// -> key = OKM[0..32], nonce = OKM[32..44].
struct MessageCipherKeys {
  Secret<struct MessageAeadKeyTag, 32> key;
  Secret<struct MessageAeadNonceTag, 12> nonce;
};
MessageCipherKeys message_cipher_keys(const MessageKey& mk);

}  // namespace sotto::ratchet
