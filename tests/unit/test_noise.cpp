// test_noise.cpp — the Noise handshake and transport (common/noise*.hpp):
// the published cacophony vectors for every implemented pattern (handshake and
// transport messages), and properties: wrong responder key, tampering of every
// handshake byte, low-order keys, misuse, transport round trips, replay and
// reordering, the authentication-failure rule and the rekey policy.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/crypto.hpp"
#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/rng.hpp"

using namespace sotto;
using namespace sotto::noise;
using json = nlohmann::json;

namespace {

Bytes hex(const std::string& s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

X25519KeyPair key_pair_from_hex(const std::string& s) {
  return crypto::x25519_from_secret(X25519SecretKey::copy_of(hex(s)));
}

X25519PublicKey public_from_hex(const std::string& s) {
  auto p = X25519PublicKey::from(hex(s));
  REQUIRE(p.has_value());
  return *p;
}

// The relay's and the device's static keys, fixed for every property test.
struct StaticKeys {
  X25519KeyPair relay;
  X25519KeyPair device;
};
StaticKeys static_keys() {
  SeededRng rng(0x5107705107ull);
  X25519KeyPair relay = crypto::x25519_generate(rng);
  X25519KeyPair device = crypto::x25519_generate(rng);
  return {std::move(relay), std::move(device)};
}

HandshakeConfig sotto_config(Role role, Pattern pattern, const StaticKeys& keys,
                             std::optional<X25519PublicKey> relay_for_initiator = std::nullopt) {
  HandshakeConfig c;
  c.role = role;
  c.pattern = pattern;
  const ByteView p = label_bytes(kSottoPrologue);
  c.prologue = Bytes(p.begin(), p.end());
  if (role == Role::kInitiator) {
    c.remote_static = relay_for_initiator.value_or(keys.relay.public_key);
    if (pattern == Pattern::kIK) {
      c.local_static = X25519KeyPair{keys.device.secret.clone(), keys.device.public_key};
    }
  } else {
    c.local_static = X25519KeyPair{keys.relay.secret.clone(), keys.relay.public_key};
  }
  return c;
}

struct Handshakes {
  NoiseHandshake initiator;
  NoiseHandshake responder;
};

// A fresh initiator/responder pair whose ephemerals come from fixed seeds, so
// repeated calls produce the same messages byte for byte.
Handshakes make_pair(Pattern pattern, const StaticKeys& keys, SeededRng& irng, SeededRng& rrng,
                     std::uint64_t rekey_interval = kRekeyInterval) {
  HandshakeConfig ic = sotto_config(Role::kInitiator, pattern, keys);
  HandshakeConfig rc = sotto_config(Role::kResponder, pattern, keys);
  ic.rekey_interval = rekey_interval;
  rc.rekey_interval = rekey_interval;
  auto i = NoiseHandshake::create(std::move(ic), irng);
  auto r = NoiseHandshake::create(std::move(rc), rrng);
  REQUIRE(i.ok());
  REQUIRE(r.ok());
  return {std::move(i).value(), std::move(r).value()};
}

struct Transports {
  NoiseTransport initiator;
  NoiseTransport responder;
};

Transports complete(Handshakes& hs) {
  const Bytes p1 = {'h', 'e', 'l', 'l', 'o'};
  const Bytes p2 = {'w', 'e', 'l', 'c', 'o', 'm', 'e'};
  auto m1 = hs.initiator.write_message(p1);
  REQUIRE(m1.ok());
  auto r1 = hs.responder.read_message(*m1);
  REQUIRE(r1.ok());
  CHECK(crypto::ct_equal(r1->view(), p1));
  auto m2 = hs.responder.write_message(p2);
  REQUIRE(m2.ok());
  auto r2 = hs.initiator.read_message(*m2);
  REQUIRE(r2.ok());
  CHECK(crypto::ct_equal(r2->view(), p2));
  REQUIRE(hs.initiator.is_complete());
  REQUIRE(hs.responder.is_complete());
  auto ti = hs.initiator.split();
  auto tr = hs.responder.split();
  REQUIRE(ti.ok());
  REQUIRE(tr.ok());
  return {std::move(ti).value(), std::move(tr).value()};
}

Transports sotto_transports(Pattern pattern, std::uint64_t rekey_interval = kRekeyInterval) {
  StaticKeys keys = static_keys();
  SeededRng irng(1), rrng(2);
  Handshakes hs = make_pair(pattern, keys, irng, rrng, rekey_interval);
  return complete(hs);
}

Bytes text(std::string_view s) {
  const ByteView v = label_bytes(s);
  return Bytes(v.begin(), v.end());
}

// Replays one vector: cacophony's format, or Sotto's (tests/vectors/noise.json:
// one "prologue", a handshake_type byte and the framed bytes of each message).
void replay_vector(const json& v, bool sotto_format) {
  const std::string name = v.at("protocol_name");
  INFO(name);
  const auto pattern = pattern_from_protocol_name(name);
  REQUIRE(pattern.has_value());
  HandshakeConfig ic;
  ic.role = Role::kInitiator;
  ic.pattern = *pattern;
  ic.prologue = hex(v.at(sotto_format ? "prologue" : "init_prologue"));
  ic.fixed_ephemeral = X25519SecretKey::copy_of(hex(v.at("init_ephemeral")));
  if (v.contains("init_static")) ic.local_static = key_pair_from_hex(v.at("init_static"));
  if (v.contains("init_remote_static")) {
    ic.remote_static = public_from_hex(v.at("init_remote_static"));
  }
  ic.rekey_interval = 0;  // the vectors do not rekey
  HandshakeConfig rc;
  rc.role = Role::kResponder;
  rc.pattern = *pattern;
  rc.prologue = hex(v.at(sotto_format ? "prologue" : "resp_prologue"));
  rc.fixed_ephemeral = X25519SecretKey::copy_of(hex(v.at("resp_ephemeral")));
  if (v.contains("resp_static")) rc.local_static = key_pair_from_hex(v.at("resp_static"));
  if (v.contains("resp_remote_static")) {
    rc.remote_static = public_from_hex(v.at("resp_remote_static"));
  }
  rc.rekey_interval = 0;

  SeededRng unused(99);  // the fixed ephemerals replace it
  auto init = NoiseHandshake::create(std::move(ic), unused);
  auto resp = NoiseHandshake::create(std::move(rc), unused);
  REQUIRE(init.ok());
  REQUIRE(resp.ok());

  std::optional<NoiseTransport> t_init, t_resp;
  std::size_t index = 0;
  for (const auto& msg : v.at("messages")) {
    INFO("message " << index);
    const Bytes payload = hex(msg.at("payload"));
    Bytes ciphertext = hex(msg.at("ciphertext"));
    const bool from_initiator = index % 2 == 0;
    if (sotto_format) {
      // The wire form: one frame; the first body starts with the handshake type.
      FrameDecoder decoder(index == 0 ? kMaxFirstFrameBody : kMaxFrameBody);
      auto frames = decoder.feed(hex(msg.at("frame")));
      REQUIRE(frames.ok());
      REQUIRE(frames->size() == 1);
      CHECK(decoder.finish().ok());
      ByteView body = (*frames)[0];
      if (index == 0) {
        auto first = parse_first_frame_body(body);
        REQUIRE(first.ok());
        CHECK(first->pattern == *pattern);
        CHECK(static_cast<int>(body[0]) == v.at("handshake_type").get<int>());
        body = first->message;
      }
      CHECK(Bytes(body.begin(), body.end()) == ciphertext);
    }
    if (!t_init) {
      NoiseHandshake& writer = from_initiator ? *init : *resp;
      NoiseHandshake& reader = from_initiator ? *resp : *init;
      REQUIRE(writer.is_my_turn_to_write());
      auto written = writer.write_message(payload);
      REQUIRE(written.ok());
      CHECK(to_hex(*written) == to_hex(ciphertext));
      auto read = reader.read_message(ciphertext);
      REQUIRE(read.ok());
      CHECK(crypto::ct_equal(read->view(), payload));
      if (init->is_complete()) {
        REQUIRE(resp->is_complete());
        CHECK(to_hex(init->handshake_hash().view()) == v.at("handshake_hash"));
        CHECK(to_hex(resp->handshake_hash().view()) == v.at("handshake_hash"));
        // Each side learnt the other's static key, if the pattern has one.
        if (v.contains("resp_static")) {
          REQUIRE(init->remote_static().has_value());
          CHECK(*init->remote_static() == key_pair_from_hex(v.at("resp_static")).public_key);
        }
        if (v.contains("init_static")) {
          REQUIRE(resp->remote_static().has_value());
          CHECK(*resp->remote_static() == key_pair_from_hex(v.at("init_static")).public_key);
        }
        auto a = init->split();
        auto b = resp->split();
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        t_init.emplace(std::move(a).value());
        t_resp.emplace(std::move(b).value());
      }
    } else {
      NoiseTransport& sender = from_initiator ? *t_init : *t_resp;
      NoiseTransport& receiver = from_initiator ? *t_resp : *t_init;
      auto sealed = sender.encrypt(payload);
      REQUIRE(sealed.ok());
      CHECK(to_hex(*sealed) == to_hex(ciphertext));
      auto opened = receiver.decrypt(ciphertext);
      REQUIRE(opened.ok());
      CHECK(crypto::ct_equal(opened->view(), payload));
    }
    ++index;
  }
  REQUIRE(t_init.has_value());  // the vector reached the transport phase
}

}  // namespace

// ---- vectors ----

TEST_CASE("every published 25519_ChaChaPoly_BLAKE2b vector of an implemented pattern",
          "[noise][vectors]") {
  const std::string path =
      std::string(SOTTO_SHARED_VECTORS_DIR) + "/noise_25519_chachapoly_blake2b.json";
  std::ifstream in(path);
  if (!in) {
    WARN("skipping Noise vectors: " << path << " does not exist");
    return;
  }
  const json doc = json::parse(in);
  std::set<std::string> ran;
  for (const auto& v : doc.at("vectors")) {
    const std::string name = v.at("protocol_name");
    if (!pattern_from_protocol_name(name)) {
      WARN("pattern not implemented, vector skipped: " << name);
      continue;
    }
    replay_vector(v, false);
    ran.insert(name);
  }
  // IK and NK are what Sotto uses: their vectors must be in the file and pass.
  CHECK(ran.count("Noise_IK_25519_ChaChaPoly_BLAKE2b") == 1);
  CHECK(ran.count("Noise_NK_25519_ChaChaPoly_BLAKE2b") == 1);
}

TEST_CASE("the committed Sotto vectors (tests/vectors/noise.json) replay exactly",
          "[noise][vectors]") {
  std::ifstream in(std::string(SOTTO_SOURCE_DIR) + "/tests/vectors/noise.json");
  REQUIRE(in.good());
  const json doc = json::parse(in);
  REQUIRE(doc.at("description").get<std::string>().find("SeededRng(60)") != std::string::npos);
  std::set<std::string> ran;
  for (const auto& v : doc.at("vectors")) {
    CHECK(v.at("prologue") == to_hex(label_bytes(kSottoPrologue)));
    replay_vector(v, true);
    ran.insert(v.at("protocol_name").get<std::string>());
  }
  CHECK(ran == std::set<std::string>{"Noise_IK_25519_ChaChaPoly_BLAKE2b",
                                     "Noise_NK_25519_ChaChaPoly_BLAKE2b"});
}

// ---- building blocks ----

TEST_CASE("HMAC-BLAKE2b matches RFC 2104 over BLAKE2b-512 (Python hmac/hashlib values)",
          "[noise]") {
  std::array<std::uint8_t, kHashLen> out{};
  hmac_blake2b(label_bytes("key"), label_bytes("The quick brown fox jumps over the lazy dog"), out);
  CHECK(to_hex(out) ==
        "92294f92c0dfb9b00ec9ae8bd94d7e7d8a036b885a499f149dfe2fd2199394aaaf6b8894a1730cccb2cd050f9b"
        "cf5062a38b51b0dab33207f8ef35ae2c9df51b");
  // A key longer than BLOCKLEN (128) is hashed first.
  Bytes long_key(200);
  for (std::size_t i = 0; i < long_key.size(); ++i) long_key[i] = static_cast<std::uint8_t>(i);
  hmac_blake2b(long_key, label_bytes("Sotto"), out);
  CHECK(to_hex(out) ==
        "8236bb2f89cf5d1a19db84c61797e4777be1144239884fa4bff9d6dbbc4a787df1a8fd86c6770c5a9c8f6795"
        "7e0e2511103e89341d6488f4e3a43d47999d1ebd");
  hmac_blake2b({}, {}, out);
  CHECK(to_hex(out) ==
        "198cd2006f66ff83fbbd913f78aca2251caf4f19fe9475aade8cf2091b99a68466775177424f58286886cbae"
        "8229644cec747237d4b721735485e17372fdf59c");
}

TEST_CASE("CipherState: nonce layout, reserved nonce, rekey, no state change on failure",
          "[noise]") {
  CipherKey key;
  for (std::size_t i = 0; i < key.kSize; ++i) key.mutable_view()[i] = static_cast<std::uint8_t>(i);

  // Nonce = 4 zero bytes || LE64(n): compare with a direct AEAD call at n = 0x0102.
  CipherState a(key.clone());
  a.set_nonce(0x0102);
  auto c = a.encrypt_with_ad(label_bytes("ad"), label_bytes("plaintext"));
  REQUIRE(c.ok());
  const std::array<std::uint8_t, 12> nonce = {0, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0};
  CHECK(*c == crypto::aead_chacha20poly1305_seal(key.view(), nonce, label_bytes("ad"),
                                                 label_bytes("plaintext")));
  CHECK(a.nonce() == 0x0103);

  // Without a key, data passes through and n does not move.
  CipherState empty;
  auto p = empty.encrypt_with_ad({}, label_bytes("x"));
  REQUIRE(p.ok());
  CHECK(*p == text("x"));
  CHECK(empty.nonce() == 0);

  // 2^64-1 is reserved: the message at 2^64-2 is the last one.
  CipherState last(key.clone());
  last.set_nonce(kReservedNonce - 1);
  REQUIRE(last.encrypt_with_ad({}, label_bytes("ok")).ok());
  auto exhausted = last.encrypt_with_ad({}, label_bytes("no"));
  REQUIRE_FALSE(exhausted.ok());
  CHECK(exhausted.error() == ProtocolError::kNonceExhausted);
  CipherState last_rx(key.clone());
  last_rx.set_nonce(kReservedNonce);
  CHECK(last_rx.decrypt_with_ad({}, Bytes(32)).error() == ProtocolError::kNonceExhausted);

  // Failure leaves n alone; success advances it.
  CipherState tx(key.clone()), rx(key.clone());
  auto good = tx.encrypt_with_ad({}, label_bytes("m0"));
  REQUIRE(good.ok());
  Bytes forged = *good;
  forged.back() ^= 1;
  CHECK(rx.decrypt_with_ad({}, forged).error() == ProtocolError::kDecryptFailed);
  CHECK(rx.decrypt_with_ad({}, Bytes(15)).error() == ProtocolError::kDecryptFailed);
  CHECK(rx.nonce() == 0);
  REQUIRE(rx.decrypt_with_ad({}, *good).ok());
  CHECK(rx.nonce() == 1);

  // Rekey changes k (not n): same nonce, different ciphertext; both sides agree.
  CipherState r1(key.clone()), r2(key.clone()), plain(key.clone());
  r1.rekey();
  r2.rekey();
  auto x1 = r1.encrypt_with_ad({}, label_bytes("after rekey"));
  auto x0 = plain.encrypt_with_ad({}, label_bytes("after rekey"));
  REQUIRE(x1.ok());
  REQUIRE(x0.ok());
  CHECK(*x1 != *x0);
  CHECK(r2.decrypt_with_ad({}, *x1).ok());
  CHECK(r1.nonce() == 1);
}

TEST_CASE("protocol names and the Sotto prologue", "[noise]") {
  CHECK(protocol_name(Pattern::kIK) == "Noise_IK_25519_ChaChaPoly_BLAKE2b");
  CHECK(protocol_name(Pattern::kNK) == "Noise_NK_25519_ChaChaPoly_BLAKE2b");
  CHECK(pattern_from_protocol_name("Noise_XX_25519_ChaChaPoly_BLAKE2b") == Pattern::kXX);
  CHECK_FALSE(pattern_from_protocol_name("Noise_IK_25519_ChaChaPoly_SHA256").has_value());
  CHECK_FALSE(pattern_from_protocol_name("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b").has_value());
  CHECK(kSottoPrologue == "Sotto/v1/relay-transport");
  CHECK(kSottoPrologue.size() == 24);
}

// ---- handshake properties ----

TEST_CASE("IK and NK complete with the Sotto prologue and agree on h and the keys", "[noise]") {
  for (Pattern pattern : {Pattern::kIK, Pattern::kNK}) {
    INFO(pattern_name(pattern));
    StaticKeys keys = static_keys();
    SeededRng irng(11), rrng(12);
    Handshakes hs = make_pair(pattern, keys, irng, rrng);
    CHECK(hs.initiator.is_my_turn_to_write());
    CHECK_FALSE(hs.responder.is_my_turn_to_write());
    Transports t = complete(hs);
    CHECK(t.initiator.handshake_hash() == t.responder.handshake_hash());
    // The initiator authenticated the relay key it was given; in IK the relay learns
    // the device's key, in NK the initiator stays anonymous.
    REQUIRE(hs.initiator.remote_static().has_value());
    CHECK(*hs.initiator.remote_static() == keys.relay.public_key);
    if (pattern == Pattern::kIK) {
      REQUIRE(hs.responder.remote_static().has_value());
      CHECK(*hs.responder.remote_static() == keys.device.public_key);
    } else {
      CHECK_FALSE(hs.responder.remote_static().has_value());
    }
    // Keys in each direction work and differ.
    auto c1 = t.initiator.encrypt(label_bytes("ping"));
    auto c2 = t.responder.encrypt(label_bytes("ping"));
    REQUIRE(c1.ok());
    REQUIRE(c2.ok());
    CHECK(*c1 != *c2);
    CHECK(t.responder.decrypt(*c1).ok());
    CHECK(t.initiator.decrypt(*c2).ok());
  }
}

TEST_CASE("fresh ephemerals give independent handshakes", "[noise]") {
  StaticKeys keys = static_keys();
  SeededRng i1(21), r1(22), i2(23), r2(24);
  Handshakes a = make_pair(Pattern::kIK, keys, i1, r1);
  Handshakes b = make_pair(Pattern::kIK, keys, i2, r2);
  Transports ta = complete(a);
  Transports tb = complete(b);
  CHECK(ta.initiator.handshake_hash() != tb.initiator.handshake_hash());
  auto ca = ta.initiator.encrypt(label_bytes("same"));
  auto cb = tb.initiator.encrypt(label_bytes("same"));
  REQUIRE(ca.ok());
  REQUIRE(cb.ok());
  CHECK(*ca != *cb);
  CHECK(tb.responder.decrypt(*ca).error() == ProtocolError::kDecryptFailed);
}

TEST_CASE("an initiator holding the wrong responder static key fails the handshake", "[noise]") {
  for (Pattern pattern : {Pattern::kIK, Pattern::kNK}) {
    INFO(pattern_name(pattern));
    StaticKeys keys = static_keys();
    SeededRng other(31);
    const X25519PublicKey wrong = crypto::x25519_generate(other).public_key;
    SeededRng irng(32), rrng(33);
    auto init = NoiseHandshake::create(sotto_config(Role::kInitiator, pattern, keys, wrong), irng);
    auto resp = NoiseHandshake::create(sotto_config(Role::kResponder, pattern, keys), rrng);
    REQUIRE(init.ok());
    REQUIRE(resp.ok());
    auto m1 = init->write_message({});  // even an empty payload carries a tag
    REQUIRE(m1.ok());
    auto r1 = resp->read_message(*m1);
    REQUIRE_FALSE(r1.ok());
    CHECK(r1.error() == ProtocolError::kHandshakeFailed);
    CHECK(resp->is_failed());
    // Unusable afterwards.
    CHECK(resp->write_message({}).error() == ProtocolError::kHandshakeFailed);
    CHECK(resp->split().error() == ProtocolError::kHandshakeFailed);
  }
}

TEST_CASE("tampering with any byte of any handshake message fails the handshake", "[noise]") {
  StaticKeys keys = static_keys();
  for (Pattern pattern : {Pattern::kIK, Pattern::kNK}) {
    for (std::size_t which = 0; which < 2; ++which) {
      INFO(pattern_name(pattern) << " message " << which);
      // The honest message, byte for byte reproducible from the seeds.
      std::size_t length = 0;
      {
        SeededRng irng(41), rrng(42);
        Handshakes hs = make_pair(pattern, keys, irng, rrng);
        auto m1 = hs.initiator.write_message(label_bytes("client payload"));
        REQUIRE(m1.ok());
        if (which == 0) {
          length = m1->size();
        } else {
          REQUIRE(hs.responder.read_message(*m1).ok());
          auto m2 = hs.responder.write_message(label_bytes("relay payload"));
          REQUIRE(m2.ok());
          length = m2->size();
        }
      }
      // Flip a low and a high bit of each byte in turn (the high bit of an X25519
      // public key is ignored by the DH, but not by the transcript hash), then
      // truncate by one byte and extend by one byte.
      std::size_t rejected = 0;
      const std::size_t cases = 2 * length + 2;
      for (std::size_t k = 0; k < cases; ++k) {
        SeededRng irng(41), rrng(42);
        Handshakes hs = make_pair(pattern, keys, irng, rrng);
        auto m1 = hs.initiator.write_message(label_bytes("client payload"));
        REQUIRE(m1.ok());
        Bytes msg = *m1;
        NoiseHandshake* reader = &hs.responder;
        if (which == 1) {
          REQUIRE(hs.responder.read_message(*m1).ok());
          auto m2 = hs.responder.write_message(label_bytes("relay payload"));
          REQUIRE(m2.ok());
          msg = *m2;
          reader = &hs.initiator;
        }
        REQUIRE(msg.size() == length);
        if (k < 2 * length) {
          msg[k / 2] ^= static_cast<std::uint8_t>((k % 2 == 0) ? 0x01 : 0x80);
        } else if (k == 2 * length) {
          msg.pop_back();
        } else {
          msg.push_back(0);
        }
        auto r = reader->read_message(msg);
        if (!r.ok() && r.error() == ProtocolError::kHandshakeFailed && reader->is_failed()) {
          ++rejected;
        }
      }
      CHECK(rejected == cases);
    }
  }
}

TEST_CASE("low-order keys fail the handshake", "[noise]") {
  StaticKeys keys = static_keys();
  // u = 0 and u = 1 are points of small order on Curve25519.
  X25519PublicKey zero{};
  X25519PublicKey one{};
  one.bytes[0] = 1;
  for (const X25519PublicKey& bad : {zero, one}) {
    // A relay address naming a low-order key: the initiator's first DH fails.
    SeededRng irng(51);
    auto init =
        NoiseHandshake::create(sotto_config(Role::kInitiator, Pattern::kNK, keys, bad), irng);
    REQUIRE(init.ok());
    CHECK(init->write_message({}).error() == ProtocolError::kHandshakeFailed);
    CHECK(init->is_failed());

    // A client ephemeral replaced by a low-order point: the relay's DH fails.
    SeededRng irng2(52), rrng2(53);
    Handshakes hs = make_pair(Pattern::kIK, keys, irng2, rrng2);
    auto m1 = hs.initiator.write_message({});
    REQUIRE(m1.ok());
    Bytes msg = *m1;
    std::copy(bad.bytes.begin(), bad.bytes.end(), msg.begin());
    CHECK(hs.responder.read_message(msg).error() == ProtocolError::kHandshakeFailed);
  }
}

TEST_CASE("handshake misuse: keys, turns, payload size, split", "[noise]") {
  StaticKeys keys = static_keys();
  SeededRng rng(61);
  // IK initiator without the relay key; NK initiator with a static key (it would
  // silently not be used); responder without its static key; XX with a pre-shared key.
  {
    HandshakeConfig c = sotto_config(Role::kInitiator, Pattern::kIK, keys);
    c.remote_static.reset();
    CHECK(NoiseHandshake::create(std::move(c), rng).error() == ProtocolError::kHandshakeFailed);
  }
  {
    HandshakeConfig c = sotto_config(Role::kInitiator, Pattern::kNK, keys);
    c.local_static = X25519KeyPair{keys.device.secret.clone(), keys.device.public_key};
    CHECK(NoiseHandshake::create(std::move(c), rng).error() == ProtocolError::kHandshakeFailed);
  }
  {
    HandshakeConfig c = sotto_config(Role::kResponder, Pattern::kNK, keys);
    c.local_static.reset();
    CHECK(NoiseHandshake::create(std::move(c), rng).error() == ProtocolError::kHandshakeFailed);
  }
  {
    HandshakeConfig c = sotto_config(Role::kInitiator, Pattern::kIK, keys);
    c.pattern = Pattern::kXX;
    CHECK(NoiseHandshake::create(std::move(c), rng).error() == ProtocolError::kHandshakeFailed);
  }
  {
    HandshakeConfig c = sotto_config(Role::kResponder, Pattern::kIK, keys);
    c.local_static->public_key = keys.device.public_key;  // not the relay secret's key
    CHECK(NoiseHandshake::create(std::move(c), rng).error() == ProtocolError::kHandshakeFailed);
  }
  // Only IK and NK from the Sotto helpers.
  CHECK(sotto_responder(Pattern::kXX, crypto::x25519_generate(rng), rng).error() ==
        ProtocolError::kHandshakeFailed);
  CHECK(sotto_ik_initiator(crypto::x25519_generate(rng), keys.relay.public_key, rng).ok());
  CHECK(sotto_nk_initiator(keys.relay.public_key, rng).ok());

  // The responder may not write first; the initiator may not read first.
  {
    SeededRng irng(62), rrng(63);
    Handshakes hs = make_pair(Pattern::kIK, keys, irng, rrng);
    CHECK(hs.responder.write_message({}).error() == ProtocolError::kOutOfOrder);
    CHECK(hs.responder.is_failed());
    CHECK(hs.responder.read_message(Bytes(100)).error() == ProtocolError::kHandshakeFailed);
    CHECK(hs.initiator.read_message(Bytes(100)).error() == ProtocolError::kOutOfOrder);
    CHECK(hs.initiator.is_failed());
  }
  // Payload limit: kMaxHandshakePayload passes, one more byte does not.
  {
    SeededRng irng(64), rrng(65);
    Handshakes hs = make_pair(Pattern::kNK, keys, irng, rrng);
    CHECK(hs.initiator.write_message(Bytes(kMaxHandshakePayload + 1)).error() ==
          ProtocolError::kMalformed);
    SeededRng irng2(64), rrng2(65);
    Handshakes ok = make_pair(Pattern::kNK, keys, irng2, rrng2);
    auto m1 = ok.initiator.write_message(Bytes(kMaxHandshakePayload));
    REQUIRE(m1.ok());
    CHECK(m1->size() == kDhLen + kMaxHandshakePayload + kTagLen);
    auto r1 = ok.responder.read_message(*m1);
    REQUIRE(r1.ok());
    CHECK(r1->size() == kMaxHandshakePayload);
  }
  // split only once, only when complete.
  {
    SeededRng irng(66), rrng(67);
    Handshakes hs = make_pair(Pattern::kNK, keys, irng, rrng);
    CHECK(hs.initiator.split().error() == ProtocolError::kOutOfOrder);
    SeededRng irng2(66), rrng2(67);
    Handshakes done = make_pair(Pattern::kNK, keys, irng2, rrng2);
    Transports t = complete(done);
    CHECK(done.initiator.split().error() == ProtocolError::kOutOfOrder);
    CHECK(done.initiator.write_message({}).error() == ProtocolError::kOutOfOrder);
  }
}

TEST_CASE("a different prologue fails the handshake", "[noise]") {
  StaticKeys keys = static_keys();
  SeededRng irng(71), rrng(72);
  HandshakeConfig rc = sotto_config(Role::kResponder, Pattern::kNK, keys);
  rc.prologue = text("Sotto/v2/relay-transport");
  auto init = NoiseHandshake::create(sotto_config(Role::kInitiator, Pattern::kNK, keys), irng);
  auto resp = NoiseHandshake::create(std::move(rc), rrng);
  REQUIRE(init.ok());
  REQUIRE(resp.ok());
  auto m1 = init->write_message({});
  REQUIRE(m1.ok());
  CHECK(resp->read_message(*m1).error() == ProtocolError::kHandshakeFailed);
}

// ---- transport properties ----

TEST_CASE("transport round trips in both directions, up to the maximum plaintext", "[noise]") {
  Transports t = sotto_transports(Pattern::kIK);
  SeededRng rng(81);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{4096},
                           kMaxTransportPlaintext}) {
    INFO(size);
    const Bytes plain = crypto::random_bytes(rng, size);
    auto c = t.initiator.encrypt(plain);
    REQUIRE(c.ok());
    CHECK(c->size() == size + kTagLen);
    CHECK(c->size() <= kMaxMessageLen);
    auto p = t.responder.decrypt(*c);
    REQUIRE(p.ok());
    CHECK(crypto::ct_equal(p->view(), plain));
    auto c2 = t.responder.encrypt(plain);
    REQUIRE(c2.ok());
    auto p2 = t.initiator.decrypt(*c2);
    REQUIRE(p2.ok());
    CHECK(crypto::ct_equal(p2->view(), plain));
  }
  CHECK(t.initiator.send_nonce() == 5);
  CHECK(t.responder.receive_nonce() == 5);
  CHECK(t.initiator.encrypt(Bytes(kMaxTransportPlaintext + 1)).error() ==
        ProtocolError::kMalformed);
  CHECK(t.initiator.send_nonce() == 5);
}

