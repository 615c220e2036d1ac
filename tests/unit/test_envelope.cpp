// test_envelope.cpp — sealed-sender envelopes: round trips across the padding
// buckets, lengths that depend only on the bucket, rejection of every bit
// flip and truncation, wrong recipients, forged senders, unlinkability of two
// seals, size limits, and the committed vectors re-derived from their inputs.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/envelope.hpp"

using namespace sotto;

namespace {

struct Parties {
  Ed25519KeyPair alice;
  Ed25519KeyPair bob;
  Ed25519KeyPair mallory;
};

Parties make_parties(std::uint64_t seed) {
  SeededRng rng(seed);
  return Parties{crypto::ed25519_generate(rng), crypto::ed25519_generate(rng),
                 crypto::ed25519_generate(rng)};
}

Bytes payload_of(std::size_t n, std::uint8_t salt = 0) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt);
  return b;
}

bool rejected_as(const Result<OpenedEnvelope, ProtocolError>& r,
                 std::initializer_list<ProtocolError> allowed) {
  if (r.ok()) return false;
  for (auto e : allowed) {
    if (r.error() == e) return true;
  }
  return false;
}

Bytes hex(const nlohmann::json& j) {
  auto b = from_hex(j.get<std::string>());
  REQUIRE(b.has_value());
  return *b;
}

}  // namespace

TEST_CASE("envelope sizes: 97 bytes plus a padding bucket", "[envelope]") {
  CHECK(kEnvelopeOverheadBytes == 97);
  CHECK(kMaxPayloadBytes == 32766);
  CHECK(envelope_size(0) == 353u);
  CHECK(envelope_size(254) == 353u);  // type + 254 + marker = 256
  CHECK(envelope_size(255) == 609u);
  CHECK(envelope_size(kMaxPayloadBytes) == kMaxEnvelopeBytes);
  CHECK(kMaxEnvelopeBytes == 32865);
  CHECK_FALSE(envelope_size(kMaxPayloadBytes + 1).has_value());
  CHECK(is_envelope_size(353));
  CHECK(is_envelope_size(97 + 4096));
  CHECK_FALSE(is_envelope_size(354));
  CHECK_FALSE(is_envelope_size(97 + 128));
  CHECK_FALSE(is_envelope_size(97 + 131072));
}

TEST_CASE("seal then open returns the sender, type and payload for many sizes", "[envelope]") {
  const Parties p = make_parties(1);
  SeededRng rng(100);
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{253}, std::size_t{254},
        std::size_t{255}, std::size_t{510}, std::size_t{511}, std::size_t{1022}, std::size_t{1023},
        std::size_t{4000}, std::size_t{16382}, std::size_t{16383}, kMaxPayloadBytes}) {
    for (std::uint8_t type : {kPayloadPreKeyMessage, kPayloadRatchetMessage}) {
      INFO("size " << n << " type " << int(type));
      const Bytes payload = payload_of(n, type);
      auto sealed = seal_envelope(p.alice, p.bob.public_key, type, payload, rng);
      REQUIRE(sealed.ok());
      CHECK(sealed->size() == *envelope_size(n));
      CHECK((*sealed)[0] == kEnvelopeVersion);
      auto opened = open_envelope(p.bob, *sealed);
      REQUIRE(opened.ok());
      CHECK(opened->sender == p.alice.public_key);
      CHECK(opened->type == type);
      CHECK(opened->payload == payload);
    }
  }
}

TEST_CASE("the envelope length depends only on the padding bucket", "[envelope]") {
  const Parties p = make_parties(2);
  SeededRng rng(200);
  std::set<std::size_t> lengths_in_first_bucket;
  for (std::size_t n = 0; n <= 254; n += 23) {
    auto a = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(n), rng);
    auto b =
        seal_envelope(p.mallory, p.alice.public_key, kPayloadPreKeyMessage, payload_of(n), rng);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    lengths_in_first_bucket.insert(a->size());
    lengths_in_first_bucket.insert(b->size());
  }
  CHECK(lengths_in_first_bucket == std::set<std::size_t>{353});
  // Each payload length maps to 97 + its bucket, whoever seals to whomever.
  for (std::size_t n : {std::size_t{255}, std::size_t{600}, std::size_t{2000}}) {
    auto a = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(n), rng);
    REQUIRE(a.ok());
    CHECK(a->size() == kEnvelopeOverheadBytes + *padded_size(n + 1));
  }
}

