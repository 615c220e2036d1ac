// test_ratchet.cpp — the Double Ratchet: KDF wiring, header layout, round
// trips, out-of-order delivery, skip limit and eviction, replay rejection,
// tamper rejection without state change, and exact save/restore.
// The stored-state schema and the committed vectors are tested in
// test_ratchet_store.cpp and test_ratchet_vectors.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <vector>

#include "common/crypto.hpp"
#include "common/identity.hpp"
#include "common/ratchet.hpp"
#include "support/ratchet_helpers.hpp"

using namespace sotto;
using namespace sotto::ratchet;
using namespace sotto::ratchet::testing;

TEST_CASE("key kinds of the ratchet are distinct types", "[ratchet]") {
  STATIC_REQUIRE_FALSE(std::is_convertible_v<SendingChainKey, ReceivingChainKey>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<ReceivingChainKey, SendingChainKey>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<SendingChainKey, ReceivingChainKey>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<MessageKey, RootKey>);
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<State>);
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<SkippedKeys>);
}

TEST_CASE("KDF_RK and KDF_CK are the pinned HKDF and HMAC computations", "[ratchet][kdf]") {
  SeededRng rng(1);
  RootKey rk;
  rng.fill(rk.mutable_view());
  SharedSecret dh_out;
  rng.fill(dh_out.mutable_view());

  // KDF_RK: HKDF-SHA-256(salt = rk, IKM = dh_out, info = "Sotto/v1/Ratchet/Root", 64).
  auto okm =
      crypto::hkdf_sha256(rk.view(), dh_out.view(), label_bytes("Sotto/v1/Ratchet/Root"), 64);
  REQUIRE(okm.ok());
  auto [rk2, ck] = kdf_rk<SendingChainKey>(rk, dh_out);
  CHECK(crypto::ct_equal(rk2.view(), okm->view().first(32)));
  CHECK(crypto::ct_equal(ck.view(), okm->view().subspan(32, 32)));
  auto [rk3, ckr] = kdf_rk<ReceivingChainKey>(rk, dh_out);
  CHECK(rk3.equals(rk2));
  CHECK(crypto::ct_equal(ckr.view(), ck.view()));

  // KDF_CK: MK = HMAC(ck, 0x01), next = HMAC(ck, 0x02).
  const std::uint8_t one[1] = {0x01};
  const std::uint8_t two[1] = {0x02};
  std::array<std::uint8_t, 32> want_mk{};
  std::array<std::uint8_t, 32> want_next{};
  crypto::hmac_sha256(ck.view(), one, want_mk);
  crypto::hmac_sha256(ck.view(), two, want_next);
  SendingChainKey chain = ck.clone();
  MessageKey mk = kdf_ck(chain);
  CHECK(crypto::ct_equal(mk.view(), want_mk));
  CHECK(crypto::ct_equal(chain.view(), want_next));
  CHECK_FALSE(crypto::ct_equal(mk.view(), chain.view()));

  // Message AEAD key and nonce: HKDF(0^32, MK, "Sotto/v1/Ratchet/Message", 44).
  const std::array<std::uint8_t, 32> zero{};
  auto msg_okm = crypto::hkdf_sha256(zero, mk.view(), label_bytes("Sotto/v1/Ratchet/Message"), 44);
  REQUIRE(msg_okm.ok());
  MessageCipherKeys keys = message_cipher_keys(mk);
  CHECK(crypto::ct_equal(keys.key.view(), msg_okm->view().first(32)));
  CHECK(crypto::ct_equal(keys.nonce.view(), msg_okm->view().subspan(32, 12)));
}

