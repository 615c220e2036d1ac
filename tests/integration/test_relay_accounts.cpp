// test_relay_accounts.cpp — registration against the real relay (issue 3,
// "Tests": registration; docs/protocol.md section 70 7.4, 7.5):
// nothing but Register and FetchBundle before registering; a registered
// device is authenticated on its next connections; the proof is bound to the
// connection it was made on; re-registration replaces the device keys (the
// old transport key stops authenticating, old one-time prekeys are dropped,
// the mailbox is kept); prekey upload, count and signed-prekey rotation;
// account deletion.
#include <catch2/catch.hpp>

#include "common/relay_auth.hpp"
#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

void check_status(const Result<void, client::ClientError>& r, relay::Status expected) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ClientErrorKind::kRejected);
  CHECK(r.error().status == expected);
}
template <class T>
void check_status(const Result<T, client::ClientError>& r, relay::Status expected) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ClientErrorKind::kRejected);
  CHECK(r.error().status == expected);
}

}  // namespace

TEST_CASE("before registration every request but Register and FetchBundle is UNAUTHORISED",
          "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  auto b = bob.connect_registered(*relay);
  auto a = alice.connect(*relay);

  check_status(a.prekey_count(), relay::Status::kUnauthorised);
  check_status(a.upload_prekeys(alice.add_prekeys(1)), relay::Status::kUnauthorised);
  check_status(a.rotate_signed_prekey(alice.signed_prekey.public_key),
               relay::Status::kUnauthorised);
  check_status(a.send(bob.id(), bytes_of("hello")), relay::Status::kUnauthorised);
  check_status(a.ack({1}), relay::Status::kUnauthorised);
  check_status(a.delete_account(alice.identity), relay::Status::kUnauthorised);
  // The message names the status.
  auto r = a.prekey_count();
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("UNAUTHORISED"));
  // FetchBundle needs no account (section 7.6).
  CHECK(a.fetch_bundle(bob.id()).ok());
  // Nothing was queued for bob by the refused send.
  auto none = b.take_deliveries();
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("registration authenticates this and every later connection of the device",
          "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice(5);
  auto a = alice.connect(*relay);
  REQUIRE(a.register_account(alice.identity, alice.signed_prekey.public_key, alice.prekey_publics())
              .ok());
  CHECK(must(a.prekey_count()) == 5);
  a.close();

  // A new connection with the registered transport key is authenticated at once.
  auto again = alice.connect(*relay);
  CHECK(must(again.prekey_count()) == 5);

  // The same identity with another device id is not (the stored device id differs).
  auto wrong_device = RelayClient::connect(relay->address(), alice.id(), copy_key(alice.transport),
                                           2, alice.rng, kTimeout);
  REQUIRE(wrong_device.ok());
  check_status(wrong_device->prekey_count(), relay::Status::kUnauthorised);
}

TEST_CASE("the registration proof is bound to the connection it was made on",
          "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  auto first = alice.connect(*relay);
  auto second = alice.connect(*relay);

  // A Register whose proof signs the FIRST connection's handshake hash, sent on the second.
  relay::RegisterRequest r;
  r.identity_key = alice.id();
  r.device_id = 1;
  r.transport_key = alice.transport.public_key;
  r.transport_key_signature =
      relay_auth::sign_transport_key(alice.identity, alice.transport.public_key, 1);
  r.signed_prekey = encode_signed_prekey(alice.signed_prekey.public_key);
  r.proof_of_possession = relay_auth::sign_registration(alice.identity, first.handshake_hash(),
                                                        alice.transport.public_key, 1);
  auto id = must(second.submit(r));
  auto replayed = must(second.wait_response(id));
  CHECK(replayed.status == relay::Status::kUnauthorised);
  check_status(second.prekey_count(), relay::Status::kUnauthorised);

  // The same request is good on the connection it was made for.
  auto id1 = must(first.submit(r));
  CHECK(must(first.wait_response(id1)).status == relay::Status::kOk);

  // The client refuses to register an identity other than the one it announced.
  Device mallory;
  auto wrong = first.register_account(mallory.identity, mallory.signed_prekey.public_key, {});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().kind == ClientErrorKind::kInvalidArgument);
}

