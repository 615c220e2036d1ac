// test_hostile_client.cpp — the client side of the hostile-input suite (issue 5):
// the REAL `sotto` binary against a relay that misbehaves (fake_relay.hpp), each
// case with its expected outcome in its name. After every case the profile
// still opens (`contact list`), a good message pushed by an honest relay is
// received and lands in the history, and no error message carries a secret.
//
// The envelopes are real: the profile registers with the fake relay (which
// keeps the Register request), and an in-process peer ("bob", a contact of the
// profile) runs X3DH against the registered prekeys and seals messages with
// the core (common/session.hpp), exactly as another `sotto` would.
//
// Outcomes pinned here (docs/security-review.md lists them):
//   transport  a failed handshake, a framing error, a close mid-frame or a
//              silent relay end `sotto recv` with exit status 1 and one
//              "sotto: ..." line; a frame that fails Noise authentication is
//              dropped and the connection goes on (8 of them end it).
//   protocol   a frame that does not decode, or a response without what was
//              asked, ends the run with exit status 1; nothing is acked.
//   content    an envelope that does not open, that was sealed to someone
//              else, or that carries a forged header is reported as
//              undecryptable, recorded as seen and acknowledged (it can never
//              become readable: redelivering it forever would only block the
//              mailbox); a replay is acknowledged silently and shown once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/account_id.hpp"
#include "common/envelope.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/ratchet_header.hpp"
#include "common/session.hpp"
#include "integration/client_helpers.hpp"
#include "integration/fake_relay.hpp"
#include "integration/hostile_support.hpp"

using namespace sotto;
using namespace sotto::test;
using Conn = FakeRelay::Conn;

namespace {

Bytes text_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// A contact of the profile, in-process: sends with the core's session code.
struct Peer {
  SystemRng rng;
  IdentityKeyPair identity = generate_identity(rng);
  IdentityPublicKey recipient;
  std::optional<InitiatedSession> session;

  std::string id_text() const { return AccountId(identity.public_key).to_text(); }

  // X3DH against the profile's registered signed prekey and one-time prekey `opk`.
  void start(const relay::RegisterRequest& reg, std::size_t opk) {
    recipient = reg.identity_key;
    auto spk = decode_signed_prekey(reg.signed_prekey);
    REQUIRE(spk.ok());
    PreKeyBundle b{reg.identity_key, *spk, std::nullopt};
    REQUIRE(reg.one_time_prekeys.size() > opk);
    b.one_time_prekey =
        OneTimePreKeyPublic{reg.one_time_prekeys[opk].id, reg.one_time_prekeys[opk].public_key};
    auto verified = verify_bundle(b, unix_now());
    REQUIRE(verified.ok());
    auto s = initiate_session(identity, *verified, rng);
    REQUIRE(s.ok());
    session.emplace(std::move(*s));
  }
  // The next message of the session, sealed (a prekey message: bob never got a reply).
  Bytes seal(const std::string& text) {
    auto env =
        seal_message(identity, recipient, session->state, session->header, text_bytes(text), rng);
    REQUIRE(env.ok());
    return std::move(*env);
  }
  // The next ratchet message, unsealed (to forge with before sealing).
  Bytes ratchet_message(const std::string& text) {
    auto m = ratchet::encrypt(session->state, text_bytes(text));
    REQUIRE(m.ok());
    return std::move(*m);
  }
  Bytes seal_payload(std::uint8_t type, ByteView payload) {
    auto env = seal_envelope(identity, recipient, type, payload, rng);
    REQUIRE(env.ok());
    return std::move(*env);
  }
};

// The profile "alice" registered with a fake relay, with bob as a contact.
struct World {
  FakeRelay relay;
  std::optional<SottoProfile> alice;
  Peer bob;