TEST_CASE(
    "encrypt_frame_into appends the framed encrypt() message, across rekeys, and nothing on failure",
    "[noise]") {
  // Two identical transports (the same seeded handshake): one encrypts into a
  // Bytes, the other appends frames; the bytes must be the same, rekeys included.
  constexpr std::uint64_t kInterval = 3;
  Transports a = sotto_transports(Pattern::kIK, kInterval);
  Transports b = sotto_transports(Pattern::kIK, kInterval);
  SeededRng rng(82);
  Bytes out = {0xaa, 0xbb};  // what was there before stays
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{609}, std::size_t{4096},
                           std::size_t{17}, std::size_t{100}, kMaxTransportPlaintext}) {
    INFO(size);
    const Bytes plain = crypto::random_bytes(rng, size);
    auto c = a.initiator.encrypt(plain);
    REQUIRE(c.ok());
    const std::size_t before = out.size();
    REQUIRE(b.initiator.encrypt_frame_into(plain, out).ok());
    REQUIRE(out.size() == before + 2 + c->size());
    CHECK(((std::size_t{out[before]} << 8) | out[before + 1]) == c->size());
    CHECK(Bytes(out.begin() + static_cast<std::ptrdiff_t>(before + 2), out.end()) == *c);
    auto p = b.responder.decrypt(ByteView(out).subspan(before + 2));
    REQUIRE(p.ok());
    CHECK(crypto::ct_equal(p->view(), plain));
  }
  CHECK(out[0] == 0xaa);
  CHECK(out[1] == 0xbb);
  const Bytes kept = out;
  const auto nonce = b.initiator.send_nonce();
  CHECK(b.initiator.encrypt_frame_into(Bytes(kMaxTransportPlaintext + 1), out).error() ==
        ProtocolError::kMalformed);
  CHECK(out == kept);
  CHECK(b.initiator.send_nonce() == nonce);
}

