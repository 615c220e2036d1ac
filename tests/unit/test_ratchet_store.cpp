// test_ratchet_store.cpp — the serialised ratchet state: conformance to
// sotto.store.RatchetSession (parsed with the generated class; this test may
// hold test keys in std::string), exact round trips, and kStateCorrupt for
// every kind of malformed input.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "common/crypto.hpp"
#include "common/ratchet.hpp"
#include "store.pb.h"
#include "support/ratchet_helpers.hpp"

using namespace sotto;
using namespace sotto::ratchet;
using namespace sotto::ratchet::testing;

namespace {

std::string str(ByteView v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

// Bob mid-conversation: every field set, a few skipped keys in two chains.
SessionPair busy_sessions(SeededRng& rng) {
  SessionPair p = make_sessions(rng);
  Bytes a0 = send(p.alice, "a0");
  receive(p.bob, send(p.alice, "a1"), "a1", rng);
  Bytes b0 = send(p.bob, "b0");
  receive(p.alice, send(p.bob, "b1"), "b1", rng);
  Bytes a2 = send(p.alice, "a2");
  Bytes a3 = send(p.alice, "a3");
  receive(p.bob, send(p.alice, "a4"), "a4", rng);
  (void)a0;
  (void)b0;
  (void)a2;
  (void)a3;
  return p;
}

// Serialises a modified copy of `state` through the generated class.
Bytes mutate(const State& state, const std::function<void(sotto::store::RatchetSession&)>& f) {
  sotto::store::RatchetSession msg;
  REQUIRE(msg.ParseFromString(as_string(state.serialize())));
  f(msg);
  std::string out;
  REQUIRE(msg.SerializeToString(&out));
  return Bytes(out.begin(), out.end());
}

void expect_corrupt_impl(ByteView bytes) {
  auto r = State::restore(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == ProtocolError::kStateCorrupt);
}

}  // namespace

// Names the failing line.
#define expect_corrupt(b)      \
  do {                         \
    INFO("line " << __LINE__); \
    expect_corrupt_impl(b);    \
  } while (0)

TEST_CASE("the serialised state conforms to sotto.store.RatchetSession", "[ratchet][store]") {
  SeededRng rng(20);
  SessionPair p = busy_sessions(rng);
  for (const State* s : {&p.alice, &p.bob}) {
    const SecretBytes bytes = s->serialize();
    sotto::store::RatchetSession msg;
    REQUIRE(msg.ParseFromString(as_string(bytes)));
    CHECK(msg.version() == 1);
    CHECK(msg.associated_data() == str(s->associated_data()));
    CHECK(msg.root_key().size() == 32);
    CHECK(msg.self_ratchet_private_key().size() == 32);
    CHECK(msg.self_ratchet_public_key() == str(s->ratchet_public_key().view()));
    REQUIRE(s->peer_ratchet_key().has_value());
    CHECK(msg.remote_ratchet_public_key() == str(s->peer_ratchet_key()->view()));
    CHECK(msg.sending_chain_key().size() == 32);
    CHECK(msg.receiving_chain_key().size() == 32);
    CHECK(msg.sending_counter() == s->sending_counter());
    CHECK(msg.receiving_counter() == s->receiving_counter());
    CHECK(msg.previous_sending_counter() == s->previous_sending_counter());
    CHECK(static_cast<std::size_t>(msg.skipped_keys_size()) == s->skipped_key_count());
    // The private key is the one behind the public key.
    auto priv = X25519SecretKey::copy_of(label_bytes(msg.self_ratchet_private_key()));
    CHECK(crypto::x25519_public_from(priv) == s->ratchet_public_key());
    // Canonical: the generated class writes exactly the same bytes.
    std::string again;
    REQUIRE(msg.SerializeToString(&again));
    CHECK(again == as_string(bytes));
  }
  // Bob's skipped keys, oldest first: a2 and a3 of Alice's second chain... and
  // a0 of her first, which came earlier.
  sotto::store::RatchetSession bob_msg;
  REQUIRE(bob_msg.ParseFromString(as_string(p.bob.serialize())));
  REQUIRE(bob_msg.skipped_keys_size() == 3);
  CHECK(bob_msg.skipped_keys(0).counter() == 0);
  CHECK(bob_msg.skipped_keys(1).counter() == 0);
  CHECK(bob_msg.skipped_keys(2).counter() == 1);
  CHECK(bob_msg.skipped_keys(1).ratchet_key() == bob_msg.remote_ratchet_public_key());
  CHECK(bob_msg.skipped_keys(0).ratchet_key() != bob_msg.remote_ratchet_public_key());
  for (const auto& k : bob_msg.skipped_keys()) CHECK(k.message_key().size() == 32);

  // A fresh responder: no remote key, no chains, zero counters (omitted).
  SeededRng rng2(21);
  SessionPair fresh = make_sessions(rng2);
  sotto::store::RatchetSession f;
  REQUIRE(f.ParseFromString(as_string(fresh.bob.serialize())));
  CHECK(f.remote_ratchet_public_key().empty());
  CHECK(f.sending_chain_key().empty());
  CHECK(f.receiving_chain_key().empty());
  CHECK(f.sending_counter() == 0);
}

TEST_CASE("serialise / restore round trips exactly", "[ratchet][store]") {
  SeededRng rng(22);
  SessionPair p = busy_sessions(rng);
  for (const State* s : {&p.alice, &p.bob}) {
    const SecretBytes bytes = s->serialize();
    auto restored = State::restore(bytes);
    REQUIRE(restored.ok());
    CHECK(restored->serialize().equals(bytes));
    CHECK(restored->skipped_key_count() == s->skipped_key_count());
    CHECK(restored->ratchet_public_key() == s->ratchet_public_key());
  }
  // Fields in another order are still accepted (protobuf allows any order).
  sotto::store::RatchetSession msg;
  REQUIRE(msg.ParseFromString(as_string(p.bob.serialize())));
  std::string reordered;
  {
    sotto::store::RatchetSession tail;
    tail.set_sending_counter(msg.sending_counter());
    tail.set_receiving_counter(msg.receiving_counter());
    tail.set_previous_sending_counter(msg.previous_sending_counter());
    sotto::store::RatchetSession head = msg;
    head.clear_sending_counter();
    head.clear_receiving_counter();
    head.clear_previous_sending_counter();
    reordered = head.SerializeAsString() + tail.SerializeAsString();
  }
  auto r = State::restore(label_bytes(reordered));
  REQUIRE(r.ok());
  CHECK(r->serialize().equals(p.bob.serialize()));
}

TEST_CASE("restore refuses malformed state with kStateCorrupt", "[ratchet][store]") {
  SeededRng rng(23);
  SessionPair p = busy_sessions(rng);
  const State& bob = p.bob;
  using M = sotto::store::RatchetSession;

  expect_corrupt({});
  expect_corrupt(mutate(bob, [](M& m) { m.set_version(2); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_version(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_root_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.set_root_key(std::string(31, 'x')); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_self_ratchet_private_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_self_ratchet_public_key(); }));
  expect_corrupt(mutate(bob, [](M& m) {
    std::string k = m.self_ratchet_public_key();
    k[0] = static_cast<char>(k[0] ^ 1);
    m.set_self_ratchet_public_key(k);
  }));
  expect_corrupt(mutate(bob, [](M& m) { m.set_remote_ratchet_public_key(std::string(33, 'x')); }));
  expect_corrupt(mutate(bob, [](M& m) { m.set_sending_chain_key(std::string(16, 'x')); }));
  expect_corrupt(mutate(bob, [](M& m) { m.set_receiving_chain_key(std::string(64, 'x')); }));
  expect_corrupt(mutate(bob, [](M& m) { m.set_associated_data(std::string(1025, 'x')); }));
  // Chains without a peer key; counters without chains.
  expect_corrupt(mutate(bob, [](M& m) { m.clear_remote_ratchet_public_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_sending_chain_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.clear_receiving_chain_key(); }));
  // Skipped keys: wrong lengths, missing fields, duplicates, a key of the
  // current chain at or beyond Nr.
  expect_corrupt(mutate(bob, [](M& m) { m.mutable_skipped_keys(0)->clear_message_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.mutable_skipped_keys(0)->clear_ratchet_key(); }));
  expect_corrupt(mutate(bob, [](M& m) { m.mutable_skipped_keys(0)->set_message_key("short"); }));
  expect_corrupt(mutate(bob, [](M& m) { *m.add_skipped_keys() = m.skipped_keys(0); }));
  expect_corrupt(mutate(bob, [](M& m) {
    auto* k = m.add_skipped_keys();
    k->set_ratchet_key(m.remote_ratchet_public_key());
    k->set_counter(m.receiving_counter());
    k->set_message_key(std::string(32, 'k'));
  }));
  // More than 2000 skipped keys.
  expect_corrupt(mutate(bob, [](M& m) {
    for (std::uint32_t i = 0; i < 2001; ++i) {
      auto* k = m.add_skipped_keys();
      k->set_ratchet_key(std::string(32, 'r'));
      k->set_counter(i);
      k->set_message_key(std::string(32, 'k'));
    }
  }));
  // Exactly 2000 (with those of the state replaced) restores.
  {
    Bytes at_cap = mutate(bob, [](M& m) {
      m.clear_skipped_keys();
      for (std::uint32_t i = 0; i < 2000; ++i) {
        auto* k = m.add_skipped_keys();
        k->set_ratchet_key(std::string(32, 'r'));
        k->set_counter(i);
        k->set_message_key(std::string(32, 'k'));
      }
    });
    auto r = State::restore(at_cap);
    REQUIRE(r.ok());
    CHECK(r->skipped_key_count() == 2000);
  }

  const SecretBytes good = bob.serialize();
  Bytes raw(good.view().begin(), good.view().end());
  // Unknown field (13, varint), a repeated singular field, a wrong wire type,
  // trailing garbage, an over-long varint counter.
  {
    Bytes b = raw;
    b.push_back(13 << 3);
    b.push_back(1);
    expect_corrupt(b);
  }
  {
    Bytes b = raw;
    append(b, Bytes{0x08, 0x01});  // version again
    expect_corrupt(b);
  }
  {
    Bytes b = raw;
    append(b, Bytes{(9 << 3) | 2, 0x00});  // sending_counter as bytes
    expect_corrupt(b);
  }
  {
    Bytes b = raw;
    b.push_back(0xFF);
    expect_corrupt(b);
  }
  {
    Bytes b = mutate(bob, [](M& m) { m.clear_previous_sending_counter(); });
    append(b, Bytes{(11 << 3), 0x80, 0x80, 0x80, 0x80, 0x10});  // 2^32
    expect_corrupt(b);
  }
  // Every truncation either fails or restores a state that serialises to the
  // same prefix-valid bytes; none crashes. Cutting inside the fixed fields fails.
  for (std::size_t len = 0; len < 120 && len < raw.size(); ++len) {
    expect_corrupt(ByteView(raw).first(len));
  }
  for (std::size_t len = 120; len < raw.size(); ++len) {
    auto r = State::restore(ByteView(raw).first(len));
    if (r.ok()) CHECK(r->serialize().view().size() == len);
  }
}
