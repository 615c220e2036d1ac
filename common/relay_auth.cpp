// relay_auth.cpp — see relay_auth.hpp for the layouts.
#include "common/relay_auth.hpp"

namespace sotto::relay_auth {

Bytes transport_key_certificate_bytes(const X25519PublicKey& transport_key,
                                      std::uint32_t device_id) {
  // "Sotto/v1/TransportKey" || transport_key || u32be(device_id)
  Bytes out = concat(label_bytes(kTransportKeyLabel), transport_key.view());
  put_u32be(out, device_id);
  return out;
}

Bytes registration_proof_bytes(HandshakeHashView h, const Ed25519PublicKey& identity_key,
                               const X25519PublicKey& transport_key, std::uint32_t device_id) {
  // "Sotto/v1/Register" || h || identity_key || transport_key || u32be(device_id)
  Bytes out =
      concat(label_bytes(kRegisterLabel), ByteView(h), identity_key.view(), transport_key.view());
  put_u32be(out, device_id);
  return out;
}

Bytes delete_account_proof_bytes(HandshakeHashView h, const Ed25519PublicKey& identity_key) {
  // "Sotto/v1/DeleteAccount" || h || identity_key
  return concat(label_bytes(kDeleteAccountLabel), ByteView(h), identity_key.view());
}

Ed25519Signature sign_transport_key(const Ed25519KeyPair& identity,
                                    const X25519PublicKey& transport_key, std::uint32_t device_id) {
  return crypto::ed25519_sign(identity.secret,
                              transport_key_certificate_bytes(transport_key, device_id));
}

Ed25519Signature sign_registration(const Ed25519KeyPair& identity, HandshakeHashView h,
                                   const X25519PublicKey& transport_key, std::uint32_t device_id) {
  return crypto::ed25519_sign(
      identity.secret, registration_proof_bytes(h, identity.public_key, transport_key, device_id));
}

Ed25519Signature sign_delete_account(const Ed25519KeyPair& identity, HandshakeHashView h) {
  return crypto::ed25519_sign(identity.secret, delete_account_proof_bytes(h, identity.public_key));
}

bool verify_transport_key(const Ed25519PublicKey& identity_key,
                          const X25519PublicKey& transport_key, std::uint32_t device_id,
                          const Ed25519Signature& sig) {
  return crypto::ed25519_verify(identity_key,
                                transport_key_certificate_bytes(transport_key, device_id), sig);
}

bool verify_registration(const Ed25519PublicKey& identity_key, HandshakeHashView h,
                         const X25519PublicKey& transport_key, std::uint32_t device_id,
                         const Ed25519Signature& sig) {
  return crypto::ed25519_verify(
      identity_key, registration_proof_bytes(h, identity_key, transport_key, device_id), sig);
}

bool verify_delete_account(const Ed25519PublicKey& identity_key, HandshakeHashView h,
                           const Ed25519Signature& sig) {
  return crypto::ed25519_verify(identity_key, delete_account_proof_bytes(h, identity_key), sig);
}

Bytes encode_device_hello(const DeviceHello& hello) {
  Bytes out{kDeviceHelloVersion};
  append(out, hello.identity_key.view());
  put_u32be(out, hello.device_id);
  return out;
}

Result<DeviceHello, DecodeError> decode_device_hello(ByteView in) {
  if (in.empty()) return fail(DecodeError::kTruncated);
  if (in[0] != kDeviceHelloVersion) return fail(DecodeError::kBadVersion);
  if (in.size() < kDeviceHelloSize) return fail(DecodeError::kTruncated);
  if (in.size() > kDeviceHelloSize) return fail(DecodeError::kBadLength);
  DeviceHello hello;
  hello.identity_key = *Ed25519PublicKey::from(in.subspan(1, 32));
  hello.device_id = get_u32be(in.data() + 33);
  return hello;
}

}  // namespace sotto::relay_auth
