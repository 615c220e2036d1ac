// test_hostile_transport.cpp — hostile input against the running relay, below
// the relay protocol (issue 5, "Hostile input against the running relay"):
// framing (zero-length, maximum-plus-one, a length prefix with no body), the
// handshake (unknown type byte, garbage, bad hello, non-empty NK payload, a
// low-order static key, slowloris), transport messages that fail
// authentication, and replays (a recorded Noise handshake, a recorded
// transport message). Every case states the relay's answer — a closed
// connection or a status — and ends with Bystanders::after: mail accepted
// before the attack is still delivered and a fresh device is served.
#include <catch2/catch.hpp>

#include "integration/hostile_support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

// Deadlines short enough to observe, far enough apart to tell which one fired.
const std::vector<ConfigSetting> kShortDeadlines = {{"limits", "handshake_timeout_ms", "1000"},
                                                    {"limits", "frame_timeout_ms", "1000"},
                                                    {"limits", "idle_timeout_ms", "60000"}};

Millis since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<Millis>(SteadyClock::now() - t);
}

// A Noise IK first frame of `device` that the relay would accept.
Bytes ik_first_frame(const RelayProcess& relay, Device& device, ByteView payload) {
  auto hs = noise::sotto_ik_initiator(copy_key(device.transport), relay.address().key, device.rng);
  REQUIRE(hs.ok());
  auto m1 = hs->write_message(payload);
  REQUIRE(m1.ok());
  return framed(noise::first_frame_body(noise::HandshakeType::kIK, *m1));
}

// IK message 1 built step by step (the core refuses a static key pair whose
// public half does not match its secret): e, es, s = `s_public`, ss with
// `s_secret`, then the encrypted hello of `device`. With a matching pair this
// is exactly what sotto_ik_initiator writes.
Bytes ik_first_frame_with_static(const RelayProcess& relay, Device& device,
                                 const X25519SecretKey& s_secret, const X25519PublicKey& s_public) {
  noise::SymmetricState st(noise::protocol_name(noise::Pattern::kIK));
  st.mix_hash(bytes_of(std::string(noise::kSottoPrologue)));
  st.mix_hash(relay.address().key.view());  // <- s
  auto e = crypto::x25519_generate(device.rng);
  Bytes msg(e.public_key.view().begin(), e.public_key.view().end());
  st.mix_hash(e.public_key.view());  // -> e
  auto es = crypto::x25519(e.secret, relay.address().key);
  REQUIRE(es.ok());
  st.mix_key(es->view());  // es
  auto enc_s = st.encrypt_and_hash(s_public.view());
  REQUIRE(enc_s.ok());
  msg.insert(msg.end(), enc_s->begin(), enc_s->end());  // s
  auto ss = crypto::x25519(s_secret, relay.address().key);
  REQUIRE(ss.ok());
  st.mix_key(ss->view());  // ss
  auto payload = st.encrypt_and_hash(
      relay_auth::encode_device_hello(relay_auth::DeviceHello{device.id(), device.device_id}));
  REQUIRE(payload.ok());
  msg.insert(msg.end(), payload->begin(), payload->end());
  return framed(noise::first_frame_body(noise::HandshakeType::kIK, msg));
}

Bytes hello_of(const Device& d) {
  return relay_auth::encode_device_hello(relay_auth::DeviceHello{d.id(), d.device_id});
}

// Writes `bytes` one at a time, `gap` apart, until the relay closes (returns
// the bytes written by then) or all are written (returns bytes.size()).
std::size_t trickle(RawSocket& s, ByteView bytes, Millis gap) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!s.write(bytes.subspan(i, 1))) return i;
    if (s.wait_closed(gap)) return i + 1;
  }
  return bytes.size();
}

}  // namespace

TEST_CASE("hostile: a zero-length first frame closes the connection at once",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  auto s = must_open(*relay);
  const auto t = SteadyClock::now();
  REQUIRE(s.write(Bytes{0x00, 0x00}));
  CHECK(s.wait_closed(kTimeout));
  CHECK(since(t) < 5s);  // refused on the prefix, not at the 10 s handshake deadline
  by.after(*relay);
}

TEST_CASE("hostile: a first frame of the maximum plus one closes before its body is read",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // The largest first frame is accepted as a frame (and fails as a handshake).
  {
    auto s = must_open(*relay);
    Bytes body(noise::kMaxFirstFrameBody, 0x00);
    body[0] = 0x01;
    REQUIRE(s.write(framed(body)));
    CHECK(s.wait_closed(kTimeout));
  }
  // One more byte: only the prefix is sent, and the relay hangs up on it.
  auto s = must_open(*relay);
  const auto n = noise::kMaxFirstFrameBody + 1;
  const auto t = SteadyClock::now();
  REQUIRE(s.write(Bytes{static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xff)}));
  CHECK(s.wait_closed(kTimeout));
  CHECK(since(t) < 5s);
  by.after(*relay);
}