TEST_CASE("replayed, reordered and forged transport messages are dropped without losing sync",
          "[noise]") {
  Transports t = sotto_transports(Pattern::kNK);
  std::vector<Bytes> sent;
  for (int i = 0; i < 3; ++i) {
    auto c = t.initiator.encrypt(text("message " + std::to_string(i)));
    REQUIRE(c.ok());
    sent.push_back(*c);
  }
  // Reordered: message 1 before message 0 fails and leaves the nonce alone.
  CHECK(t.responder.decrypt(sent[1]).error() == ProtocolError::kDecryptFailed);
  CHECK(t.responder.receive_nonce() == 0);
  CHECK(t.responder.auth_failures() == 1);
  auto p0 = t.responder.decrypt(sent[0]);
  REQUIRE(p0.ok());
  CHECK(crypto::ct_equal(p0->view(), text("message 0")));
  // Replayed: message 0 again fails.
  CHECK(t.responder.decrypt(sent[0]).error() == ProtocolError::kDecryptFailed);
  // Forged (a bit flipped) and too short: fail, counted, nonce unchanged.
  Bytes forged = sent[1];
  forged[0] ^= 1;
  CHECK(t.responder.decrypt(forged).error() == ProtocolError::kDecryptFailed);
  CHECK(t.responder.decrypt(Bytes(kTagLen - 1)).error() == ProtocolError::kDecryptFailed);
  CHECK(t.responder.decrypt(Bytes(kMaxMessageLen + 1)).error() == ProtocolError::kDecryptFailed);
  CHECK(t.responder.receive_nonce() == 1);
  CHECK(t.responder.auth_failures() == 5);
  // The genuine stream still decrypts.
  CHECK(t.responder.decrypt(sent[1]).ok());
  CHECK(t.responder.decrypt(sent[2]).ok());
  CHECK(t.responder.receive_nonce() == 3);
}