  World() {
    auto p = SottoProfile::create("alice");
    REQUIRE(p.ok());
    alice.emplace(std::move(*p));
    auto init = alice->init(relay.address_text());
    if (!init) FAIL("init against the fake relay: " << init.error());
    auto reg = relay.registered();
    REQUIRE(reg.has_value());
    bob.start(*reg, 0);
    auto added = alice->run({"contact", "add", "bob", bob.id_text()});
    INFO(added.describe());
    REQUIRE(added.status == 0);
  }

  SottoRun recv(Millis timeout = std::chrono::seconds(60)) const {
    return alice->run_json({"recv"}, "", timeout);
  }
};

// One scripted connection, then an honest relay: the next connections behave.
template <class F>
FakeRelay::Script once(F f) {
  auto used = std::make_shared<bool>(false);
  return [used, f](Conn& c) {
    if (*used) return FakeRelay::honest()(c);
    *used = true;
    f(c);
  };
}

// The run failed the way a user should see it: exit status 1, one clear
// "sotto: ..." error naming `needle`, no crash, no secret.
void check_clear_failure(const World& w, const SottoRun& r, const std::string& needle) {
  INFO(r.describe());
  check_no_crash(r);
  CHECK(r.status == 1);
  CHECK(r.err.rfind("sotto: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK(r.err.find(w.alice->passphrase()) == std::string::npos);
  CHECK(r.out.find(w.alice->passphrase()) == std::string::npos);
}

// The JSON lines of a recv that report an undecryptable message.
std::vector<nlohmann::json> undecryptable(const SottoRun& r) {
  std::vector<nlohmann::json> out;
  for (const auto& j : r.json())
    if (j.contains("error")) out.push_back(j);
  return out;
}

std::vector<std::string> received_texts(const SottoRun& r) {
  return texts_of(messages_in(r.out));
}

// After every hostile case: the store opens, bob is still a contact, and a
// good message pushed by an honest relay is shown, stored and acknowledged.
void still_works(World& w, const std::string& tag) {
  w.relay.set_script(FakeRelay::honest());
  auto contacts = w.alice->run_json({"contact", "list"});
  INFO(contacts.describe());
  REQUIRE(contacts.status == 0);
  CHECK(contacts.out.find(w.bob.id_text()) != std::string::npos);

  const std::string text = "good after " + tag;
  const auto seq = w.relay.queue(w.bob.seal(text));
  auto r = w.recv();
  INFO(r.describe());
  check_no_crash(r);
  REQUIRE(r.status == 0);
  CHECK(count_of(received_texts(r), text) == 1);
  CHECK(count_of(history_texts(*w.alice, "bob"), text) == 1);
  const auto acked = w.relay.acked();
  CHECK(std::find(acked.begin(), acked.end(), seq) != acked.end());
  CHECK(w.relay.mailbox().empty());
}

bool contains(const std::vector<std::uint64_t>& v, std::uint64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Bytes noise_garbage(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 131);
  return b;
}

// A well-formed Noise message 2 from a relay holding another key, for
// another transcript: the best an impostor at the pinned address can send.
Bytes impostor_message2() {
  SystemRng rng;
  auto key = crypto::x25519_generate(rng);
  auto init = noise::sotto_nk_initiator(key.public_key, rng);
  REQUIRE(init.ok());
  auto m1 = init->write_message({});
  REQUIRE(m1.ok());
  auto resp = noise::sotto_responder(noise::Pattern::kNK,
                                     X25519KeyPair{key.secret.clone(), key.public_key}, rng);
  REQUIRE(resp.ok());
  REQUIRE(resp->read_message(*m1).ok());
  auto m2 = resp->write_message({});
  REQUIRE(m2.ok());
  return *m2;
}

// Serves one connection honestly but answers a GetPreKeyCount with `bad`.
FakeRelay::Script bad_count_answer(std::function<void(Conn&, std::uint64_t)> bad) {
  return once([bad](Conn& c) {
    if (!c.handshake()) return;
    while (auto r = c.next_request()) {
      if (std::holds_alternative<relay::GetPreKeyCountRequest>(r->request)) {
        bad(c, r->request_id);
        c.swallow(Millis(5000));
        return;
      }
      if (!c.send(c.answer(*r))) return;
    }
  });
}

}  // namespace

// ---------------------------------------------------------------- transport

TEST_CASE("hostile client: an HTTP answer instead of the handshake -> exit 1, handshake failed",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.read_first_frame()) return;
    const std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    c.write_raw(text_bytes(http));  // "HT" = a 18516-byte frame that never completes
  }));
  auto r = w.recv();
  check_clear_failure(w, r, "handshake");
  still_works(w, "http answer");
}