TEST_CASE("every single-bit flip of an envelope is rejected", "[envelope]") {
  const Parties p = make_parties(3);
  SeededRng rng(300);
  auto sealed =
      seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(42), rng);
  REQUIRE(sealed.ok());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes t = *sealed;
      t[i] = static_cast<std::uint8_t>(t[i] ^ (1u << bit));
      auto r = open_envelope(p.bob, t);
      INFO("byte " << i << " bit " << bit);
      REQUIRE(rejected_as(r, {ProtocolError::kDecryptFailed, ProtocolError::kMalformed,
                              ProtocolError::kLowOrderKey}));
    }
  }
}

TEST_CASE("only the recipient can open an envelope", "[envelope]") {
  const Parties p = make_parties(4);
  SeededRng rng(400);
  auto sealed =
      seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(10), rng);
  REQUIRE(sealed.ok());
  CHECK(rejected_as(open_envelope(p.mallory, *sealed), {ProtocolError::kDecryptFailed}));
  CHECK(rejected_as(open_envelope(p.alice, *sealed), {ProtocolError::kDecryptFailed}));
  CHECK(open_envelope(p.bob, *sealed).ok());
}

TEST_CASE("a forged sender claim fails to open", "[envelope]") {
  // Mallory builds an envelope to Bob whose sealed-sender layer names Alice:
  // she can do the ephemeral layer (it needs only Bob's public key) but not
  // DH(x(IK_Alice), x(IK_Bob)), so she uses her own static key instead.
  using namespace envelope_detail;
  const Parties p = make_parties(5);
  SeededRng rng(500);
  const X25519KeyPair e = crypto::x25519_generate(rng);
  const X25519PublicKey bob_x = *crypto::ed25519_public_to_x25519(p.bob.public_key);

  Bytes env{kEnvelopeVersion};
  append(env, e.public_key.view());
  auto dh1 = crypto::x25519(e.secret, bob_x);
  REQUIRE(dh1.ok());
  auto l1 = derive_ephemeral_layer(*dh1, e.public_key, p.bob.public_key);
  REQUIRE(l1.ok());
  append(env, crypto::aead_chacha20poly1305_seal(l1->key.view(), l1->nonce, env,
                                                 p.alice.public_key.view()));
  // Static layer keyed with Mallory's DH but claiming Alice in the KDF info.
  auto dh2 = crypto::x25519(crypto::ed25519_secret_to_x25519(p.mallory.secret), bob_x);
  REQUIRE(dh2.ok());
  auto l2 =
      derive_static_layer(l1->chain, *dh2, e.public_key, p.bob.public_key, p.alice.public_key);
  REQUIRE(l2.ok());
  Bytes content{kPayloadRatchetMessage, 1, 2, 3};
  auto padded = pad(content);
  REQUIRE(padded.ok());
  append(env, crypto::aead_chacha20poly1305_seal(l2->key.view(), l2->nonce, env, padded->view()));
  REQUIRE(env.size() == *envelope_size(3));
  CHECK(rejected_as(open_envelope(p.bob, env), {ProtocolError::kDecryptFailed}));

  // The same construction with Mallory named honestly opens, as Mallory.
  Bytes honest{kEnvelopeVersion};
  append(honest, e.public_key.view());
  append(honest, crypto::aead_chacha20poly1305_seal(l1->key.view(), l1->nonce, honest,
                                                    p.mallory.public_key.view()));
  auto l2m =
      derive_static_layer(l1->chain, *dh2, e.public_key, p.bob.public_key, p.mallory.public_key);
  REQUIRE(l2m.ok());
  append(honest,
         crypto::aead_chacha20poly1305_seal(l2m->key.view(), l2m->nonce, honest, padded->view()));
  auto opened = open_envelope(p.bob, honest);
  REQUIRE(opened.ok());
  CHECK(opened->sender == p.mallory.public_key);

  // Swapping Alice's sealed-sender layer into Mallory's envelope also fails.
  Bytes spliced = honest;
  std::copy(env.begin() + 33, env.begin() + 81, spliced.begin() + 33);
  CHECK(rejected_as(open_envelope(p.bob, spliced), {ProtocolError::kDecryptFailed}));
}

