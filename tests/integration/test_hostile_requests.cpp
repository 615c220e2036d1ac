// test_hostile_requests.cpp — well-formed but hostile relay requests against
// the running relay (issue 5, "Hostile input against the running relay"):
// invalid ids, low-order and wrong-length keys in Register / FetchBundle /
// Send, a signed prekey signed by another identity, claims on someone else's
// account, replayed and duplicated envelopes, sends to accounts that do not
// exist, quota and rate-limit exhaustion. Each case states the status the
// relay answers and ends with Bystanders::after (nothing accepted is lost,
// a fresh device is served).
#include <catch2/catch.hpp>
#include <set>

#include "common/relay_auth.hpp"
#include "integration/hostile_support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

relay::Status status_of(RelayClient& c, ByteView plaintext, std::uint64_t id) {
  REQUIRE(c.send_plaintext(plaintext).ok());
  return must(c.wait_response(id)).status;
}

// A hand-made request body under `id`: the status it is answered with.
relay::Status ask(RelayClient& c, std::uint64_t id, std::uint32_t field, const Pb& body) {
  return status_of(c, client_frame(id, field, body), id);
}

template <class T>
relay::Status rejected_with(const Result<T, client::ClientError>& r) {
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().kind == ClientErrorKind::kRejected);
  return *r.error().status;
}
relay::Status rejected_with(const Result<void, client::ClientError>& r) {
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().kind == ClientErrorKind::kRejected);
  return *r.error().status;
}

// A Register body for `d` on the connection with handshake hash `h`, every
// field right; tests then break one.
struct RegisterFields {
  Bytes identity, transport, transport_sig, spk, pop;
  std::vector<std::pair<std::uint32_t, Bytes>> prekeys;
  std::uint32_t device_id = 1;

  static RegisterFields of(const Device& d, relay_auth::HandshakeHashView h) {
    RegisterFields f;
    auto view = [](auto v) { return Bytes(v.begin(), v.end()); };
    f.identity = view(d.id().view());
    f.transport = view(d.transport.public_key.view());
    f.transport_sig = view(
        relay_auth::sign_transport_key(d.identity, d.transport.public_key, d.device_id).view());
    f.spk = encode_signed_prekey(d.signed_prekey.public_key);
    f.pop = view(
        relay_auth::sign_registration(d.identity, h, d.transport.public_key, d.device_id).view());
    for (const auto& k : d.prekey_publics()) f.prekeys.push_back({k.id, view(k.key.view())});
    return f;
  }
  Pb body() const {
    Pb b;
    b.bytes(1, identity).u(2, device_id).bytes(3, transport).bytes(4, transport_sig).bytes(5, spk);
    for (const auto& [id, key] : prekeys) {
      Pb k;
      k.u(1, id).bytes(2, key);
      b.msg(6, k);
    }
    b.bytes(7, pop);
    return b;
  }
};

Bytes resized(Bytes b, std::size_t n) {
  b.resize(n, 0x00);
  return b;
}

const char* kZeroKey = "0000000000000000000000000000000000000000000000000000000000000000";
const char* kOrder8Key = "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800";

}  // namespace