TEST_CASE("hostile: an unknown handshake type byte or a garbage message 1 closes",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  SystemRng rng;
  for (std::uint8_t type : {std::uint8_t{0x00}, std::uint8_t{0x03}, std::uint8_t{0xff}}) {
    auto s = must_open(*relay);
    Bytes body(1 + 32, 0x11);
    body[0] = type;
    REQUIRE(s.write(framed(body)));
    CHECK(s.wait_closed(kTimeout));
  }
  for (std::uint8_t type : {std::uint8_t{0x01}, std::uint8_t{0x02}}) {
    for (std::size_t len : {1u, 31u, 32u, 48u, 96u, 200u}) {
      auto s = must_open(*relay);
      Bytes body = random_bytes(rng, len + 1);
      body[0] = type;
      REQUIRE(s.write(framed(body)));
      INFO("type " << int(type) << ", " << len << " bytes");
      CHECK(s.wait_closed(kTimeout));
    }
  }
  by.after(*relay);
}

TEST_CASE("hostile: a device hello of the wrong length or version closes the handshake",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  Bytes good = hello_of(mallory);
  std::vector<Bytes> bad = {Bytes{}, Bytes(good.begin(), good.end() - 1), good, good};
  bad[2].push_back(0x00);  // 38 bytes
  bad[3][0] = 0x02;        // another version
  for (const auto& hello : bad) {
    auto s = must_open(*relay);
    REQUIRE(s.write(ik_first_frame(*relay, mallory, hello)));
    INFO("hello of " << hello.size() << " bytes");
    CHECK(s.wait_closed(kTimeout));
  }
  // The same frame with the right hello is answered (message 2).
  auto ok = NoiseClient::start_ik(*relay, mallory);
  CHECK(ok.finish());
  by.after(*relay);
}

TEST_CASE("hostile: an anonymous (NK) handshake with a payload closes", "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  SystemRng rng;
  auto c = NoiseClient::start_nk(*relay, rng, bytes_of("not anonymous after all"));
  CHECK_FALSE(c.finish());
  CHECK(c.socket().wait_closed(kTimeout));
  auto fine = NoiseClient::start_nk(*relay, rng);
  CHECK(fine.finish());
  by.after(*relay);
}