TEST_CASE("header layout: version, ratchet key, PN and N big-endian", "[ratchet][header]") {
  Header h;
  for (std::size_t i = 0; i < 32; ++i) h.ratchet_key.bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
  h.previous_count = 0x01020304;
  h.counter = 0x0A0B0C0D;
  const auto b = encode_header(h);
  REQUIRE(b.size() == 41);
  CHECK(b[0] == 0x01);
  CHECK(b[1] == 0xA0);
  CHECK(b[32] == 0xBF);
  CHECK(to_hex(ByteView(b).subspan(33)) == "010203040a0b0c0d");

  Bytes msg(b.begin(), b.end());
  msg.resize(kMinMessageBytes, 0);
  auto parsed = parse_message(msg);
  REQUIRE(parsed.ok());
  CHECK(parsed->header.ratchet_key == h.ratchet_key);
  CHECK(parsed->header.previous_count == h.previous_count);
  CHECK(parsed->header.counter == h.counter);
  CHECK(parsed->ciphertext.size() == 16);

  Bytes too_short(msg.begin(), msg.end() - 1);
  CHECK(parse_message(too_short).error() == ProtocolError::kMalformed);
  Bytes too_long(kMaxMessageBytes + 1, 0x01);
  CHECK(parse_message(too_long).error() == ProtocolError::kMalformed);
  Bytes bad_version = msg;
  bad_version[0] = 0x02;
  CHECK(parse_message(bad_version).error() == ProtocolError::kMalformed);
  Bytes bad_counter = msg;
  for (std::size_t i = 37; i < 41; ++i) bad_counter[i] = 0xFF;
  CHECK(parse_message(bad_counter).error() == ProtocolError::kMalformed);
}

TEST_CASE("round trips in both directions over many turns", "[ratchet]") {
  SeededRng rng(2);
  auto [alice, bob] = make_sessions(rng);
  CHECK_FALSE(bob.can_send());
  CHECK(encrypt(bob, text("too early")).error() == ProtocolError::kOutOfOrder);

  for (int turn = 0; turn < 50; ++turn) {
    const int burst = 1 + turn % 4;
    for (int i = 0; i < burst; ++i) {
      const std::string p = "alice " + std::to_string(turn) + "/" + std::to_string(i);
      Bytes m = send(alice, p);
      CHECK(m.size() == kHeaderBytes + p.size() + kTagBytes);
      receive(bob, m, p, rng);
    }
    const X25519PublicKey alice_key = alice.ratchet_public_key();
    for (int i = 0; i < burst; ++i) {
      const std::string p = "bob " + std::to_string(turn) + "/" + std::to_string(i);
      receive(alice, send(bob, p), p, rng);
    }
    // Each turn moves the DH ratchet: Alice took a new key on Bob's first reply.
    CHECK(alice.peer_ratchet_key() == bob.ratchet_public_key());
    CHECK(bob.peer_ratchet_key() == alice_key);
    CHECK_FALSE(alice.ratchet_public_key() == alice_key);
  }
  CHECK(alice.skipped_key_count() == 0);
  CHECK(bob.skipped_key_count() == 0);

  // Empty plaintexts are messages too.
  receive(bob, send(alice, ""), "", rng);
}

TEST_CASE("ratchet keys change at every turn and never repeat", "[ratchet]") {
  SeededRng rng(3);
  auto [alice, bob] = make_sessions(rng);
  std::vector<X25519PublicKey> seen{alice.ratchet_public_key(), bob.ratchet_public_key()};
  for (int turn = 0; turn < 10; ++turn) {
    receive(bob, send(alice, "a"), "a", rng);
    seen.push_back(bob.ratchet_public_key());
    receive(alice, send(bob, "b"), "b", rng);
    seen.push_back(alice.ratchet_public_key());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
}

TEST_CASE("out-of-order delivery within one chain", "[ratchet]") {
  SeededRng rng(4);
  auto [alice, bob] = make_sessions(rng);
  std::vector<Bytes> m;
  for (int i = 0; i < 6; ++i) m.push_back(send(alice, "m" + std::to_string(i)));
  receive(bob, m[4], "m4", rng);
  CHECK(bob.skipped_key_count() == 4);
  receive(bob, m[0], "m0", rng);
  receive(bob, m[2], "m2", rng);
  receive(bob, m[5], "m5", rng);
  receive(bob, m[1], "m1", rng);
  receive(bob, m[3], "m3", rng);
  CHECK(bob.skipped_key_count() == 0);
  CHECK(bob.receiving_counter() == 6);
}

TEST_CASE("out-of-order delivery across ratchet turns", "[ratchet]") {
  SeededRng rng(5);
  auto [alice, bob] = make_sessions(rng);
  Bytes a0 = send(alice, "a0");
  Bytes a1 = send(alice, "a1");
  Bytes a2 = send(alice, "a2");
  receive(bob, a1, "a1", rng);
  Bytes b0 = send(bob, "b0");
  Bytes b1 = send(bob, "b1");
  receive(alice, b1, "b1", rng);  // b0 skipped; Alice turns her ratchet
  Bytes a3 = send(alice, "a3");   // new chain, PN = 3
  CHECK(alice.previous_sending_counter() == 3);
  receive(bob, a3, "a3", rng);  // stores a0 and a2 of the old chain
  CHECK(bob.skipped_key_count() == 2);
  Bytes b2 = send(bob, "b2");
  receive(bob, a2, "a2", rng);
  receive(alice, b0, "b0", rng);
  receive(bob, a0, "a0", rng);
  receive(alice, b2, "b2", rng);
  CHECK(alice.skipped_key_count() == 0);
  CHECK(bob.skipped_key_count() == 0);
}

TEST_CASE("a header that would skip more than kMaxSkip keys is refused without change",
          "[ratchet][limits]") {
  SeededRng rng(6);
  auto [alice, bob] = make_sessions(rng);
  std::vector<Bytes> m;
  for (std::uint32_t i = 0; i <= kMaxSkip + 1; ++i) m.push_back(send(alice, std::to_string(i)));
  const SecretBytes before = bob.serialize();
  auto r = decrypt(bob, m[kMaxSkip + 1], rng);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kTooManySkipped);
  CHECK(bob.serialize().equals(before));
  // Exactly kMaxSkip skipped keys is allowed.
  receive(bob, m[kMaxSkip], std::to_string(kMaxSkip), rng);
  CHECK(bob.skipped_key_count() == kMaxSkip);
  receive(bob, m[kMaxSkip + 1], std::to_string(kMaxSkip + 1), rng);
  receive(bob, m[17], "17", rng);
  CHECK(bob.skipped_key_count() == kMaxSkip - 1);
}