TEST_CASE("hostile client: a garbage frame as handshake message 2 -> exit 1, relay key mismatch",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.read_first_frame()) return;
    c.write_frame(noise_garbage(48, 7));
    c.swallow(Millis(5000));
  }));
  check_clear_failure(w, w.recv(), "relay key mismatch");
  still_works(w, "garbage message 2");
}

TEST_CASE("hostile client: a handshake answer from another relay key -> exit 1, refused (pinned)",
          "[hostile_client][transport]") {
  World w;
  auto other = std::make_shared<X25519KeyPair>(crypto::x25519_generate(w.bob.rng));
  auto read_failed = std::make_shared<std::atomic<bool>>(false);
  w.relay.set_script(once([other, read_failed](Conn& c) {
    // The impostor cannot even read message 1 (it is encrypted to the pinned
    // key); it answers with the best message 2 it can make.
    if (c.handshake_as(*other)) return;
    *read_failed = true;
    c.write_frame(impostor_message2());
    c.swallow(Millis(5000));
  }));
  auto r = w.recv();
  check_clear_failure(w, r, "relay key mismatch");
  CHECK(*read_failed);
  still_works(w, "wrong key");
}

TEST_CASE(
    "hostile client: the relay closes without answering the handshake -> exit 1, key "
    "does not match",
    "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) { (void)c.read_first_frame(); }));
  check_clear_failure(w, w.recv(), "does not match");
  still_works(w, "closed before message 2");
}

TEST_CASE("hostile client: half of handshake message 2 then close -> exit 1, handshake failed",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.read_first_frame()) return;
    Bytes partial{0x00, 0x30};  // a 48-byte frame ...
    auto half = noise_garbage(20, 3);
    partial.insert(partial.end(), half.begin(), half.end());  // ... of which 20 bytes come
    c.write_raw(partial);
  }));
  check_clear_failure(w, w.recv(), "handshake");
  still_works(w, "half message 2");
}

TEST_CASE("hostile client: a zero-length frame after the handshake -> exit 1, framing error",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.write_raw(Bytes{0x00, 0x00});
    c.swallow(Millis(5000));
  }));
  check_clear_failure(w, w.recv(), "framing error");
  still_works(w, "zero-length frame");
}

TEST_CASE("hostile client: a zero-length frame as handshake message 2 -> exit 1, framing error",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.read_first_frame()) return;
    c.write_raw(Bytes{0x00, 0x00});
    c.swallow(Millis(5000));
  }));
  check_clear_failure(w, w.recv(), "framing error");
  still_works(w, "zero-length message 2");
}

TEST_CASE(
    "hostile client: a maximum-length (65535) frame of garbage -> dropped by Noise, the "
    "connection goes on, mail received",
    "[hostile_client][transport]") {
  // A 2-byte prefix cannot announce more than the 65535-byte maximum; the
  // largest frame passes framing and fails authentication: dropped, counted.
  World w;
  w.relay.queue(w.bob.seal("after a huge frame"));
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.write_frame(noise_garbage(65535, 9));
    if (!c.push_mailbox()) return;
    c.serve();
  }));
  auto r = w.recv();
  INFO(r.describe());
  check_no_crash(r);
  REQUIRE(r.status == 0);
  CHECK(received_texts(r) == std::vector<std::string>{"after a huge frame"});
  still_works(w, "huge frame");
}