TEST_CASE("two seals of the same payload are unlinkable", "[envelope]") {
  const Parties p = make_parties(6);
  SeededRng rng(600);
  const Bytes payload = payload_of(77);
  auto a = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload, rng);
  auto b = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload, rng);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == b->size());
  CHECK(*a != *b);
  // Nothing but the version byte is shared position by position beyond chance
  // (1/256 per byte): fresh e, so fresh keys for both layers.
  std::size_t same = 0;
  for (std::size_t i = 1; i < a->size(); ++i) same += ((*a)[i] == (*b)[i]) ? 1 : 0;
  CHECK(same < 10);
  // Neither identity key appears in the clear.
  auto contains = [](const Bytes& hay, ByteView needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
  };
  CHECK_FALSE(contains(*a, p.alice.public_key.view()));
  CHECK_FALSE(contains(*a, p.bob.public_key.view()));
  CHECK_FALSE(contains(*a, crypto::ed25519_public_to_x25519(p.bob.public_key)->view()));
}

TEST_CASE("truncated and extended envelopes are rejected", "[envelope]") {
  const Parties p = make_parties(7);
  SeededRng rng(700);
  auto sealed =
      seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(300), rng);
  REQUIRE(sealed.ok());
  for (std::size_t n = 0; n < sealed->size(); ++n) {
    INFO(n);
    const ByteView t(sealed->data(), n);
    REQUIRE(rejected_as(open_envelope(p.bob, t),
                        {ProtocolError::kMalformed, ProtocolError::kDecryptFailed}));
  }
  Bytes longer = *sealed;
  longer.push_back(0);
  CHECK(rejected_as(open_envelope(p.bob, longer), {ProtocolError::kMalformed}));
  // A bucket-sized truncation (609 -> 353) passes the size check, then fails authentication.
  CHECK(rejected_as(open_envelope(p.bob, ByteView(sealed->data(), 353)),
                    {ProtocolError::kDecryptFailed}));
}

TEST_CASE("size limits and payload types are enforced", "[envelope]") {
  const Parties p = make_parties(8);
  SeededRng rng(800);
  const Bytes too_big(kMaxPayloadBytes + 1, 0x55);
  auto r = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, too_big, rng);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kTooLarge);

  const Bytes huge(kMaxEnvelopeBytes + 1, 0);
  CHECK(rejected_as(open_envelope(p.bob, huge), {ProtocolError::kTooLarge}));

  for (std::uint8_t type : {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{255}}) {
    auto t = seal_envelope(p.alice, p.bob.public_key, type, payload_of(5), rng);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error() == ProtocolError::kMalformed);
  }

  auto ok = seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(5), rng);
  REQUIRE(ok.ok());
  Bytes v2 = *ok;
  v2[0] = 0x02;
  CHECK(rejected_as(open_envelope(p.bob, v2), {ProtocolError::kMalformed}));
}

TEST_CASE("sealing to an unusable recipient key fails cleanly", "[envelope]") {
  const Parties p = make_parties(9);
  SeededRng rng(900);
  auto identity_point = Ed25519PublicKey::from(
      *from_hex("0100000000000000000000000000000000000000000000000000000000000000"));
  REQUIRE(identity_point.has_value());
  auto r = seal_envelope(p.alice, *identity_point, kPayloadRatchetMessage, payload_of(5), rng);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kMalformed);
}