TEST_CASE("the skip limit counts the rest of the previous chain plus N", "[ratchet][limits]") {
  SeededRng rng(7);
  auto [alice, bob] = make_sessions(rng);
  receive(bob, send(alice, "hi"), "hi", rng);
  receive(alice, send(bob, "ho"), "ho", rng);
  // Alice's next chain: 600 messages of which Bob reads only the first, then
  // Bob answers and Alice turns her ratchet (PN = 600).
  std::vector<Bytes> lost;
  for (int i = 0; i < 600; ++i) lost.push_back(send(alice, "lost"));
  receive(bob, lost[0], "lost", rng);
  receive(alice, send(bob, "turn"), "turn", rng);  // Alice turns: PN = 600
  std::vector<Bytes> next;
  for (int i = 0; i < 410; ++i) next.push_back(send(alice, "n" + std::to_string(i)));
  // Bob has Nr = 1 in the old chain: 599 + 402 = 1001 > kMaxSkip.
  const SecretBytes before = bob.serialize();
  auto r = decrypt(bob, next[402], rng);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kTooManySkipped);
  CHECK(bob.serialize().equals(before));
  // 599 + 401 = 1000 is accepted.
  receive(bob, next[401], "n401", rng);
  CHECK(bob.skipped_key_count() == 1000);
  receive(bob, lost[599], "lost", rng);
  receive(bob, next[0], "n0", rng);
}

TEST_CASE("the skipped-key store is capped, evicting the oldest keys first", "[ratchet][limits]") {
  SeededRng rng(8);
  auto [alice, bob] = make_sessions(rng);
  // Four of Alice's chains: in the first three Bob skips 1000 messages and
  // reads the next, in the fourth he skips 10. The store holds 1000, 2000,
  // 2000 (chain 0 evicted) and 2000 (10 more evicted from chain 1).
  const std::size_t want_stored[4] = {1000, 2000, 2000, 2000};
  std::vector<std::vector<Bytes>> chains;
  for (int c = 0; c < 4; ++c) {
    const std::uint32_t skip = c < 3 ? kMaxSkip : 10;
    std::vector<Bytes> chain;
    for (std::uint32_t i = 0; i <= skip; ++i)
      chain.push_back(send(alice, std::to_string(c) + ":" + std::to_string(i)));
    receive(bob, chain.back(), std::to_string(c) + ":" + std::to_string(skip), rng);
    receive(alice, send(bob, "turn"), "turn", rng);
    chains.push_back(std::move(chain));
    CHECK(bob.skipped_key_count() == want_stored[c]);
  }
  // Chain 0 was evicted entirely by chain 2; chain 1 lost its 10 oldest keys to chain 3.
  const SecretBytes before = bob.serialize();
  auto gone_chain = decrypt(bob, chains[0][5], rng);
  REQUIRE_FALSE(gone_chain.ok());
  CHECK(gone_chain.error() == ProtocolError::kDecryptFailed);
  auto gone_key = decrypt(bob, chains[1][9], rng);
  REQUIRE_FALSE(gone_key.ok());
  CHECK(gone_key.error() == ProtocolError::kDuplicateMessage);
  CHECK(bob.serialize().equals(before));
  receive(bob, chains[1][10], "1:10", rng);
  receive(bob, chains[2][0], "2:0", rng);
  receive(bob, chains[3][3], "3:3", rng);
  CHECK(bob.skipped_key_count() == kMaxStoredSkippedKeys - 3);
}

