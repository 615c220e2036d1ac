// test_relay_handshake.cpp — the real relay's Noise transport from a client's
// side (issue 3, "Tests": handshake, including a wrong relay key, which must
// fail): IK with the pinned key completes and carries requests; a wrong key,
// a low-order key, a closed port and a bad address each give their own clear
// error; NK (anonymous) completes; a frame that fails authentication is
// dropped without closing the connection.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

TEST_CASE("IK handshake with the pinned relay key completes and carries requests",
          "[integration][handshake]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  auto c = alice.connect(*relay);
  CHECK(c.is_open());
  // The handshake hash is the channel binding: 64 bytes, not all zero.
  auto h = c.handshake_hash();
  CHECK(std::any_of(h.begin(), h.end(), [](std::uint8_t b) { return b != 0; }));
  // The transport works both ways: a request and its answer.
  auto unregistered = c.prekey_count();
  REQUIRE_FALSE(unregistered.ok());
  CHECK(unregistered.error().kind == ClientErrorKind::kRejected);
  CHECK(unregistered.error().status == relay::Status::kUnauthorised);
  CHECK(c.is_open());

  // Two connections of one device get different handshake hashes (fresh ephemerals).
  auto c2 = alice.connect(*relay);
  auto h2 = c2.handshake_hash();
  CHECK_FALSE(std::equal(h.begin(), h.end(), h2.begin()));
}

TEST_CASE("a wrong relay key fails the handshake with a key-mismatch error",
          "[integration][handshake]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  // The right host and port, another relay's key.
  RelayAddress wrong = relay->address();
  wrong.key = crypto::x25519_generate(alice.rng).public_key;
  auto c =
      RelayClient::connect(wrong, alice.id(), copy_key(alice.transport), 1, alice.rng, kTimeout);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ClientErrorKind::kHandshakeFailed);
  CHECK_THAT(c.error().message, Catch::Contains("relay key"));
  CHECK_THAT(c.error().message, Catch::Contains(relay->address().host_port()));

  // The relay is unharmed: the right key still works.
  auto ok = alice.try_connect(*relay);
  CHECK(ok.ok());
}

TEST_CASE("a low-order relay key is refused before anything is sent", "[integration][handshake]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  RelayAddress zero = relay->address();
  zero.key = X25519PublicKey{};  // all zeros: a point of small order
  auto c =
      RelayClient::connect(zero, alice.id(), copy_key(alice.transport), 1, alice.rng, kTimeout);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ClientErrorKind::kHandshakeFailed);
  CHECK_THAT(c.error().message, Catch::Contains("not a usable"));
}

TEST_CASE("an unreachable relay names what was tried", "[integration][handshake]") {
  Device alice;
  // A port nothing listens on (free a moment ago).
  const auto port = free_loopback_port();
  REQUIRE(port != 0);
  auto address =
      parse_relay_address("sotto://127.0.0.1:" + std::to_string(port) + "/" + std::string(64, 'a'));
  REQUIRE(address.ok());
  auto c =
      RelayClient::connect(*address, alice.id(), copy_key(alice.transport), 1, alice.rng, kTimeout);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind == ClientErrorKind::kUnreachable);
  CHECK_THAT(c.error().message, Catch::Contains("tried 127.0.0.1:" + std::to_string(port)));

  // A bad address text never connects.
  auto bad = RelayClient::connect("sotto://127.0.0.1/abc", alice.id(), copy_key(alice.transport), 1,
                                  alice.rng, kTimeout);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ClientErrorKind::kInvalidAddress);
}

TEST_CASE("NK (anonymous) handshake completes and allows bundle fetches only",
          "[integration][handshake]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device bob;
  auto b = bob.connect_registered(*relay);

  SystemRng rng;
  auto anon = RelayClient::connect_anonymous(relay->address(), rng, kTimeout);
  REQUIRE(anon.ok());
  auto bundle = anon->fetch_bundle(bob.id());
  REQUIRE(bundle.ok());
  CHECK(bundle->bundle.identity == bob.id());
  auto count = anon->prekey_count();
  REQUIRE_FALSE(count.ok());
  CHECK(count.error().status == relay::Status::kUnauthorised);
  auto send = anon->send(bob.id(), bytes_of("not allowed anonymously"));
  REQUIRE_FALSE(send.ok());
  CHECK(send.error().status == relay::Status::kUnauthorised);
}

TEST_CASE("a frame that fails authentication is dropped and the connection goes on",
          "[integration][handshake]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  auto c = alice.connect_registered(*relay);
  // A well-framed transport message that was never encrypted under this
  // connection's key (32 bytes: 16 of "plaintext" and a 16-byte "tag").
  Bytes forged = {0x00, 0x20};
  forged.resize(2 + 32, 0x5a);
  REQUIRE(c.send_raw(forged).ok());
  // Dropped without an answer, and the receive nonce did not move: the next
  // genuine request still decrypts and is answered.
  auto count = c.prekey_count();
  REQUIRE(count.ok());
  CHECK(*count == 3);
}

TEST_CASE("the relay logs the memory allocator it runs with, and that one is loaded",
          "[integration][startup]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  const std::string log = relay->log();
  const auto at = log.find("memory allocator: ");
  REQUIRE(at != std::string::npos);
  const std::string name = log.substr(at + 18, log.find('\n', at) - at - 18);
  INFO(name);
  // What the process has mapped agrees with what it says (jemalloc by default,
  // glibc malloc with -DSOTTO_JEMALLOC=OFF or under the sanitizers).
  std::ifstream maps("/proc/" + std::to_string(relay->pid()) + "/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)),
                           std::istreambuf_iterator<char>());
  REQUIRE_FALSE(mapped.empty());
  const bool jemalloc_mapped = mapped.find("libjemalloc") != std::string::npos;
  CHECK(jemalloc_mapped == (name.rfind("jemalloc", 0) == 0));
  CHECK((name.rfind("jemalloc", 0) == 0 || name == "glibc malloc"));
}