TEST_CASE("an envelope whose e_pub is a low-order point is rejected", "[envelope]") {
  const Parties p = make_parties(10);
  SeededRng rng(1000);
  auto sealed =
      seal_envelope(p.alice, p.bob.public_key, kPayloadRatchetMessage, payload_of(5), rng);
  REQUIRE(sealed.ok());
  Bytes t = *sealed;
  std::fill(t.begin() + 1, t.begin() + 33, 0);  // u = 0: a point of order 2
  CHECK(rejected_as(open_envelope(p.bob, t), {ProtocolError::kLowOrderKey}));
}

TEST_CASE("committed vectors: tests/vectors/envelope.json", "[envelope][vectors]") {
  using namespace envelope_detail;
  std::ifstream in(SOTTO_SOURCE_DIR "/tests/vectors/envelope.json");
  REQUIRE(in.good());
  const auto doc = nlohmann::json::parse(in);
  REQUIRE(doc.contains("description"));
  REQUIRE(doc.at("cases").size() >= 3);

  for (const auto& c : doc.at("cases")) {
    INFO(c.at("name").get<std::string>());
    const auto sender = crypto::ed25519_from_seed(Ed25519Seed::copy_of(hex(c.at("sender_seed"))));
    const auto recipient =
        crypto::ed25519_from_seed(Ed25519Seed::copy_of(hex(c.at("recipient_seed"))));
    CHECK(to_hex(sender.public_key.view()) == c.at("sender_public").get<std::string>());
    CHECK(to_hex(recipient.public_key.view()) == c.at("recipient_public").get<std::string>());
    const auto e =
        crypto::x25519_from_secret(X25519SecretKey::copy_of(hex(c.at("ephemeral_secret"))));
    CHECK(to_hex(e.public_key.view()) == c.at("ephemeral_public").get<std::string>());
    const auto type = c.at("type").get<std::uint8_t>();
    const Bytes payload = hex(c.at("payload"));

    // Intermediate keys, recomputed from the private inputs.
    const auto rx = *crypto::ed25519_public_to_x25519(recipient.public_key);
    const auto dh1 = crypto::x25519(e.secret, rx);
    REQUIRE(dh1.ok());
    CHECK(to_hex(dh1->view()) == c.at("dh_ephemeral").get<std::string>());
    const auto l1 = derive_ephemeral_layer(*dh1, e.public_key, recipient.public_key);
    REQUIRE(l1.ok());
    CHECK(to_hex(l1->chain.view()) == c.at("chain_key").get<std::string>());
    CHECK(to_hex(l1->key.view()) == c.at("key1").get<std::string>());
    CHECK(to_hex(l1->nonce) == c.at("nonce1").get<std::string>());
    const auto dh2 = crypto::x25519(crypto::ed25519_secret_to_x25519(sender.secret), rx);
    REQUIRE(dh2.ok());
    CHECK(to_hex(dh2->view()) == c.at("dh_static").get<std::string>());
    const auto l2 =
        derive_static_layer(l1->chain, *dh2, e.public_key, recipient.public_key, sender.public_key);
    REQUIRE(l2.ok());
    CHECK(to_hex(l2->key.view()) == c.at("key2").get<std::string>());
    CHECK(to_hex(l2->nonce) == c.at("nonce2").get<std::string>());

    // The sealed bytes, and what the recipient gets back from them.
    auto sealed = seal_with_ephemeral(sender, recipient.public_key, type, payload, e);
    REQUIRE(sealed.ok());
    CHECK(to_hex(*sealed) == c.at("envelope").get<std::string>());
    CHECK(sealed->size() == c.at("envelope_length").get<std::size_t>());
    CHECK(*padded_size(1 + payload.size()) == c.at("padded_length").get<std::size_t>());
    auto opened = open_envelope(recipient, hex(c.at("envelope")));
    REQUIRE(opened.ok());
    CHECK(opened->sender == sender.public_key);
    CHECK(opened->type == type);
    CHECK(opened->payload == payload);
  }
}