TEST_CASE("duplicates and replays are rejected without state change", "[ratchet][replay]") {
  SeededRng rng(9);
  auto [alice, bob] = make_sessions(rng);
  Bytes a0 = send(alice, "a0");
  Bytes a1 = send(alice, "a1");
  Bytes a2 = send(alice, "a2");
  receive(bob, a0, "a0", rng);
  receive(bob, a2, "a2", rng);  // a1 skipped

  auto expect = [&](const Bytes& m, ProtocolError e) {
    const SecretBytes before = bob.serialize();
    auto r = decrypt(bob, m, rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == e);
    CHECK(bob.serialize().equals(before));
  };
  // Current chain, N < Nr, not stored.
  expect(a0, ProtocolError::kDuplicateMessage);
  expect(a2, ProtocolError::kDuplicateMessage);
  // A skipped key is used once.
  receive(bob, a1, "a1", rng);
  expect(a1, ProtocolError::kDuplicateMessage);

  // Old chain with keys left in the store: kDuplicateMessage.
  Bytes a3 = send(alice, "a3");
  Bytes a4 = send(alice, "a4");
  receive(bob, a4, "a4", rng);  // a3 stored
  receive(alice, send(bob, "b0"), "b0", rng);
  receive(bob, send(alice, "a5"), "a5", rng);  // new chain
  expect(a4, ProtocolError::kDuplicateMessage);
  receive(bob, a3, "a3", rng);
  // Old chain with nothing left in the store: indistinguishable from a new
  // ratchet key that fails authentication.
  expect(a4, ProtocolError::kDecryptFailed);
  expect(a0, ProtocolError::kDecryptFailed);
}

TEST_CASE("every single-bit flip of a message is rejected and leaves the state unchanged",
          "[ratchet][tamper]") {
  SeededRng rng(10);
  auto [alice, bob] = make_sessions(rng);
  receive(bob, send(alice, "hello"), "hello", rng);
  Bytes skipped = send(alice, "skipped");
  Bytes same_chain = send(alice, "same chain message");
  receive(bob, send(alice, "later"), "later", rng);  // `skipped` and `same_chain` stored
  receive(alice, send(bob, "reply"), "reply", rng);
  Bytes new_ratchet = send(alice, "new ratchet key");

  struct Case {
    const Bytes* message;
    const char* plaintext;
  };
  for (const Case& c : {Case{&skipped, "skipped"}, Case{&same_chain, "same chain message"},
                        Case{&new_ratchet, "new ratchet key"}}) {
    const SecretBytes before = bob.serialize();
    std::size_t rejected = 0;
    for (std::size_t bit = 0; bit < c.message->size() * 8; ++bit) {
      Bytes t = *c.message;
      t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      auto r = decrypt(bob, t, rng);
      if (!r.ok()) ++rejected;
      if (bit < 8) CHECK((!r.ok() && r.error() == ProtocolError::kMalformed));
    }
    CHECK(rejected == c.message->size() * 8);
    CHECK(bob.serialize().equals(before));
    // The untampered message still decrypts afterwards.
    auto ok = decrypt(bob, *c.message, rng);
    REQUIRE(ok.ok());
    CHECK(ok->plaintext.equals(text(c.plaintext)));
  }
  // Truncations and extensions are rejected too.
  for (std::size_t len = 0; len < new_ratchet.size(); ++len) {
    CHECK_FALSE(decrypt(bob, ByteView(new_ratchet).first(len), rng).ok());
  }
  Bytes extended = new_ratchet;
  extended.push_back(0);
  CHECK_FALSE(decrypt(bob, extended, rng).ok());
}