TEST_CASE("the transport closes after kMaxAuthFailures failed messages", "[noise]") {
  Transports t = sotto_transports(Pattern::kIK);
  auto genuine = t.initiator.encrypt(label_bytes("genuine"));
  REQUIRE(genuine.ok());
  for (std::uint32_t i = 0; i < kMaxAuthFailures; ++i) {
    CHECK_FALSE(t.responder.is_closed());
    CHECK(t.responder.decrypt(Bytes(40)).error() == ProtocolError::kDecryptFailed);
  }
  CHECK(t.responder.is_closed());
  CHECK(t.responder.decrypt(*genuine).error() == ProtocolError::kOutOfOrder);
  CHECK(t.responder.encrypt(label_bytes("x")).error() == ProtocolError::kOutOfOrder);
}

TEST_CASE("the rekey policy keeps both sides in sync and really changes the keys", "[noise]") {
  // A small interval so the test crosses several rekeys in each direction.
  constexpr std::uint64_t kInterval = 3;
  Transports t = sotto_transports(Pattern::kIK, kInterval);
  for (int i = 0; i < 20; ++i) {
    const Bytes m = text("m" + std::to_string(i));
    auto c = t.initiator.encrypt(m);
    REQUIRE(c.ok());
    auto p = t.responder.decrypt(*c);
    REQUIRE(p.ok());
    CHECK(crypto::ct_equal(p->view(), m));
    auto c2 = t.responder.encrypt(m);
    REQUIRE(c2.ok());
    auto p2 = t.initiator.decrypt(*c2);
    REQUIRE(p2.ok());
    CHECK(crypto::ct_equal(p2->view(), m));
  }
  // A failed message across a rekey boundary does not trigger the rekey.
  Transports u = sotto_transports(Pattern::kIK, kInterval);
  std::vector<Bytes> sent;
  for (int i = 0; i < 4; ++i) sent.push_back(*u.initiator.encrypt(text("x")));
  for (int i = 0; i < 2; ++i) REQUIRE(u.responder.decrypt(sent[static_cast<std::size_t>(i)]).ok());
  CHECK(u.responder.decrypt(sent[3]).error() == ProtocolError::kDecryptFailed);
  CHECK(u.responder.decrypt(sent[2]).ok());  // nonce 2, then the rekey
  CHECK(u.responder.decrypt(sent[3]).ok());  // nonce 3 under the new key

  // A receiver that does not rekey loses the stream exactly at message kInterval.
  SeededRng irng(1), rrng(2);
  StaticKeys keys = static_keys();
  HandshakeConfig ic = sotto_config(Role::kInitiator, Pattern::kIK, keys);
  HandshakeConfig rc = sotto_config(Role::kResponder, Pattern::kIK, keys);
  ic.rekey_interval = kInterval;
  rc.rekey_interval = 0;
  Handshakes hs{NoiseHandshake::create(std::move(ic), irng).value(),
                NoiseHandshake::create(std::move(rc), rrng).value()};
  Transports v = complete(hs);
  for (std::uint64_t i = 0; i < kInterval; ++i) {
    REQUIRE(v.responder.decrypt(*v.initiator.encrypt(text("y"))).ok());
  }
  CHECK(v.responder.decrypt(*v.initiator.encrypt(text("y"))).error() ==
        ProtocolError::kDecryptFailed);
}