TEST_CASE("hostile: a low-order Noise static key (transport key) fails the handshake",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // 0 and a point of order 8 (RFC 7748 section 7's list): DH(s, rs) is refused.
  const char* low_order[] = {"0000000000000000000000000000000000000000000000000000000000000000",
                             "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                             "0100000000000000000000000000000000000000000000000000000000000000"};
  Device mallory;
  for (const char* hex : low_order) {
    auto key = X25519PublicKey::from(*from_hex(hex));
    REQUIRE(key.has_value());
    auto s = must_open(*relay);
    REQUIRE(s.write(ik_first_frame_with_static(*relay, mallory, mallory.transport.secret, *key)));
    INFO("rs = " << hex);
    CHECK(s.wait_closed(kTimeout));
  }
  // The same construction with mallory's real key is answered with message 2.
  auto s = must_open(*relay);
  REQUIRE(s.write(ik_first_frame_with_static(*relay, mallory, mallory.transport.secret,
                                             mallory.transport.public_key)));
  auto prefix = s.read_exact(2, kTimeout);
  REQUIRE(prefix.has_value());
  CHECK(*prefix == Bytes{0x00, 48});
  by.after(*relay);
}

TEST_CASE("hostile: a length prefix with no body closes at the deadline, or at once on EOF",
          "[integration][hostile]") {
  auto relay = RelayProcess::create(kShortDeadlines);
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // During the handshake: closed by the 1 s handshake deadline.
  {
    auto s = must_open(*relay);
    const auto t = SteadyClock::now();
    REQUIRE(s.write(Bytes{0x00, 0x50}));
    CHECK(s.wait_closed(kTimeout));
    CHECK(since(t) < 5s);
  }
  // The client half-closes after the prefix: end of stream, closed at once.
  {
    auto s = must_open(*relay);
    REQUIRE(s.write(Bytes{0x00, 0x50}));
    s.shutdown_write();
    CHECK(s.wait_closed(kTimeout));
  }
  // After the handshake: closed by the 1 s frame deadline.
  {
    Device mallory;
    auto c = NoiseClient::connect_ik(*relay, mallory);
    const auto t = SteadyClock::now();
    REQUIRE(c.socket().write(Bytes{0x01, 0x00}));
    CHECK(c.socket().wait_closed(kTimeout));
    CHECK(since(t) < 5s);
  }
  by.after(*relay);
}

TEST_CASE("hostile: a slowloris handshake is closed at the handshake deadline",
          "[integration][hostile]") {
  // The frame deadline is long: the handshake deadline must still hold.
  auto relay = RelayProcess::create(
      {{"limits", "handshake_timeout_ms", "1000"}, {"limits", "frame_timeout_ms", "30000"}});
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  const Bytes first = ik_first_frame(*relay, mallory, hello_of(mallory));
  auto s = must_open(*relay);
  const auto t = SteadyClock::now();
  // One byte every 100 ms: the whole frame would take ~13 s.
  const std::size_t written = trickle(s, first, 100ms);
  INFO("closed after " << since(t).count() << " ms and " << written << " of " << first.size()
                       << " bytes");
  CHECK(written < first.size());
  CHECK(since(t) < 5s);
  by.after(*relay);
}

TEST_CASE("hostile: a slowloris frame is closed at the frame deadline", "[integration][hostile]") {
  auto relay = RelayProcess::create(kShortDeadlines);
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = NoiseClient::connect_ik(*relay, mallory);
  const Bytes frame = c.seal(relay::encode_client_request({1, relay::GetPreKeyCountRequest{}}));
  Bytes slow = frame;
  slow.resize(2 + 200, 0x00);  // the prefix claims 200 bytes: plenty to trickle
  slow[0] = 0x00;
  slow[1] = 200;
  const auto t = SteadyClock::now();
  const std::size_t written = trickle(c.socket(), slow, 100ms);
  INFO("closed after " << since(t).count() << " ms and " << written << " bytes");
  CHECK(written < slow.size());
  CHECK(since(t) < 5s);
  by.after(*relay);
}

TEST_CASE("hostile: a slowloris frame is closed at the frame deadline even while mail is pushed",
          "[integration][hostile]") {
  auto relay = RelayProcess::create(kShortDeadlines);
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  // mallory is registered and has a friend who keeps sending: every push the
  // relay writes to mallory's connection must not extend the frame deadline.
  Device mallory, friend_;
  { auto m = mallory.connect_registered(*relay); }
  auto f = friend_.connect_registered(*relay);
  auto c = NoiseClient::connect_ik(*relay, mallory);
  const auto t = SteadyClock::now();
  REQUIRE(c.socket().write(Bytes{0x00, 200}));
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    must(f.send(mallory.id(), bytes_of("keep the writer busy")));
    closed = !c.socket().write(Bytes{0x00}) || c.socket().wait_closed(100ms);
  }
  INFO("closed after " << since(t).count() << " ms");
  CHECK(closed);
  CHECK(since(t) < 5s);
  by.after(*relay);
}

TEST_CASE(
    "hostile: a zero-length transport frame and one of max_frame + 17 close, max_frame is read",
    "[integration][hostile]") {
  auto relay =
      RelayProcess::create({{"limits", "max_frame", "16384"}, {"limits", "max_envelope", "896"}});
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  {
    auto c = NoiseClient::connect_ik(*relay, mallory);
    REQUIRE(c.socket().write(Bytes{0x00, 0x00}));
    CHECK(c.socket().wait_closed(kTimeout));
  }
  {
    // A transport message of exactly max_frame plaintext bytes is read,
    // decrypted and answered (MALFORMED: not a ClientFrame) ...
    auto c = NoiseClient::connect_ik(*relay, mallory);
    REQUIRE(c.send(Bytes(16384, 0xff)));
    auto r = c.response(0);
    REQUIRE(r.has_value());
    CHECK(r->status == relay::Status::kMalformed);
    // ... one more byte and the relay closes on the prefix.
    REQUIRE(c.send(Bytes(16385, 0xff)));
    CHECK(c.socket().wait_closed(kTimeout));
  }
  {
    // Only a prefix of max_frame + 16 + 1: closed without waiting for a body.
    auto c = NoiseClient::connect_ik(*relay, mallory);
    const std::size_t n = 16384 + 16 + 1;
    const auto t = SteadyClock::now();
    REQUIRE(c.socket().write(
        Bytes{static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n & 0xff)}));
    CHECK(c.socket().wait_closed(kTimeout));
    CHECK(since(t) < 5s);
  }
  by.after(*relay);
}

TEST_CASE("hostile: forged transport messages are dropped, the eighth closes the connection",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = NoiseClient::connect_ik(*relay, mallory);
  SystemRng rng;
  // Seven forgeries (random "ciphertexts" of several lengths, one shorter than a tag):
  // dropped, unanswered, and the next genuine message still decrypts.
  for (std::size_t len : {1u, 15u, 16u, 17u, 64u, 1000u, 4000u})
    REQUIRE(c.socket().write(framed(random_bytes(rng, len))));
  REQUIRE(c.send_request(5, relay::FetchBundleRequest{by.receiver.id()}));
  auto r = c.response(5);
  REQUIRE(r.has_value());
  CHECK(r->status == relay::Status::kOk);
  // The count is per connection and never reset: one more and it is closed.
  REQUIRE(c.socket().write(framed(random_bytes(rng, 32))));
  CHECK(c.socket().wait_closed(kTimeout));
  by.after(*relay);
}

