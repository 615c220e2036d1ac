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
    auto e =
        seal_message(alice.ik, bob.ik.public_key, a_state, std::nullopt, label_bytes(msg), rng);
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
  auto e1 =
      seal_message(alice.ik, bob.ik.public_key, init->state, init->header, label_bytes("one"), rng);
  auto e2 =
      seal_message(alice.ik, bob.ik.public_key, init->state, init->header, label_bytes("two"), rng);
  REQUIRE(e1.ok());
  REQUIRE(e2.ok());
  // The first message is lost; the second still starts the session.
  auto in = open_message(bob.ik, *e2);
  REQUIRE(in.ok());
  REQUIRE(in->header.has_value());
  auto dec =
      accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
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
  auto env =
      seal_message(alice.ik, bob.ik.public_key, init->state, init->header, label_bytes("x"), rng);
  REQUIRE(env.ok());
  auto in = open_message(bob.ik, *env);
  REQUIRE(in.ok());
  // Missing one-time prekey (already used): unknown prekey.
  auto no_opk =
      accept_prekey_message(bob.ik, bob.spk, nullptr, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(no_opk.ok());
  CHECK(no_opk.error() == ProtocolError::kUnknownPrekey);
  // Keys with the right ids but other values derive another SK: authentication fails.
  auto wrong =
      accept_prekey_message(bob.ik, bob.spk, &other.opk, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error() == ProtocolError::kDecryptFailed);
  // The right keys still work afterwards: nothing was consumed by the failures.
  auto right =
      accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
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

// ---- unknown key share and key substitution (docs/threat-model.md, "Attacks") ----

namespace {
template <class R>
ProtocolError error_of(const R& r) {
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("unknown key share: what Alice sends Bob, passed on by Bob to Carol, Carol refuses",
          "[session][uks]") {
  SeededRng rng(12);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  Device carol = make_device(rng, 3, 300);

  // Bob and Carol have a session (Bob started it, Carol accepted it).
  auto bc = initiate_session(bob.ik, bundle_of(carol, true), rng);
  REQUIRE(bc.ok());
  ratchet::State b_to_c = std::move(bc->state);
  auto first_bc =
      seal_message(bob.ik, carol.ik.public_key, b_to_c, bc->header, label_bytes("hi carol"), rng);
  REQUIRE(first_bc.ok());
  auto in_bc = open_message(carol.ik, *first_bc);
  REQUIRE(in_bc.ok());
  auto accepted_bc = accept_prekey_message(carol.ik, carol.spk, &carol.opk, *in_bc->header,
                                           in_bc->ratchet_message, rng);
  REQUIRE(accepted_bc.ok());
  const ratchet::State c_from_b = std::move(accepted_bc->next);

  // Alice's first message to Bob.
  auto ab = initiate_session(alice.ik, bundle_of(bob, true), rng);
  REQUIRE(ab.ok());
  auto env = seal_message(alice.ik, bob.ik.public_key, ab->state, ab->header,
                          label_bytes("for bob only"), rng);
  REQUIRE(env.ok());
  auto in = open_message(bob.ik, *env);
  REQUIRE(in.ok());

  // 1. The envelope itself, forwarded: it is sealed to IK_Bob (40.4), Carol cannot open it.
  CHECK(error_of(open_message(carol.ik, *env)) == ProtocolError::kDecryptFailed);
  // 2. Bob re-seals Alice's prekey message as his own: the X3DH header names
  //    IK_Alice, the envelope's sender is IK_Bob (45.2 step 3).
  Bytes payload = encode_x3dh_header(*in->header);
  append(payload, in->ratchet_message);
  auto resealed = seal_envelope(bob.ik, carol.ik.public_key, kPayloadPreKeyMessage, payload, rng);
  REQUIRE(resealed.ok());
  CHECK(error_of(open_message(carol.ik, *resealed)) == ProtocolError::kMalformed);
  // 3. Bob re-seals only the ratchet message, as a message of his session with
  //    Carol: another SK and AD = IK_Bob || IK_Carol, so it does not decrypt,
  //    and Carol's session is unchanged.
  auto as_ratchet =
      seal_envelope(bob.ik, carol.ik.public_key, kPayloadRatchetMessage, in->ratchet_message, rng);
  REQUIRE(as_ratchet.ok());
  auto in_c = open_message(carol.ik, *as_ratchet);
  REQUIRE(in_c.ok());
  CHECK(in_c->sender == bob.ik.public_key);
  auto d = ratchet::decrypt(c_from_b, in_c->ratchet_message, rng);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error() == ProtocolError::kDecryptFailed);
  // 4. Even a Carol holding Bob's prekey secrets (same ids) cannot accept it as
  //    addressed to her: DH2 uses x(IK_Bob) and AD = IK_Alice || IK_Bob.
  auto stolen =
      accept_prekey_message(carol.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(stolen.ok());
  CHECK(stolen.error() == ProtocolError::kDecryptFailed);
  // Bob himself still accepts it.
  auto ok = accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
  REQUIRE(ok.ok());
  CHECK(text_of(ok->plaintext) == "for bob only");
}

TEST_CASE("key substitution: a relay that hands out another account's bundle gains nothing",
          "[session][key_substitution]") {
  // The client refuses a bundle whose identity is not the account it asked for
  // (client/messenger_send.cpp); this is what would happen without that check:
  // Carol's genuine, validly signed bundle passed off as Bob's. Alice's message
  // is sealed to IK_Bob but its X3DH runs against Carol's keys, so neither can read it.
  SeededRng rng(13);
  Device alice = make_device(rng, 1, 100);
  Device bob = make_device(rng, 2, 200);
  Device carol = make_device(rng, 2, 200);  // same prekey ids as Bob's
  auto init = initiate_session(alice.ik, bundle_of(carol, true), rng);
  REQUIRE(init.ok());
  auto env = seal_message(alice.ik, bob.ik.public_key, init->state, init->header,
                          label_bytes("meant for bob"), rng);
  REQUIRE(env.ok());
  // Carol cannot open an envelope sealed to Bob.
  CHECK(error_of(open_message(carol.ik, *env)) == ProtocolError::kDecryptFailed);
  // Bob opens it but the first message does not decrypt under his prekeys.
  auto in = open_message(bob.ik, *env);
  REQUIRE(in.ok());
  auto d = accept_prekey_message(bob.ik, bob.spk, &bob.opk, *in->header, in->ratchet_message, rng);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error() == ProtocolError::kDecryptFailed);
  // And a bundle whose signed prekey was re-signed by anyone but its identity does not verify.
  PreKeyBundle forged{bob.ik.public_key, carol.spk.public_key, std::nullopt};
  auto v = verify_bundle(forged, kNow + 60);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error() == ProtocolError::kBadSignature);
}