TEST_CASE("a signed prekey not signed by the identity key is refused", "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, mallory;
  auto a = alice.connect(*relay);
  // mallory's signed prekey under alice's identity: the signature does not verify.
  check_status(a.register_account(alice.identity, mallory.signed_prekey.public_key, {}),
               relay::Status::kUnauthorised);
  check_status(a.prekey_count(), relay::Status::kUnauthorised);
}

TEST_CASE("re-registration replaces the device keys and keeps the mailbox",
          "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice(4), bob;
  {
    auto a = alice.connect_registered(*relay);
    CHECK(must(a.prekey_count()) == 4);
  }
  // Mail waiting for alice across the key replacement.
  auto b = bob.connect_registered(*relay);
  must(b.send(alice.id(), bytes_of("kept across a new device")));

  // A restored device: same identity, new transport key, new prekeys.
  X25519KeyPair old_transport = copy_key(alice.transport);
  alice.transport = crypto::x25519_generate(alice.rng);
  alice.one_time_prekeys.clear();
  alice.signed_prekey = generate_signed_prekey(alice.identity, 2, unix_now(), alice.rng);
  auto fresh = alice.add_prekeys(2);
  auto a2 = alice.connect(*relay);
  must(a2.register_account(alice.identity, alice.signed_prekey.public_key, fresh));
  // The old one-time prekeys are gone: only the two new ones are held.
  CHECK(must(a2.prekey_count()) == 2);
  // The mailbox is pushed on the re-registered connection.
  auto d = must(a2.wait_delivery());
  CHECK(d.envelope == bytes_of("kept across a new device"));
  // The bundle carries the new signed prekey.
  auto bundle = must(b.fetch_bundle(alice.id()));
  CHECK(bundle.bundle.signed_prekey.id == 2);

  // The old transport key no longer authenticates.
  auto old = RelayClient::connect(relay->address(), alice.id(), std::move(old_transport), 1,
                                  alice.rng, kTimeout);
  REQUIRE(old.ok());
  check_status(old->prekey_count(), relay::Status::kUnauthorised);
}

TEST_CASE("prekey upload and count, signed prekey rotation, CONFLICT for a reused id",
          "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice(0), bob;
  auto a = alice.connect_registered(*relay);
  CHECK(must(a.prekey_count()) == 0);
  CHECK(must(a.upload_prekeys(alice.add_prekeys(3))) == 3);
  CHECK(must(a.upload_prekeys(alice.add_prekeys(2))) == 5);
  CHECK(must(a.prekey_count()) == 5);
  // An id already held is a CONFLICT, and nothing of that upload is added.
  std::vector<OneTimePreKeyPublic> reused{alice.one_time_prekeys.front().public_key};
  check_status(a.upload_prekeys(reused), relay::Status::kConflict);
  CHECK(must(a.prekey_count()) == 5);

  auto rotated = generate_signed_prekey(alice.identity, 7, unix_now(), alice.rng);
  must(a.rotate_signed_prekey(rotated.public_key));
  auto b = bob.connect(*relay);
  auto bundle = must(b.fetch_bundle(alice.id()));
  CHECK(bundle.bundle.signed_prekey == rotated.public_key);
  // A rotation signed by someone else is refused.
  check_status(a.rotate_signed_prekey(bob.signed_prekey.public_key), relay::Status::kUnauthorised);
}

TEST_CASE("deleting the account deletes everything about it", "[integration][accounts]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  auto b = bob.connect_registered(*relay);
  auto a = alice.connect_registered(*relay);
  must(b.send(alice.id(), bytes_of("queued before the deletion")));
  must(a.wait_delivery());
  must(a.delete_account(alice.identity));
  // The connection is no longer authenticated; the account is unknown.
  check_status(a.prekey_count(), relay::Status::kUnauthorised);
  check_status(b.fetch_bundle(alice.id()), relay::Status::kNotFound);
  check_status(b.send(alice.id(), bytes_of("after")), relay::Status::kNotFound);
  REQUIRE(relay->stop().ok());
  auto disclosed = relay->command(
      {"disclose", "--data", relay->data_dir().string(), "--account", to_hex(alice.id().view())});
  CHECK(disclosed.status == 0);
  CHECK_THAT(disclosed.out, Catch::Contains("holds nothing"));
}