TEST_CASE("hostile client: a length prefix and no body, then close -> exit 1, closed mid-frame",
          "[hostile_client][transport]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.write_raw(Bytes{0x01, 0x00});
  }));
  check_clear_failure(w, w.recv(), "in the middle of a frame");
  still_works(w, "prefix only");
}

TEST_CASE(
    "hostile client: a frame that fails Noise authentication -> dropped, mail received, "
    "8 of them -> exit 1, connection closed",
    "[hostile_client][transport]") {
  World w;
  SECTION("one forged frame is dropped") {
    w.relay.queue(w.bob.seal("after a forged frame"));
    w.relay.set_script(once([](Conn& c) {
      if (!c.handshake()) return;
      c.write_frame(noise_garbage(100, 11));
      if (!c.push_mailbox()) return;
      c.serve();
    }));
    auto r = w.recv();
    INFO(r.describe());
    check_no_crash(r);
    REQUIRE(r.status == 0);
    CHECK(received_texts(r) == std::vector<std::string>{"after a forged frame"});
  }
  SECTION("eight forged frames end the connection") {
    w.relay.set_script(once([](Conn& c) {
      if (!c.handshake()) return;
      for (std::uint8_t i = 0; i < 8; ++i) c.write_frame(noise_garbage(100, i));
      c.swallow(Millis(5000));
    }));
    auto r = w.recv();
    check_clear_failure(w, r, "failed authentication");
    CHECK(r.err.find("authenticat") != std::string::npos);
  }
  still_works(w, "forged frames");
}

