// test_session.cpp — X3DH + Double Ratchet + envelope together: first contact
// with and without a one-time prekey, replies, and the checks that tie the
// envelope's sender to the X3DH header.
#include <catch2/catch.hpp>

#include "common/session.hpp"

using namespace sotto;

namespace {

constexpr std::uint64_t kNow = 1'750'000'000;

struct Device {
  IdentityKeyPair ik;
  SignedPreKeyPair spk;
  OneTimePreKeyPair opk;
};

Device make_device(Rng& rng, PreKeyId spk_id, PreKeyId opk_id) {
  IdentityKeyPair ik = generate_identity(rng);
  SignedPreKeyPair spk = generate_signed_prekey(ik, spk_id, kNow, rng);
  OneTimePreKeyPair opk = generate_one_time_prekey(opk_id, rng);
  return {std::move(ik), std::move(spk), std::move(opk)};
}

VerifiedBundle bundle_of(const Device& d, bool with_opk) {
  PreKeyBundle b{d.ik.public_key, d.spk.public_key, std::nullopt};
  if (with_opk) b.one_time_prekey = d.opk.public_key;
  auto v = verify_bundle(b, kNow + 60);
  REQUIRE(v.ok());
  return std::move(v).value();
}

std::string text_of(const SecretBytes& s) {  // test plaintexts only
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("first contact, reply and further messages through envelopes", "[session]") {
  const bool with_opk = GENERATE(true, false);
  SeededRng rng(7);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 9, 200);

  auto init = initiate_session(alice.ik, bundle_of(bob, with_opk), rng);
  REQUIRE(init.ok());
  ratchet::State a_state = std::move(init->state);
  CHECK(init->header.one_time_prekey_id.has_value() == with_opk);

  auto env = seal_message(alice.ik, bob.ik.public_key, a_state, init->header,
                          label_bytes("hello bob"), rng);
  REQUIRE(env.ok());
  CHECK(is_envelope_size(env->size()));

  auto in = open_message(bob.ik, *env);
  REQUIRE(in.ok());
  CHECK(in->sender == alice.ik.public_key);
  REQUIRE(in->header.has_value());
  CHECK(*in->header == init->header);

  auto first = accept_prekey_message(bob.ik, bob.spk, with_opk ? &bob.opk : nullptr, *in->header,
                                     in->ratchet_message, rng);
  REQUIRE(first.ok());
  CHECK(text_of(first->plaintext) == "hello bob");
  ratchet::State b_state = std::move(first->next);

  // Bob replies with a plain ratchet message; Alice stops sending the header.
  auto reply = seal_message(bob.ik, alice.ik.public_key, b_state, std::nullopt,
                            label_bytes("hi alice"), rng);
  REQUIRE(reply.ok());
  auto r_in = open_message(alice.ik, *reply);
  REQUIRE(r_in.ok());
  CHECK_FALSE(r_in->header.has_value());
  CHECK(r_in->sender == bob.ik.public_key);
  auto r_dec = ratchet::decrypt(a_state, r_in->ratchet_message, rng);
  REQUIRE(r_dec.ok());
  CHECK(text_of(r_dec->plaintext) == "hi alice");
  a_state = std::move(r_dec->next);

  for (int i = 0; i < 5; ++i) {
    const std::string msg = "message " + std::to_string(i);
    auto e = seal_message(alice.ik, bob.ik.public_key, a_state, std::nullopt, label_bytes(msg), rng);
    REQUIRE(e.ok());
    auto o = open_message(bob.ik, *e);
    REQUIRE(o.ok());
    auto d = ratchet::decrypt(b_state, o->ratchet_message, rng);
    REQUIRE(d.ok());
    CHECK(text_of(d->plaintext) == msg);
    b_state = std::move(d->next);
  }
}

TEST_CASE("every message before the first reply carries the header and can start the session",
          "[session]") {
  SeededRng rng(8);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  auto init = initiate_session(alice.ik, bundle_of(bob, true), rng);
  REQUIRE(init.ok());
  auto e1 = seal_message(alice.ik, bob.ik.public_key, init->state, init->header,
                         label_bytes("one"), rng);
  auto e2 = seal_message(alice.ik, bob.ik.public_key, init->state, init->header,
                         label_bytes("two"), rng);
  REQUIRE(e1.ok());
  REQUIRE(e2.ok());
  // The first message is lost; the second still starts the session.
  auto in = open_message(bob.ik, *e2);
  REQUIRE(in.ok());
  REQUIRE(in->header.has_value());
  auto dec = accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
  REQUIRE(dec.ok());
  CHECK(text_of(dec->plaintext) == "two");
  // ...and the first, arriving late, decrypts from the skipped keys.
  auto in1 = open_message(bob.ik, *e1);
  REQUIRE(in1.ok());
  auto dec1 = ratchet::decrypt(dec->next, in1->ratchet_message, rng);
  REQUIRE(dec1.ok());
  CHECK(text_of(dec1->plaintext) == "one");
}

TEST_CASE("a prekey message whose header names someone other than the sender is refused",
          "[session]") {
  SeededRng rng(9);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  Device mallory = make_device(rng, 3, 300);
  auto init = initiate_session(alice.ik, bundle_of(bob, false), rng);
  REQUIRE(init.ok());
  auto msg = ratchet::encrypt(init->state, label_bytes("forged"));
  REQUIRE(msg.ok());
  // Mallory seals Alice's X3DH header and ratchet message under her own identity.
  Bytes payload = encode_x3dh_header(init->header);
  append(payload, *msg);
  auto env = seal_envelope(mallory.ik, bob.ik.public_key, kPayloadPreKeyMessage, payload, rng);
  REQUIRE(env.ok());
  auto in = open_message(bob.ik, *env);
  REQUIRE_FALSE(in.ok());
  CHECK(in.error() == ProtocolError::kMalformed);
}

TEST_CASE("a prekey message with the wrong one-time prekey or signed prekey fails cleanly",
          "[session]") {
  SeededRng rng(10);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  Device other = make_device(rng, 2, 200);  // same ids, other keys
  auto init = initiate_session(alice.ik, bundle_of(bob, true), rng);
  REQUIRE(init.ok());
  auto env = seal_message(alice.ik, bob.ik.public_key, init->state, init->header,
                          label_bytes("x"), rng);
  REQUIRE(env.ok());
  auto in = open_message(bob.ik, *env);
  REQUIRE(in.ok());
  // Missing one-time prekey (already used): unknown prekey.
  auto no_opk = accept_prekey_message(bob.ik, bob.spk, nullptr, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(no_opk.ok());
  CHECK(no_opk.error() == ProtocolError::kUnknownPrekey);
  // Keys with the right ids but other values derive another SK: authentication fails.
  auto wrong = accept_prekey_message(bob.ik, bob.spk, &other.opk, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error() == ProtocolError::kDecryptFailed);
  // The right keys still work afterwards: nothing was consumed by the failures.
  auto right = accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
  REQUIRE(right.ok());
  CHECK(text_of(right->plaintext) == "x");
}

TEST_CASE("a truncated prekey payload is malformed, not a crash", "[session]") {
  SeededRng rng(11);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{69}, std::size_t{72}}) {
    Bytes payload(n, 0x01);
    auto env = seal_envelope(alice.ik, bob.ik.public_key, kPayloadPreKeyMessage, payload, rng);
    REQUIRE(env.ok());
    auto in = open_message(bob.ik, *env);
    CHECK_FALSE(in.ok());
  }
}