TEST_CASE("hostile: invalid account ids in FetchBundle, Send and Ack", "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  std::uint64_t id = 100;
  // Wrong lengths: MALFORMED.
  for (std::size_t len : {0u, 1u, 31u, 33u, 64u}) {
    INFO("an id of " << len << " bytes");
    Pb fetch;
    fetch.bytes(1, Bytes(len, 0x07));
    CHECK(ask(c, ++id, wirefield::kFetch, fetch) == relay::Status::kMalformed);
    Pb send;
    send.bytes(1, Bytes(len, 0x07)).bytes(2, bytes_of("x"));
    CHECK(ask(c, ++id, wirefield::kSend, send) == relay::Status::kMalformed);
  }
  // 32 bytes that are no account (zero, all ones, not a curve point, the
  // receiver's id with one bit flipped): NOT_FOUND.
  Bytes flipped(by.receiver.id().view().begin(), by.receiver.id().view().end());
  flipped[5] ^= 0x01;
  for (const Bytes& bogus : {Bytes(32, 0x00), Bytes(32, 0xff), flipped}) {
    Pb fetch;
    fetch.bytes(1, bogus);
    CHECK(ask(c, ++id, wirefield::kFetch, fetch) == relay::Status::kNotFound);
    Pb send;
    send.bytes(1, bogus).bytes(2, bytes_of("x"));
    CHECK(ask(c, ++id, wirefield::kSend, send) == relay::Status::kNotFound);
  }
  // Sequences that name nothing (0, 2^63 and above, the largest, someone
  // else's): OK, nothing deleted (protocol 7.8). Sequences above INT64_MAX
  // used to fail the whole Ack with MALFORMED (the store could not bind them).
  must(c.ack({0, 1, 2, 3, std::uint64_t{1} << 63, ~std::uint64_t{0}}));
  // ... and an own sequence beside them is deleted.
  must(c.send(mallory.id(), bytes_of("to myself")));
  auto mine = must(c.wait_delivery());
  must(c.ack({~std::uint64_t{0}, mine.sequence}));
  c.close();
  auto again = mallory.connect(*relay);
  must(again.send(mallory.id(), bytes_of("sentinel")));
  CHECK(must(again.wait_delivery()).envelope == bytes_of("sentinel"));
  by.after(*relay);
}

TEST_CASE("hostile: low-order one-time and signed prekeys are MALFORMED",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  for (const char* hex : {kZeroKey, kOrder8Key}) {
    INFO("key " << hex);
    const auto low = *X25519PublicKey::from(*from_hex(hex));
    // In a registration: refused whole, the device stays unregistered.
    Device mallory(0);
    auto c = mallory.connect(*relay);
    std::vector<OneTimePreKeyPublic> bad{OneTimePreKeyPublic{1, low}};
    CHECK(rejected_with(c.register_account(mallory.identity, mallory.signed_prekey.public_key,
                                           bad)) == relay::Status::kMalformed);
    CHECK(rejected_with(c.prekey_count()) == relay::Status::kUnauthorised);
    // A signed prekey over a low-order key, correctly signed by IK.
    auto low_spk = sign_prekey(mallory.identity, 9, unix_now(), unix_now() + 86400, low);
    CHECK(rejected_with(c.register_account(mallory.identity, low_spk, {})) ==
          relay::Status::kMalformed);
    // Registered, then an upload and a rotation with the low-order key.
    must(c.register_account(mallory.identity, mallory.signed_prekey.public_key, {}));
    CHECK(rejected_with(c.upload_prekeys(bad)) == relay::Status::kMalformed);
    CHECK(rejected_with(c.rotate_signed_prekey(low_spk)) == relay::Status::kMalformed);
    CHECK(must(c.prekey_count()) == 0);
    auto bundle = must(by.sender.connect(*relay).fetch_bundle(mallory.id()));
    CHECK(bundle.bundle.signed_prekey == mallory.signed_prekey.public_key);
  }
  by.after(*relay);
}

TEST_CASE("hostile: a low-order identity key with a trivial signature is UNAUTHORISED",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // Ed25519's neutral element (y = 1) and a point of order 4 (y = 0): a
  // lenient verifier accepts R = A, S = 0 for any message under such a key.
  for (const char* hex : {"0100000000000000000000000000000000000000000000000000000000000000",
                          "0000000000000000000000000000000000000000000000000000000000000000"}) {
    INFO("IK " << hex);
    Device mallory(0);
    auto ik = *Ed25519PublicKey::from(*from_hex(hex));
    auto c = RelayClient::connect(relay->address(), ik, copy_key(mallory.transport), 1, mallory.rng,
                                  kTimeout);
    REQUIRE(c.ok());
    Bytes trivial(64, 0x00);
    std::copy(ik.view().begin(), ik.view().end(), trivial.begin());  // R = A, S = 0
    auto f = RegisterFields::of(mallory, c->handshake_hash());
    f.identity = Bytes(ik.view().begin(), ik.view().end());
    f.transport_sig = trivial;
    f.pop = trivial;
    CHECK(status_of(*c, client_frame(1, wirefield::kRegister, f.body()), 1) ==
          relay::Status::kUnauthorised);
    CHECK(rejected_with(c->prekey_count()) == relay::Status::kUnauthorised);
    CHECK(rejected_with(c->fetch_bundle(ik)) == relay::Status::kNotFound);
  }
  by.after(*relay);
}