TEST_CASE("the first frame names the handshake, the relay's first-frame limit fits IK", "[noise]") {
  CHECK(kMaxHandshakeMessage == 2144);
  CHECK(kMaxFirstFrameBody == 2145);
  StaticKeys keys = static_keys();
  SeededRng rng(91);
  auto init = sotto_ik_initiator(X25519KeyPair{keys.device.secret.clone(), keys.device.public_key},
                                 keys.relay.public_key, rng);
  REQUIRE(init.ok());
  auto m1 = init->write_message(Bytes(kMaxHandshakePayload));
  REQUIRE(m1.ok());
  CHECK(m1->size() == kMaxHandshakeMessage);
  const Bytes body = first_frame_body(HandshakeType::kIK, *m1);
  CHECK(body.size() == kMaxFirstFrameBody);
  CHECK(body[0] == 0x01);
  auto parsed = parse_first_frame_body(body);
  REQUIRE(parsed.ok());
  CHECK(parsed->pattern == Pattern::kIK);
  CHECK(Bytes(parsed->message.begin(), parsed->message.end()) == *m1);
  auto resp = sotto_responder(parsed->pattern,
                              X25519KeyPair{keys.relay.secret.clone(), keys.relay.public_key}, rng);
  REQUIRE(resp.ok());
  CHECK(resp->read_message(parsed->message).ok());

  CHECK(parse_first_frame_body(Bytes{0x02, 0xAA})->pattern == Pattern::kNK);
  CHECK(parse_first_frame_body(Bytes{}).error() == DecodeError::kTruncated);
  CHECK(parse_first_frame_body(Bytes{0x03, 0xAA}).error() == DecodeError::kBadVersion);
  CHECK(parse_first_frame_body(Bytes{0x00}).error() == DecodeError::kBadVersion);
  CHECK(parse_first_frame_body(Bytes(kMaxFirstFrameBody + 1, 0x01)).error() ==
        DecodeError::kTooLarge);

  // A flipped type byte makes the relay run the other pattern: the handshake fails.
  SeededRng rng2(92);
  auto nk = sotto_nk_initiator(keys.relay.public_key, rng2);
  REQUIRE(nk.ok());
  auto n1 = nk->write_message({});
  REQUIRE(n1.ok());
  Bytes flipped = first_frame_body(HandshakeType::kIK, *n1);
  auto p2 = parse_first_frame_body(flipped);
  REQUIRE(p2.ok());
  auto wrong = sotto_responder(
      p2->pattern, X25519KeyPair{keys.relay.secret.clone(), keys.relay.public_key}, rng2);
  REQUIRE(wrong.ok());
  CHECK(wrong->read_message(p2->message).error() == ProtocolError::kHandshakeFailed);
}
