// test_relay_auth.cpp — the signed layouts a device shows the relay: each
// verifies under its own label only, is bound to the handshake hash, and the
// device hello has an exact size.
#include <catch2/catch.hpp>

#include <array>

#include "common/relay_auth.hpp"
#include "common/rng.hpp"

using namespace sotto;
using namespace sotto::relay_auth;

TEST_CASE("certificate and proofs verify, and only over their own bytes", "[relay_auth]") {
  SeededRng rng(42);
  auto ik = crypto::ed25519_generate(rng);
  auto other = crypto::ed25519_generate(rng);
  auto tk = crypto::x25519_generate(rng).public_key;
  std::array<std::uint8_t, 64> h{};
  h.fill(7);
  std::array<std::uint8_t, 64> h2 = h;
  h2[63] ^= 1;

  auto cert = sign_transport_key(ik, tk, 1);
  CHECK(verify_transport_key(ik.public_key, tk, 1, cert));
  CHECK_FALSE(verify_transport_key(ik.public_key, tk, 2, cert));     // another device id
  CHECK_FALSE(verify_transport_key(other.public_key, tk, 1, cert));  // another identity

  auto pop = sign_registration(ik, h, tk, 1);
  CHECK(verify_registration(ik.public_key, h, tk, 1, pop));
  CHECK_FALSE(verify_registration(ik.public_key, h2, tk, 1, pop));  // another connection
  // A certificate is not a registration proof and vice versa (distinct labels).
  CHECK_FALSE(verify_registration(ik.public_key, h, tk, 1, cert));

  auto del = sign_delete_account(ik, h);
  CHECK(verify_delete_account(ik.public_key, h, del));
  CHECK_FALSE(verify_delete_account(ik.public_key, h2, del));
  CHECK_FALSE(verify_delete_account(ik.public_key, h, pop));
}

TEST_CASE("the certificate layout is label || key || u32be(device)", "[relay_auth]") {
  X25519PublicKey tk;
  tk.bytes.fill(0xab);
  Bytes b = transport_key_certificate_bytes(tk, 0x01020304);
  REQUIRE(b.size() == 21 + 32 + 4);
  CHECK(std::string(b.begin(), b.begin() + 21) == "Sotto/v1/TransportKey");
  CHECK(b[21] == 0xab);
  CHECK(b[53] == 1);
  CHECK(b[56] == 4);
}

TEST_CASE("device hello round-trips and rejects wrong sizes and versions", "[relay_auth]") {
  DeviceHello hello;
  hello.identity_key.bytes.fill(3);
  hello.device_id = 9;
  Bytes b = encode_device_hello(hello);
  REQUIRE(b.size() == kDeviceHelloSize);
  auto back = decode_device_hello(b);
  REQUIRE(back.ok());
  CHECK(*back == hello);

  Bytes shortb(b.begin(), b.end() - 1);
  CHECK(decode_device_hello(shortb).error() == DecodeError::kTruncated);
  Bytes longb = b;
  longb.push_back(0);
  CHECK(decode_device_hello(longb).error() == DecodeError::kBadLength);
  Bytes v2 = b;
  v2[0] = 2;
  CHECK(decode_device_hello(v2).error() == DecodeError::kBadVersion);
  CHECK(decode_device_hello(Bytes{}).error() == DecodeError::kTruncated);
}