TEST_CASE("a message for another session or with another AD does not decrypt", "[ratchet]") {
  SeededRng rng(11);
  auto [alice, bob] = make_sessions(rng);
  auto [carol, dave] = make_sessions(rng);
  Bytes m = send(alice, "for bob");
  auto wrong = decrypt(dave, m, rng);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error() == ProtocolError::kDecryptFailed);
  // Reflection: Alice's message back to Alice.
  CHECK_FALSE(decrypt(alice, m, rng).ok());
  receive(bob, m, "for bob", rng);
  (void)carol;
}

TEST_CASE("a low-order ratchet key in a header is refused", "[ratchet]") {
  SeededRng rng(12);
  auto [alice, bob] = make_sessions(rng);
  Bytes m = send(alice, "x");
  std::fill(m.begin() + 1, m.begin() + 33, 0);  // the identity point
  auto r = decrypt(bob, m, rng);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kLowOrderKey);

  X25519PublicKey zero{};
  Secret<struct TestSkTag2, 32> sk;
  auto init = State::init_initiator(sk.view(), {}, zero, rng);
  REQUIRE_FALSE(init.ok());
  CHECK(init.error() == ProtocolError::kLowOrderKey);
}

TEST_CASE("init refuses an over-long AD and a mismatched key pair", "[ratchet]") {
  SeededRng rng(13);
  Secret<struct TestSkTag3, 32> sk;
  Bytes long_ad(kMaxAssociatedDataBytes + 1, 7);
  X25519KeyPair kp = crypto::x25519_generate(rng);
  CHECK(State::init_initiator(sk.view(), long_ad, kp.public_key, rng).error() ==
        ProtocolError::kMalformed);
  X25519KeyPair other = crypto::x25519_generate(rng);
  X25519KeyPair mismatched{std::move(kp.secret), other.public_key};
  CHECK(State::init_responder(sk.view(), {}, std::move(mismatched)).error() ==
        ProtocolError::kMalformed);
  Bytes max_ad(kMaxAssociatedDataBytes, 7);
  CHECK(State::init_responder(sk.view(), max_ad, std::move(other)).ok());
}

TEST_CASE("oversized plaintexts are refused and the state is unchanged", "[ratchet]") {
  SeededRng rng(14);
  auto [alice, bob] = make_sessions(rng);
  const SecretBytes before = alice.serialize();
  SecretBytes big(kMaxPlaintextBytes + 1);
  CHECK(encrypt(alice, big).error() == ProtocolError::kMalformed);
  CHECK(alice.serialize().equals(before));
  SecretBytes max(kMaxPlaintextBytes);
  auto m = encrypt(alice, max);
  REQUIRE(m.ok());
  CHECK(m->size() == kMaxMessageBytes);
  auto r = decrypt(bob, *m, rng);
  REQUIRE(r.ok());
  CHECK(r->plaintext.equals(max));
}

TEST_CASE("a restored state continues the conversation identically", "[ratchet][store]") {
  SeededRng rng(15);
  auto [alice, bob] = make_sessions(rng);
  std::vector<Bytes> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(send(alice, "p" + std::to_string(i)));
  receive(bob, pending[4], "p4", rng);  // 4 skipped keys
  receive(alice, send(bob, "b"), "b", rng);
  Bytes a_next = send(alice, "next");

  auto bob2 = State::restore(bob.serialize());
  REQUIRE(bob2.ok());
  CHECK(same_state(bob, *bob2));
  CHECK(bob2->skipped_key_count() == 4);
  auto alice2 = State::restore(alice.serialize());
  REQUIRE(alice2.ok());
  CHECK(same_state(alice, *alice2));

  // Encryption is deterministic given the state: both copies write the same bytes.
  Bytes x1 = send(alice, "same");
  Bytes x2 = send(*alice2, "same");
  CHECK(x1 == x2);
  // Decryption from the restored state matches, including skipped keys.
  for (State* b : {&bob, &*bob2}) {
    SeededRng r(99);
    receive(*b, pending[1], "p1", r);
    receive(*b, a_next, "next", r);
    receive(*b, x1, "same", r);
  }
  CHECK(same_state(bob, *bob2));
  // A fresh responder (no chains yet) restores too.
  SeededRng rng2(16);
  auto fresh = make_sessions(rng2);
  auto fresh_bob = State::restore(fresh.bob.serialize());
  REQUIRE(fresh_bob.ok());
  CHECK_FALSE(fresh_bob->can_send());
  receive(*fresh_bob, send(fresh.alice, "first"), "first", rng2);
}