TEST_CASE("hostile: wrong-length keys and signatures in Register are refused",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect(*relay);
  const auto good = RegisterFields::of(mallory, c.handshake_hash());
  struct Case {
    const char* what;
    RegisterFields f;
    relay::Status expected;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, auto change, relay::Status expected) {
    RegisterFields f = good;
    change(f);
    cases.push_back({what, std::move(f), expected});
  };
  using S = relay::Status;
  add(
      "identity 31", [](auto& f) { f.identity = resized(f.identity, 31); }, S::kMalformed);
  add(
      "identity 33", [](auto& f) { f.identity = resized(f.identity, 33); }, S::kMalformed);
  add(
      "transport 0", [](auto& f) { f.transport.clear(); }, S::kMalformed);
  add(
      "transport 33", [](auto& f) { f.transport = resized(f.transport, 33); }, S::kMalformed);
  add(
      "certificate 63", [](auto& f) { f.transport_sig = resized(f.transport_sig, 63); },
      S::kMalformed);
  add(
      "proof 65", [](auto& f) { f.pop = resized(f.pop, 65); }, S::kMalformed);
  add(
      "signed prekey 0", [](auto& f) { f.spk.clear(); }, S::kMalformed);
  add(
      "signed prekey 115", [](auto& f) { f.spk = resized(f.spk, 115); }, S::kMalformed);
  add(
      "signed prekey 117", [](auto& f) { f.spk = resized(f.spk, 117); }, S::kMalformed);
  add(
      "signed prekey 513", [](auto& f) { f.spk = resized(f.spk, 513); }, S::kTooLarge);
  add(
      "one-time prekey 31", [](auto& f) { f.prekeys[0].second.resize(31); }, S::kMalformed);
  add(
      "one-time prekey 0", [](auto& f) { f.prekeys[1].second.clear(); }, S::kMalformed);
  add(
      "duplicate prekey ids", [](auto& f) { f.prekeys[1].first = f.prekeys[0].first; },
      S::kMalformed);
  std::uint64_t id = 0;
  for (const auto& k : cases) {
    INFO(k.what);
    CHECK(ask(c, ++id, wirefield::kRegister, k.f.body()) == k.expected);
  }
  // Nothing of it registered anything; the untouched request does.
  CHECK(rejected_with(c.prekey_count()) == relay::Status::kUnauthorised);
  CHECK(ask(c, ++id, wirefield::kRegister, good.body()) == relay::Status::kOk);
  CHECK(must(c.prekey_count()) == 3);
  by.after(*relay);
}

TEST_CASE("hostile: a signed prekey signed by another identity is UNAUTHORISED, the bundle kept",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device alice, mallory;
  auto a = alice.connect_registered(*relay);
  // alice's own key, signed by mallory; mallory's prekey; a flipped signature bit.
  auto resigned = sign_prekey(mallory.identity, 5, unix_now(), unix_now() + 86400,
                              alice.signed_prekey.public_key.key);
  auto flipped = alice.signed_prekey.public_key;
  flipped.id = 6;  // the signature covers the id: now it does not verify
  for (const auto& spk : {resigned, mallory.signed_prekey.public_key, flipped}) {
    CHECK(rejected_with(a.rotate_signed_prekey(spk)) == relay::Status::kUnauthorised);
    auto m = mallory.connect(*relay);
    CHECK(rejected_with(m.register_account(mallory.identity, alice.signed_prekey.public_key, {})) ==
          relay::Status::kUnauthorised);
  }
  // Fetchers still get alice's genuine signed prekey, and it verifies.
  auto bundle = must(by.sender.connect(*relay).fetch_bundle(alice.id()));
  CHECK(bundle.bundle.signed_prekey == alice.signed_prekey.public_key);
  CHECK(verify_bundle(bundle.bundle, unix_now()).ok());
  by.after(*relay);
}