TEST_CASE("hostile: a replayed Noise handshake yields no usable session",
          "[integration][hostile]") {
  // What happens: IK message 1 carries no freshness from the relay, so the
  // relay cannot tell a replay from the original; it answers message 2 with a
  // fresh ephemeral and (rs and the hello being those of a registered device)
  // treats the connection as the device's. But the transport keys depend on
  // the device's ephemeral secret from the original message 1, which the
  // attacker does not have: it cannot read message 2 or anything pushed, and
  // nothing it sends decrypts (each frame is dropped; 8 and the relay closes).
  // Recorded transport messages of the original connection do not decrypt
  // under the replayed connection's keys either, so nothing the device did is
  // repeated (here: an Ack of sequences that did not exist yet). And since no
  // transport message from the client authenticates, the relay pushes nothing.
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device& victim = by.receiver;
  // The recorded session: a handshake and an Ack of sequences 4..6 (future mail).
  Bytes recorded_handshake, recorded_ack;
  {
    auto c = NoiseClient::connect_ik(*relay, victim);
    recorded_handshake = c.first_frame();
    recorded_ack = c.seal(relay::encode_client_request({9, relay::AckRequest{{4, 5, 6}}}));
    REQUIRE(c.socket().write(recorded_ack));
    auto r = c.response(9);
    REQUIRE(r.has_value());
    CHECK(r->status == relay::Status::kOk);
  }
  // Mail 4..6 arrives later.
  {
    auto s = by.sender.connect(*relay);
    for (int i = 3; i < 6; ++i) {
      by.accepted.push_back(bytes_of("accepted before the attack #" + std::to_string(i)));
      must(s.send(victim.id(), by.accepted.back()));
    }
  }
  // The attacker replays the handshake: the relay answers with a message 2.
  auto s = must_open(*relay, "127.0.0.2");
  REQUIRE(s.write(recorded_handshake));
  auto prefix = s.read_exact(2, kTimeout);
  REQUIRE(prefix.has_value());
  const std::size_t len = (std::size_t{(*prefix)[0]} << 8) | (*prefix)[1];
  auto message2 = s.read_exact(len, kTimeout);
  REQUIRE(message2.has_value());
  CHECK(message2->size() == 48);  // e (32) || tag of the empty payload (16)
  // The recorded Ack, then forgeries: all dropped; the relay closes after 8.
  // Key confirmation (protocol 70.7): no client transport message ever
  // authenticated, so the relay pushed nothing — not even ciphertext: the
  // replayer does not learn how many envelopes are queued, or their sizes.
  REQUIRE(s.write(recorded_ack));
  SystemRng rng;
  for (int i = 0; i < 7; ++i)
    if (!s.write(framed(random_bytes(rng, 64)))) break;
  auto sent_after_message2 = s.bytes_until_closed(kTimeout);
  REQUIRE(sent_after_message2.has_value());
  CHECK(*sent_after_message2 == 0);
  // All six messages are still queued and delivered in order.
  by.after(*relay);
}

TEST_CASE("hostile: a replayed transport message is dropped, on its connection or another",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device& mallory = by.sender;
  auto c = NoiseClient::connect_ik(*relay, mallory);
  const Bytes send = c.seal(relay::encode_client_request(
      {7, relay::SendRequest{by.receiver.id(), bytes_of("sent once")}}));
  REQUIRE(c.socket().write(send));
  auto r = c.response(7);
  REQUIRE(r.has_value());
  CHECK(r->status == relay::Status::kAccepted);
  by.accepted.push_back(bytes_of("sent once"));
  // The same bytes again: the nonce has moved on, so it fails authentication.
  REQUIRE(c.socket().write(send));
  // ... and on a second connection of the same device (other keys).
  auto c2 = NoiseClient::connect_ik(*relay, mallory);
  REQUIRE(c2.socket().write(send));
  // Both connections still work (one failure each is far from 8) and are in order.
  REQUIRE(c.send_request(8, relay::GetPreKeyCountRequest{}));
  REQUIRE(c.response(8).has_value());
  REQUIRE(c2.send_request(1, relay::SendRequest{by.receiver.id(), bytes_of("sentinel")}));
  auto sent = c2.response(1);
  REQUIRE(sent.has_value());
  CHECK(sent->status == relay::Status::kAccepted);
  by.accepted.push_back(bytes_of("sentinel"));
  // Exactly one copy, then the sentinel (checked in order by after()).
  by.after(*relay);
}