// ---- unknown key share and non-committing AEAD (docs/threat-model.md, "Attacks") ----

TEST_CASE("the AD binds both identities: the same SK with another identity pair does not decrypt",
          "[ratchet][uks]") {
  SeededRng rng(21);
  const IdentityKeyPair ik_a = generate_identity(rng);
  const IdentityKeyPair ik_b = generate_identity(rng);
  const IdentityKeyPair ik_c = generate_identity(rng);
  Secret<struct UksSkTag, 32> sk;
  rng.fill(sk.mutable_view());
  const X25519KeyPair bob_key = crypto::x25519_generate(rng);
  auto responder = [&](const Bytes& ad) {
    auto s =
        State::init_responder(sk.view(), ad, crypto::x25519_from_secret(bob_key.secret.clone()));
    REQUIRE(s.ok());
    return std::move(s).value();
  };
  // AD = Encode(IK_A) || Encode(IK_B) (20.7), prefixed to every message's AEAD AD (30.4).
  const Bytes ad_ab = concat(ik_a.public_key.view(), ik_b.public_key.view());
  auto alice = State::init_initiator(sk.view(), ad_ab, bob_key.public_key, rng);
  REQUIRE(alice.ok());
  const Bytes m = send(*alice, "to bob");
  // Same SK and ratchet keys, but the session is believed to be with Carol, or
  // reflected (the identities swapped): authentication fails, nothing changes.
  for (const Bytes& ad : {concat(ik_a.public_key.view(), ik_c.public_key.view()),
                          concat(ik_c.public_key.view(), ik_b.public_key.view()),
                          concat(ik_b.public_key.view(), ik_a.public_key.view())}) {
    const State wrong = responder(ad);
    const SecretBytes before = wrong.serialize();
    auto r = decrypt(wrong, m, rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == ProtocolError::kDecryptFailed);
    CHECK(wrong.serialize().equals(before));
  }
  State bob = responder(ad_ab);
  receive(bob, m, "to bob", rng);
}

TEST_CASE("one message, one key: a ciphertext opens only under the key its header selects",
          "[ratchet][salamander]") {
  // ChaCha20-Poly1305 is not key-committing: whoever picks two keys can make
  // one ciphertext that opens under both. Sotto relies on the receiver never
  // letting a ciphertext pick its key: the key is derived by the receiver from
  // its own state and the header, and the header is part of the AEAD's AD.
  SeededRng rng(22);
  auto [alice, bob] = make_sessions(rng);
  std::vector<Bytes> sent;
  for (int i = 0; i < 6; ++i) sent.push_back(send(alice, "m" + std::to_string(i)));
  // header_j || ciphertext_i: the receiver derives MK_j for it and refuses it
  // unless i == j; its state does not change.
  for (std::size_t i = 0; i < sent.size(); ++i) {
    for (std::size_t j = 0; j < sent.size(); ++j) {
      Bytes spliced(sent[j].begin(), sent[j].begin() + kHeaderBytes);
      spliced.insert(spliced.end(), sent[i].begin() + kHeaderBytes, sent[i].end());
      const SecretBytes before = bob.serialize();
      auto r = decrypt(bob, spliced, rng);
      INFO("header of m" << j << ", ciphertext of m" << i);
      CHECK(r.ok() == (i == j));
      if (r.ok()) CHECK(r->plaintext.equals(text("m" + std::to_string(i))));
      CHECK(bob.serialize().equals(before));
    }
  }
  // The AEAD layer on its own: a ciphertext sealed under message key i with the
  // same AD opens under no other key of the chain.
  SendingChainKey chain;
  rng.fill(chain.mutable_view());
  std::vector<MessageCipherKeys> keys;
  for (int i = 0; i < 8; ++i) keys.push_back(message_cipher_keys(kdf_ck(chain)));
  const Bytes ad = crypto::random_bytes(rng, 64 + kHeaderBytes);
  const Bytes ct = crypto::aead_chacha20poly1305_seal(keys[3].key.view(), keys[3].nonce.view(), ad,
                                                      label_bytes("one plaintext"));
  for (std::size_t k = 0; k < keys.size(); ++k) {
    for (std::size_t n = 0; n < keys.size(); ++n) {
      auto opened =
          crypto::aead_chacha20poly1305_open(keys[k].key.view(), keys[n].nonce.view(), ad, ct);
      CHECK(opened.ok() == (k == 3 && n == 3));
    }
  }
}
