// relay_auth.hpp — the fixed byte layouts a device signs or sends to prove who
// it is to a relay (docs/protocol, "Relay protocol: authentication"). Both the
// client (to sign and to send) and the relay (to verify) use these; nothing
// here does I/O.
//
//   transport-key certificate, signed by IK:
//     "Sotto/v1/TransportKey" || transport_key[32] || u32be(device_id)
//   registration proof of possession, signed by IK:
//     "Sotto/v1/Register" || h[64] || identity_key[32] || transport_key[32] || u32be(device_id)
//   account deletion proof, signed by IK:
//     "Sotto/v1/DeleteAccount" || h[64] || identity_key[32]
//   device hello: the payload of the first IK handshake message (initiator -> relay):
//     0x01 || identity_key[32] || u32be(device_id)                       (37 bytes)
//
// h is the Noise handshake hash of the connection the request travels on, so a
// proof is worthless on any other connection (no replay).
//
// What fails: verify_* return false for a bad signature; decode_device_hello
// returns kTruncated/kBadLength for a wrong size and kBadVersion for another
// version byte. Ownership: callers own every key; private keys stay in Secret types.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto::relay_auth {

inline constexpr std::string_view kTransportKeyLabel = "Sotto/v1/TransportKey";
inline constexpr std::string_view kRegisterLabel = "Sotto/v1/Register";
inline constexpr std::string_view kDeleteAccountLabel = "Sotto/v1/DeleteAccount";
inline constexpr std::uint8_t kDeviceHelloVersion = 0x01;
inline constexpr std::size_t kDeviceHelloSize = 1 + 32 + 4;
inline constexpr std::size_t kHandshakeHashSize = 64;  // Noise with BLAKE2b: HASHLEN

using HandshakeHashView = std::span<const std::uint8_t, kHandshakeHashSize>;

Bytes transport_key_certificate_bytes(const X25519PublicKey& transport_key,
                                      std::uint32_t device_id);
Bytes registration_proof_bytes(HandshakeHashView h, const Ed25519PublicKey& identity_key,
                               const X25519PublicKey& transport_key, std::uint32_t device_id);
Bytes delete_account_proof_bytes(HandshakeHashView h, const Ed25519PublicKey& identity_key);

// Device side.
Ed25519Signature sign_transport_key(const Ed25519KeyPair& identity,
                                    const X25519PublicKey& transport_key, std::uint32_t device_id);
Ed25519Signature sign_registration(const Ed25519KeyPair& identity, HandshakeHashView h,
                                   const X25519PublicKey& transport_key, std::uint32_t device_id);
Ed25519Signature sign_delete_account(const Ed25519KeyPair& identity, HandshakeHashView h);

// Relay side.
[[nodiscard]] bool verify_transport_key(const Ed25519PublicKey& identity_key,
                                        const X25519PublicKey& transport_key,
                                        std::uint32_t device_id, const Ed25519Signature& sig);
[[nodiscard]] bool verify_registration(const Ed25519PublicKey& identity_key, HandshakeHashView h,
                                       const X25519PublicKey& transport_key,
                                       std::uint32_t device_id, const Ed25519Signature& sig);
[[nodiscard]] bool verify_delete_account(const Ed25519PublicKey& identity_key, HandshakeHashView h,
                                         const Ed25519Signature& sig);

struct DeviceHello {
  Ed25519PublicKey identity_key;
  std::uint32_t device_id = 0;
  bool operator==(const DeviceHello&) const = default;
};
Bytes encode_device_hello(const DeviceHello& hello);
[[nodiscard]] Result<DeviceHello, DecodeError> decode_device_hello(ByteView in);

}  // namespace sotto::relay_auth
