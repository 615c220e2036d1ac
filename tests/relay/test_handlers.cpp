// test_handlers.cpp — the relay's request handlers over a real SQLite store:
// registration checks the signed prekey (IK's signature, window, expiry, key)
// and the one-time prekeys (canonical, not low order); rotation is checked
// the same way; the device id is stored and handed out in bundles; an
// anonymous (NK) session may only fetch bundles; authentication needs the
// stored transport key and device id; store errors map to statuses.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <future>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/relay_auth.hpp"
#include "common/rng.hpp"
#include "server/handlers.hpp"
#include "server/sqlite_store.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;

namespace {

using sotto::test::TempDir;

constexpr std::uint64_t kNow = 1'750'000'000;

// One device: identity, transport key, a session as the IK handshake leaves it.
struct Device {
  IdentityKeyPair ik;
  X25519KeyPair tk;
  std::uint32_t device_id;
  Session session;

  Device(Rng& rng, std::uint32_t device = 1)
      : ik(generate_identity(rng)), tk(crypto::x25519_generate(rng)), device_id(device) {
    session.remote_static = tk.public_key;
    for (std::size_t i = 0; i < session.handshake_hash.size(); ++i)
      session.handshake_hash[i] = static_cast<std::uint8_t>(i * 7 + device);
    session.hello = relay_auth::DeviceHello{ik.public_key, device_id};
  }

  Bytes spk(Rng& rng, std::uint64_t created = kNow - 60, std::uint64_t lifetime = 86'400) {
    auto pair = generate_signed_prekey(ik, 5, created, rng,
                                       SignedPreKeyPolicy{7 * 86'400, lifetime, 86'400});
    return encode_signed_prekey(pair.public_key);
  }

  RegisterRequest registration(Rng& rng, std::size_t one_time = 2) {
    RegisterRequest r;
    r.identity_key = ik.public_key;
    r.device_id = device_id;
    r.transport_key = tk.public_key;
    r.transport_key_signature = relay_auth::sign_transport_key(ik, tk.public_key, device_id);
    r.signed_prekey = spk(rng);
    PreKeyId next = 100;
    for (auto& k : generate_one_time_prekeys(next, one_time, rng))
      r.one_time_prekeys.push_back(OneTimePreKey{k.public_key.id, k.public_key.key});
    r.proof_of_possession = relay_auth::sign_registration(
        ik, relay_auth::HandshakeHashView(session.handshake_hash), tk.public_key, device_id);
    return r;
  }
};

struct Fixture {
  TempDir dir;
  std::unique_ptr<SqliteStore> store;
  FakeClock clock{kNow};
  SeededRng rng{42};

  explicit Fixture(std::uint64_t max_page_count = 0) {
    SqliteStoreOptions o;
    o.path = dir.file("relay.db");
    o.max_page_count = max_page_count;
    auto s = SqliteStore::open(o);
    REQUIRE(s.ok());
    store = std::move(s).value();
  }

  HandlerResult call(const Session& s, Request r) {
    std::promise<HandlerResult> p;
    auto f = p.get_future();
    handle_request(HandlerContext{*store, clock}, s, ClientRequest{9, std::move(r)},
                   [&p](HandlerResult h) { p.set_value(std::move(h)); });
    return f.get();
  }
  Status status(const Session& s, Request r) { return call(s, std::move(r)).response.status; }

  // Registers `d` and marks its session authenticated.
  void enrol(Device& d) {
    auto h = call(d.session, d.registration(rng));
    REQUIRE(h.response.status == Status::kOk);
    REQUIRE(h.authenticated);
    d.session.account = *h.authenticated;
  }
};

Bytes tampered(Bytes b, std::size_t at) {
  b[at] ^= 0x01;
  return b;
}

}  // namespace