TEST_CASE("hostile: claims on another account (its identity, its sequences, its deletion) fail",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device& victim = by.receiver;
  Device mallory;
  // mallory announces the victim's identity with her own transport key: the
  // connection is not authenticated, and a Register without the victim's
  // identity key cannot be signed.
  auto m = RelayClient::connect(relay->address(), victim.id(), copy_key(mallory.transport), 1,
                                mallory.rng, kTimeout);
  REQUIRE(m.ok());
  CHECK(rejected_with(m->prekey_count()) == relay::Status::kUnauthorised);
  auto f = RegisterFields::of(mallory, m->handshake_hash());
  f.identity = Bytes(victim.id().view().begin(), victim.id().view().end());
  CHECK(status_of(*m, client_frame(1, wirefield::kRegister, f.body()), 1) ==
        relay::Status::kUnauthorised);
  CHECK(rejected_with(m->send(by.sender.id(), bytes_of("as the victim"))) ==
        relay::Status::kUnauthorised);
  // mallory, registered as herself, acks every sequence the victim's mail could have.
  auto own = mallory.connect_registered(*relay);
  std::vector<std::uint64_t> all;
  for (std::uint64_t s = 1; s <= 1000; ++s) all.push_back(s);
  must(own.ack(all));
  // A deletion proof made on one of the victim's connections, used on another.
  auto v1 = victim.connect(*relay);
  auto v2 = victim.connect(*relay);
  auto proof = relay_auth::sign_delete_account(victim.identity, v1.handshake_hash());
  auto id = must(v2.submit(relay::DeleteAccountRequest{proof}));
  CHECK(must(v2.wait_response(id)).status == relay::Status::kUnauthorised);
  v1.close();
  v2.close();
  // The victim's account, keys and mail are intact.
  by.after(*relay);
}

TEST_CASE("hostile: duplicated envelopes are stored and delivered twice (the client dedups)",
          "[integration][hostile]") {
  // The relay stores ciphertext it cannot read, so it cannot tell a duplicate
  // from a new message: each Send is a new queued message with its own
  // sequence. Recognising a replayed envelope is the recipient's job (the
  // ratchet refuses a message key used twice; the client acknowledges the
  // duplicate silently). A *transport-level* replay, by contrast, never
  // reaches the handlers (test_hostile_transport.cpp).
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device alice;
  auto a = alice.connect_registered(*relay);
  const Bytes envelope = bytes_of("the same ciphertext");
  must(a.send(by.receiver.id(), envelope));
  must(a.send(by.receiver.id(), envelope));
  // Replayed by someone else (any registered account may send it).
  Device mallory;
  must(mallory.connect_registered(*relay).send(by.receiver.id(), envelope));
  for (int i = 0; i < 3; ++i) by.accepted.push_back(envelope);
  // Delivered three times, with strictly increasing sequences; acking the
  // first copy leaves the others queued.
  {
    auto r = by.receiver.connect(*relay);
    auto got = must(r.wait_deliveries(6, 30s));
    for (int i = 3; i < 6; ++i) CHECK(got[static_cast<std::size_t>(i)].envelope == envelope);
    CHECK(got[3].sequence < got[4].sequence);
    CHECK(got[4].sequence < got[5].sequence);
    must(r.ack({got[3].sequence}));
  }
  by.accepted.erase(by.accepted.begin() + 3);
  by.after(*relay);
}