TEST_CASE(
    "hostile client: a relay that never answers the handshake -> exit 1 within the 10 s "
    "deadline, no hang",
    "[hostile_client][transport][slow]") {
  World w;
  w.relay.set_script(once([](Conn& c) { c.swallow(Millis(30'000)); }));
  const auto start = std::chrono::steady_clock::now();
  auto r = w.recv(Millis(40'000));
  const auto took = std::chrono::steady_clock::now() - start;
  check_clear_failure(w, r, "no handshake answer");
  CHECK(took < std::chrono::seconds(20));
  still_works(w, "silent handshake");
}

TEST_CASE(
    "hostile client: a relay that completes the handshake and then never answers -> exit "
    "1 within the 10 s deadline",
    "[hostile_client][transport][slow]") {
  World w;
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.swallow(Millis(30'000));
  }));
  const auto start = std::chrono::steady_clock::now();
  auto r = w.recv(Millis(40'000));
  const auto took = std::chrono::steady_clock::now() - start;
  check_clear_failure(w, r, "no answer from the relay");
  CHECK(took < std::chrono::seconds(20));
  still_works(w, "silent relay");
}

// ---------------------------------------------------------------- protocol

TEST_CASE(
    "hostile client: valid Noise carrying garbage protobuf -> exit 1, cannot decode, "
    "nothing acked",
    "[hostile_client][protocol]") {
  World w;
  w.relay.queue(w.bob.seal("queued before garbage"));
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.send_plain(Bytes(40, 0xFF));
    c.swallow(Millis(5000));
  }));
  auto r = w.recv();
  check_clear_failure(w, r, "cannot decode");
  CHECK(w.relay.acked().empty());
  CHECK(w.relay.mailbox().size() == 1);  // kept for the next connection: nothing lost
  still_works(w, "garbage protobuf");
  CHECK(count_of(history_texts(*w.alice, "bob"), "queued before garbage") == 1);
}

TEST_CASE(
    "hostile client: a response of the wrong type (Bundle for a prekey count) -> exit 1, "
    "no count",
    "[hostile_client][protocol]") {
  World w;
  w.relay.set_script(bad_count_answer([](Conn& c, std::uint64_t id) {
    relay::Bundle b;
    b.identity_key = Ed25519PublicKey{};
    b.device_id = 1;
    b.signed_prekey = Bytes(116, 1);
    c.send(relay::Response{id, relay::Status::kOk, std::nullopt, b});
  }));
  check_clear_failure(w, w.recv(), "no count");
  still_works(w, "wrong response type");
}

TEST_CASE("hostile client: a response with an unknown status (99) -> exit 1, cannot decode",
          "[hostile_client][protocol]") {
  World w;
  w.relay.set_script(bad_count_answer([](Conn& c, std::uint64_t id) {
    // ServerFrame{version 1, response {request_id, status 99}}
    Pb response;
    response.u(1, id).u(2, 99);
    Pb frame;
    frame.u(1, 1).msg(2, response);
    c.send_plain(frame.b);
  }));
  check_clear_failure(w, w.recv(), "cannot decode");
  still_works(w, "unknown status");
}

TEST_CASE("hostile client: a response to a request never made -> ignored, mail received",
          "[hostile_client][protocol]") {
  World w;
  w.relay.queue(w.bob.seal("after a stray response"));
  w.relay.set_script(once([](Conn& c) {
    if (!c.handshake()) return;
    c.send(relay::Response{987654, relay::Status::kOk, std::nullopt, relay::PreKeyCount{1}});
    if (!c.push_mailbox()) return;
    c.serve();
  }));
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  CHECK(received_texts(r) == std::vector<std::string>{"after a stray response"});
  still_works(w, "stray response");
}

// A Push the client's codec refuses as a whole (exit 1, nothing acked): the
// deliveries in it stay queued at an honest relay and arrive from it later.
void refused_push(World& w, std::vector<relay::Delivery> hostile, const std::string& needle) {
  w.relay.set_script(once([hostile](Conn& c) {
    if (!c.handshake()) return;
    if (!c.send(relay::Push{hostile})) return;
    c.swallow(Millis(5000));
  }));
  auto r = w.recv();
  check_clear_failure(w, r, needle);
  CHECK(w.relay.acked().empty());
  // The honest relay then pushes what it holds, in order.
  w.relay.set_script(FakeRelay::honest());
  auto again = w.recv();
  INFO(again.describe());
  REQUIRE(again.status == 0);
  CHECK(received_texts(again) == std::vector<std::string>{"held one", "held two"});
}

TEST_CASE(
    "hostile client: a Push with non-increasing sequences -> refused whole (exit 1, "
    "cannot decode), nothing acked, the mail arrives from an honest relay",
    "[hostile_client][protocol]") {
  World w;
  auto one = w.bob.seal("held one");
  auto two = w.bob.seal("held two");
  w.relay.queue(one);
  w.relay.queue(two);
  refused_push(w, {{9, one}, {3, two}}, "cannot decode");
  still_works(w, "decreasing sequences");
}

TEST_CASE(
    "hostile client: a Push repeating a sequence -> refused whole (exit 1, cannot "
    "decode), nothing acked",
    "[hostile_client][protocol]") {
  World w;
  auto one = w.bob.seal("held one");
  auto two = w.bob.seal("held two");
  w.relay.queue(one);
  w.relay.queue(two);
  refused_push(w, {{1, one}, {1, two}}, "cannot decode");
  still_works(w, "repeated sequence");
}

TEST_CASE(
    "hostile client: a Push with an empty envelope -> refused whole (exit 1, cannot "
    "decode), nothing acked",
    "[hostile_client][protocol]") {
  World w;
  auto one = w.bob.seal("held one");
  auto two = w.bob.seal("held two");
  w.relay.queue(one);
  w.relay.queue(two);
  refused_push(w, {{1, one}, {2, Bytes{}}, {3, two}}, "cannot decode");
  still_works(w, "empty envelope");
}

TEST_CASE(
    "hostile client: a Push with an envelope over the 32865-byte maximum -> reported "
    "undecryptable, acked",
    "[hostile_client][protocol]") {
  World w;
  const auto seq = w.relay.queue(noise_garbage(kMaxEnvelopeBytes + 7000, 5));
  auto r = w.recv();
  INFO(r.describe());
  check_no_crash(r);
  REQUIRE(r.status == 0);
  CHECK(undecryptable(r).size() == 1);
  CHECK(contains(w.relay.acked(), seq));
  still_works(w, "oversized envelope");
}

TEST_CASE(
    "hostile client: 1500 garbage deliveries in one Push -> all reported, all acked in "
    "requests of at most 1000, the good one after them shown",
    "[hostile_client][protocol]") {
  World w;
  constexpr std::size_t kMany = 1500;
  for (std::size_t i = 0; i < kMany; ++i) {
    auto junk = noise_garbage(20, static_cast<std::uint8_t>(i));
    junk[0] = static_cast<std::uint8_t>(i >> 8);  // all different: none is a replay
    junk[1] = static_cast<std::uint8_t>(i & 0xff);
    w.relay.queue(junk);
  }
  const auto good = w.relay.queue(w.bob.seal("after 1500 garbage deliveries"));
  auto r = w.recv(Millis(60'000));
  INFO(r.out.size() << " bytes out; err: " << r.err);
  check_no_crash(r);
  REQUIRE(r.status == 0);
  CHECK(undecryptable(r).size() == kMany);
  CHECK(received_texts(r) == std::vector<std::string>{"after 1500 garbage deliveries"});
  CHECK(w.relay.acked().size() == kMany + 1);
  CHECK(contains(w.relay.acked(), good));
  CHECK(w.relay.refused() == 0);
  CHECK(w.relay.mailbox().empty());
  still_works(w, "many deliveries");
}

// ---------------------------------------------------------------- content

TEST_CASE(
    "hostile client: an envelope with one bit flipped -> reported undecryptable (no "
    "sender), acked, not in history",
    "[hostile_client][content]") {
  World w;
  auto env = w.bob.seal("flipped");
  env[200] ^= 0x04;
  const auto seq = w.relay.queue(env);
  auto r = w.recv();
  INFO(r.describe());
  check_no_crash(r);
  REQUIRE(r.status == 0);
  auto bad = undecryptable(r);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0]["id"].is_null());
  CHECK(r.out.find("flipped") == std::string::npos);
  CHECK(contains(w.relay.acked(), seq));
  CHECK(history_texts(*w.alice, "bob").empty());
  still_works(w, "bit flip");
}

TEST_CASE(
    "hostile client: a sealed sender forged to claim bob (sealed by another key) -> "
    "undecryptable, acked, nothing attributed to bob",
    "[hostile_client][content]") {
  World w;
  Peer mallory;
  // mallory's secret with bob's public key: the sealed sender says IK_bob, the
  // static layer is keyed with DH(x(IK_mallory), x(IK_alice)).
  Ed25519KeyPair forged{mallory.identity.secret.clone(), w.bob.identity.public_key};
  auto payload = w.bob.ratchet_message("forged sender");
  auto env = seal_envelope(forged, w.bob.recipient, kPayloadRatchetMessage, payload, mallory.rng);
  REQUIRE(env.ok());
  const auto seq = w.relay.queue(*env);
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  auto bad = undecryptable(r);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0]["id"].is_null());
  CHECK(contains(w.relay.acked(), seq));
  CHECK(history_texts(*w.alice, "bob").empty());
  still_works(w, "forged sender");
}

TEST_CASE(
    "hostile client: a first message from an unknown identity -> shown with its account "
    "id and no contact name, acked",
    "[hostile_client][content]") {
  World w;
  Peer stranger;
  stranger.start(*w.relay.registered(), 1);
  w.relay.queue(stranger.seal("hello from a stranger"));
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  auto lines = r.json();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["from"].is_null());
  CHECK(lines[0]["id"] == stranger.id_text());
  CHECK(lines[0]["text"] == "hello from a stranger");
  still_works(w, "stranger");
}

TEST_CASE(
    "hostile client: a ratchet header with a huge skip counter -> undecryptable (too many "
    "skipped), state unchanged, the real message still decrypts",
    "[hostile_client][content]") {
  World w;
  w.relay.queue(w.bob.seal("first"));  // alice now has the session
  REQUIRE(w.recv().status == 0);
  for (std::uint32_t n : {ratchet::kMaxCounter, std::uint32_t{5000}}) {
    // The next real message with N (offset 37 of the ratchet header) rewritten.
    auto real = w.bob.ratchet_message("real after skip " + std::to_string(n));
    auto forged = real;
    for (std::size_t i = 0; i < 4; ++i)
      forged[37 + i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
    const auto bad_seq = w.relay.queue(w.bob.seal_payload(kPayloadRatchetMessage, forged));
    const auto good_seq = w.relay.queue(w.bob.seal_payload(kPayloadRatchetMessage, real));
    auto r = w.recv();
    INFO(r.describe());
    check_no_crash(r);
    REQUIRE(r.status == 0);
    auto bad = undecryptable(r);
    REQUIRE(bad.size() == 1);
    CHECK(bad[0]["id"] == w.bob.id_text());
    CHECK(received_texts(r) == std::vector<std::string>{"real after skip " + std::to_string(n)});
    CHECK(contains(w.relay.acked(), bad_seq));
    CHECK(contains(w.relay.acked(), good_seq));
  }
  still_works(w, "huge skip");
}

TEST_CASE(
    "hostile client: the same envelope pushed twice with different sequences -> shown "
    "once, both acked, again on a later connection -> acked silently",
    "[hostile_client][content]") {
  World w;
  auto env = w.bob.seal("only once");
  const auto s1 = w.relay.queue(env);
  const auto s2 = w.relay.queue(env);
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  CHECK(received_texts(r) == std::vector<std::string>{"only once"});
  CHECK(contains(w.relay.acked(), s1));
  CHECK(contains(w.relay.acked(), s2));
  const auto s3 = w.relay.queue(env);
  auto again = w.recv();
  INFO(again.describe());
  REQUIRE(again.status == 0);
  CHECK(received_texts(again).empty());
  CHECK(undecryptable(again).empty());
  CHECK(contains(w.relay.acked(), s3));
  CHECK(count_of(history_texts(*w.alice, "bob"), "only once") == 1);
  still_works(w, "replay");
}

TEST_CASE("hostile client: reordered messages (3, 1, 2) -> all shown, in arrival order",
          "[hostile_client][content]") {
  World w;
  auto m1 = w.bob.seal("one");
  auto m2 = w.bob.seal("two");
  auto m3 = w.bob.seal("three");
  w.relay.queue(m3);
  w.relay.queue(m1);
  w.relay.queue(m2);
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  CHECK(received_texts(r) == std::vector<std::string>{"three", "one", "two"});
  CHECK(history_texts(*w.alice, "bob") == std::vector<std::string>{"three", "one", "two"});
  still_works(w, "reordered");
}

TEST_CASE("hostile client: a message sealed to another recipient -> undecryptable, acked",
          "[hostile_client][content]") {
  World w;
  Peer carol;
  auto env = seal_envelope(w.bob.identity, carol.identity.public_key, kPayloadRatchetMessage,
                           w.bob.ratchet_message("for carol"), w.bob.rng);
  REQUIRE(env.ok());
  const auto seq = w.relay.queue(*env);
  auto r = w.recv();
  INFO(r.describe());
  REQUIRE(r.status == 0);
  REQUIRE(undecryptable(r).size() == 1);
  CHECK(contains(w.relay.acked(), seq));
  CHECK(history_texts(*w.alice, "bob").empty());
  still_works(w, "other recipient");
}