TEST_CASE("registration stores the device id and a bundle hands it out", "[handlers]") {
  Fixture f;
  Device alice(f.rng, 3), bob(f.rng);
  f.enrol(alice);
  f.enrol(bob);
  auto rec = f.store->get_account(account_id_of(alice.ik.public_key));
  REQUIRE(rec.ok());
  CHECK(rec->keys.device_id == 3);

  auto h = f.call(bob.session, FetchBundleRequest{alice.ik.public_key});
  REQUIRE(h.response.status == Status::kOk);
  const auto& bundle = std::get<Bundle>(h.response.result);
  CHECK(bundle.device_id == 3);
  REQUIRE(bundle.one_time_prekey);
  CHECK(bundle.one_time_prekey->id == 100);
  // What the relay hands out passes the initiator's own checks.
  auto spk = decode_signed_prekey(bundle.signed_prekey);
  REQUIRE(spk.ok());
  PreKeyBundle pb{
      alice.ik.public_key, *spk,
      OneTimePreKeyPublic{bundle.one_time_prekey->id, bundle.one_time_prekey->public_key}};
  CHECK(verify_bundle(pb, kNow).ok());
}

TEST_CASE("a signed prekey is verified at registration", "[handlers][prekeys]") {
  Fixture f;
  Device alice(f.rng), mallory(f.rng);

  SECTION("signed by another identity: UNAUTHORISED") {
    auto r = alice.registration(f.rng);
    r.signed_prekey = mallory.spk(f.rng);
    CHECK(f.status(alice.session, r) == Status::kUnauthorised);
  }
  SECTION("a flipped signature bit: UNAUTHORISED") {
    auto r = alice.registration(f.rng);
    r.signed_prekey = tampered(r.signed_prekey, 115);
    CHECK(f.status(alice.session, r) == Status::kUnauthorised);
  }
  SECTION("not a 116-byte record: MALFORMED") {
    auto r = alice.registration(f.rng);
    r.signed_prekey.pop_back();
    CHECK(f.status(alice.session, r) == Status::kMalformed);
    r.signed_prekey = Bytes(117, 1);
    CHECK(f.status(alice.session, r) == Status::kMalformed);
  }
  SECTION("already expired: MALFORMED") {
    auto r = alice.registration(f.rng);
    r.signed_prekey = alice.spk(f.rng, kNow - 2 * 86'400, 86'400);
    CHECK(f.status(alice.session, r) == Status::kMalformed);
  }
  SECTION("a window over 90 days: MALFORMED") {
    auto r = alice.registration(f.rng);
    r.signed_prekey = alice.spk(f.rng, kNow, 91 * 86'400);
    CHECK(f.status(alice.session, r) == Status::kMalformed);
  }
  SECTION("a low-order signed prekey key, correctly signed: MALFORMED") {
    auto r = alice.registration(f.rng);
    X25519PublicKey zero{};
    r.signed_prekey = encode_signed_prekey(sign_prekey(alice.ik, 1, kNow, kNow + 86'400, zero));
    CHECK(f.status(alice.session, r) == Status::kMalformed);
  }
  // Nothing was stored by any refused registration.
  CHECK(f.store->get_account(account_id_of(alice.ik.public_key)).error() == StoreError::kNotFound);
}

TEST_CASE("one-time prekeys must be canonical and not low order", "[handlers][prekeys]") {
  Fixture f;
  Device alice(f.rng);
  auto r = alice.registration(f.rng);
  r.one_time_prekeys.push_back(OneTimePreKey{7, X25519PublicKey{}});  // all zeros: low order
  CHECK(f.status(alice.session, r) == Status::kMalformed);

  f.enrol(alice);
  Bytes high(32, 0xff);  // bit 255 set: not canonical
  auto noncanonical = *X25519PublicKey::from(high);
  CHECK(f.status(alice.session, UploadPreKeysRequest{{OneTimePreKey{8, noncanonical}}}) ==
        Status::kMalformed);
  PreKeyId next = 500;
  auto good = generate_one_time_prekeys(next, 1, f.rng);
  auto h =
      f.call(alice.session,
             UploadPreKeysRequest{{OneTimePreKey{good[0].public_key.id, good[0].public_key.key}}});
  CHECK(h.response.status == Status::kOk);
  CHECK(std::get<PreKeyCount>(h.response.result).count == 3);
}

TEST_CASE("signed prekey rotation is verified against the account's identity",
          "[handlers][prekeys]") {
  Fixture f;
  Device alice(f.rng), mallory(f.rng);
  f.enrol(alice);
  const auto before = f.store->get_account(account_id_of(alice.ik.public_key))->keys.signed_prekey;
  CHECK(f.status(alice.session, RotateSignedPreKeyRequest{mallory.spk(f.rng)}) ==
        Status::kUnauthorised);
  CHECK(f.status(alice.session, RotateSignedPreKeyRequest{Bytes(50, 2)}) == Status::kMalformed);
  CHECK(f.store->get_account(account_id_of(alice.ik.public_key))->keys.signed_prekey == before);
  auto fresh = alice.spk(f.rng, kNow, 86'400);
  CHECK(f.status(alice.session, RotateSignedPreKeyRequest{fresh}) == Status::kOk);
  CHECK(f.store->get_account(account_id_of(alice.ik.public_key))->keys.signed_prekey.encoded ==
        fresh);
}

TEST_CASE("an anonymous session may only fetch bundles", "[handlers][nk]") {
  Fixture f;
  Device alice(f.rng);
  f.enrol(alice);
  Session anon;
  anon.anonymous = true;

  auto h = f.call(anon, FetchBundleRequest{alice.ik.public_key});
  CHECK(h.response.status == Status::kOk);
  CHECK(std::holds_alternative<Bundle>(h.response.result));

  Device other(f.rng);
  CHECK(f.status(anon, other.registration(f.rng)) == Status::kUnauthorised);
  CHECK(f.status(anon, SendRequest{alice.ik.public_key, Bytes(10, 1)}) == Status::kUnauthorised);
  CHECK(f.status(anon, AckRequest{{1}}) == Status::kUnauthorised);
  CHECK(f.status(anon, GetPreKeyCountRequest{}) == Status::kUnauthorised);
  CHECK(f.status(anon, UploadPreKeysRequest{}) == Status::kUnauthorised);
  CHECK(f.status(anon, RotateSignedPreKeyRequest{alice.spk(f.rng)}) == Status::kUnauthorised);
  CHECK(f.status(anon, DeleteAccountRequest{}) == Status::kUnauthorised);
  // Even a session that claims an account is refused when it is anonymous.
  anon.account = account_id_of(alice.ik.public_key);
  CHECK(f.status(anon, GetPreKeyCountRequest{}) == Status::kUnauthorised);
  CHECK(f.store->fetch(account_id_of(alice.ik.public_key), 0, 10)->empty());
  CHECK_FALSE(authenticate(*f.store, anon));
}

TEST_CASE("authentication needs the stored transport key and device id", "[handlers]") {
  Fixture f;
  Device alice(f.rng, 2);
  f.enrol(alice);
  Session s = alice.session;
  s.account.reset();
  auto rec = authenticate(*f.store, s);
  REQUIRE(rec);
  CHECK(rec->keys.identity_key == account_id_of(alice.ik.public_key));

  Session other_device = s;
  other_device.hello.device_id = 9;
  CHECK_FALSE(authenticate(*f.store, other_device));
  Session other_key = s;
  other_key.remote_static = crypto::x25519_generate(f.rng).public_key;
  CHECK_FALSE(authenticate(*f.store, other_key));
}

TEST_CASE("store errors map to statuses, a full disk answers SERVER_BUSY", "[handlers][busy]") {
  CHECK(status_for(StoreError::kBusy) == Status::kServerBusy);
  CHECK(status_for(StoreError::kClosed) == Status::kServerBusy);
  CHECK(status_for(StoreError::kCorrupt) == Status::kServerBusy);
  CHECK(status_for(StoreError::kInternal) == Status::kServerBusy);
  CHECK(status_for(StoreError::kQuotaExceeded) == Status::kQuotaExceeded);
  CHECK(status_for(StoreError::kNotFound) == Status::kNotFound);

  // A store capped at a few pages fills up: sends are refused, never lost.
  Fixture f(/*max_page_count=*/16);
  Device alice(f.rng);
  f.enrol(alice);
  std::size_t accepted = 0;
  Status last = Status::kAccepted;
  for (int i = 0; i < 200 && last == Status::kAccepted; ++i) {
    last = f.status(alice.session, SendRequest{alice.ik.public_key, Bytes(3000, 0x5a)});
    if (last == Status::kAccepted) ++accepted;
  }
  CHECK(last == Status::kServerBusy);
  CHECK(accepted > 0);
  CHECK(f.store->fetch(account_id_of(alice.ik.public_key), 0, 1000)->size() == accepted);
}