TEST_CASE("hostile: sends to accounts that do not exist are NOT_FOUND and store nothing",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device alice, gone;
  auto a = alice.connect_registered(*relay);
  { must(gone.connect_registered(*relay).delete_account(gone.identity)); }
  // Pipelined bursts (of 25: more than 32 waiting would be SERVER_BUSY) to
  // 100 random ids, then the deleted account.
  std::vector<Ed25519PublicKey> targets;
  for (int round = 0; round < 4; ++round) {
    std::vector<relay::Request> burst;
    for (int i = 0; i < 25; ++i) {
      Device nobody(0);
      targets.push_back(nobody.id());
      burst.push_back(relay::SendRequest{nobody.id(), bytes_of("into the void")});
    }
    auto ids = must(a.submit_all(std::move(burst)));
    for (auto id : ids) CHECK(must(a.wait_response(id)).status == relay::Status::kNotFound);
  }
  CHECK(rejected_with(a.send(gone.id(), bytes_of("to the departed"))) == relay::Status::kNotFound);
  // The relay holds nothing for any of them (disclose runs on a stopped relay).
  REQUIRE(relay->stop().ok());
  for (const auto& who : {targets.front(), targets.back(), gone.id()}) {
    auto d = relay->command(
        {"disclose", "--data", relay->data_dir().string(), "--account", to_hex(who.view())});
    CHECK(d.status == 0);
    CHECK_THAT(d.out, Catch::Contains("holds nothing"));
  }
  REQUIRE(relay->start().ok());
  by.after(*relay);
}

TEST_CASE("hostile: a mailbox filled by an attacker is QUOTA_EXCEEDED, other mailboxes unaffected",
          "[integration][hostile]") {
  auto relay = RelayProcess::create({{"quotas", "mailbox_messages", "8"},
                                     {"quotas", "mailbox_bytes", "4096"},
                                     {"quotas", "one_time_prekeys", "5"}});
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory, v1, v2;
  { auto r = v1.connect_registered(*relay); }
  { auto r = v2.connect_registered(*relay); }
  auto m = mallory.connect_registered(*relay);
  // By count: 8 small envelopes, then QUOTA_EXCEEDED.
  int accepted1 = 0;
  Result<void, client::ClientError> last = m.send(v1.id(), bytes_of("spam"));
  while (last.ok() && accepted1 < 100) {
    ++accepted1;
    last = m.send(v1.id(), bytes_of("spam"));
  }
  CHECK(accepted1 == 8);
  CHECK(rejected_with(last) == relay::Status::kQuotaExceeded);
  // By bytes: 4 envelopes of 1000 bytes fit in 4096, the fifth does not.
  int accepted2 = 0;
  last = m.send(v2.id(), Bytes(1000, 0x55));
  while (last.ok() && accepted2 < 100) {
    ++accepted2;
    last = m.send(v2.id(), Bytes(1000, 0x55));
  }
  CHECK(accepted2 == 4);
  CHECK(rejected_with(last) == relay::Status::kQuotaExceeded);
  // Prekeys: mallory (3 held) cannot store more than 5.
  CHECK(rejected_with(m.upload_prekeys(mallory.add_prekeys(3))) == relay::Status::kQuotaExceeded);
  CHECK(must(m.prekey_count()) == 3);
  // Every accepted envelope is delivered; acknowledging makes room again.
  auto r1 = v1.connect(*relay);
  auto got = must(r1.wait_deliveries(8, 30s));
  std::vector<std::uint64_t> seqs;
  for (const auto& d : got) seqs.push_back(d.sequence);
  must(r1.ack(seqs));
  must(m.send(v1.id(), bytes_of("room again")));
  CHECK(must(r1.wait_delivery(30s)).envelope == bytes_of("room again"));
  CHECK(must(v2.connect(*relay).wait_deliveries(4, 30s)).size() == 4);
  by.after(*relay);
}

TEST_CASE("hostile: rate-limit exhaustion by address and by account, others served",
          "[integration][hostile]") {
  auto relay = RelayProcess::create({{"rate_limits", "requests_per_second_per_address", "20"},
                                     {"rate_limits", "request_burst_per_address", "60"},
                                     {"rate_limits", "requests_per_second_per_account", "5"},
                                     {"rate_limits", "request_burst_per_account", "10"}});
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // Every request of the burst is answered exactly once, in any order (70.2,
  // "Pipelining"); pushes are skipped.
  auto count_limited = [](NoiseClient& c, std::uint64_t first, std::uint64_t n) {
    std::size_t limited = 0;
    std::set<std::uint64_t> answered;
    while (answered.size() < n) {
      auto m = c.receive();
      REQUIRE(m.has_value());
      auto* r = std::get_if<relay::Response>(&*m);
      if (!r) continue;
      REQUIRE(r->request_id >= first);
      REQUIRE(r->request_id < first + n);
      REQUIRE(answered.insert(r->request_id).second);
      if (r->status == relay::Status::kRateLimited) {
        ++limited;
        REQUIRE(r->retry_after_ms.has_value());
        CHECK(*r->retry_after_ms >= 1);
        CHECK(*r->retry_after_ms <= 1000);
      }
    }
    return limited;
  };
  // By address: an unregistered client at 127.0.0.2 sends 200 requests at once.
  Device flooder;
  auto a = NoiseClient::connect_ik(*relay, flooder, "127.0.0.2");
  Bytes burst;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    auto f = a.seal(relay::encode_client_request({i, relay::GetPreKeyCountRequest{}}));
    burst.insert(burst.end(), f.begin(), f.end());
  }
  REQUIRE(a.socket().write(burst));
  CHECK(count_limited(a, 1, 200) >= 120);
  // By account: mallory (registered) at 127.0.0.3, then again at 127.0.0.4.
  Device mallory;
  { auto m = mallory.connect_registered(*relay); }
  auto m3 = NoiseClient::connect_ik(*relay, mallory, "127.0.0.3");
  auto m4 = NoiseClient::connect_ik(*relay, mallory, "127.0.0.4");
  Bytes burst3;
  for (std::uint64_t i = 1; i <= 40; ++i) {
    auto f = m3.seal(relay::encode_client_request({i, relay::GetPreKeyCountRequest{}}));
    burst3.insert(burst3.end(), f.begin(), f.end());
  }
  REQUIRE(m3.socket().write(burst3));
  CHECK(count_limited(m3, 1, 40) >= 25);
  // The account's bucket is shared by its connections, whatever their address.
  REQUIRE(m4.send_request(1, relay::GetPreKeyCountRequest{}));
  CHECK(count_limited(m4, 1, 1) == 1);
  // A device at 127.0.0.1 is served at once, and so are the bystanders.
  Device fresh;
  auto f = fresh.connect_registered(*relay);
  CHECK(must(f.prekey_count()) == 3);
  by.after(*relay);
}

TEST_CASE("hostile: too many new connections from one address are refused before the handshake",
          "[integration][hostile]") {
  auto relay = RelayProcess::create({{"rate_limits", "connections_per_minute_per_address", "20"},
                                     {"limits", "handshake_timeout_ms", "60000"}});
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // 40 connections from 127.0.0.5: the first 20 are admitted (and wait for
  // their handshake), the next 20 are closed at once without a byte.
  std::vector<RawSocket> socks;
  for (int i = 0; i < 40; ++i) socks.push_back(must_open(*relay, "127.0.0.5"));
  auto refused = [&] {
    std::size_t n = 0;
    for (auto& s : socks) n += s.closed_now() ? 1 : 0;
    return n;
  };
  CHECK(eventually([&] { return refused() >= 20; }));
  // The admitted ones stay open (their handshake deadline is a minute away).
  CHECK_FALSE(socks.front().wait_closed(300ms));
  CHECK(refused() == 20);
  // Another address is not affected.
  Device fresh;
  CHECK(fresh.try_connect(*relay).ok());
  by.after(*relay);
}
