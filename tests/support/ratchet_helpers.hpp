// ratchet_helpers.hpp — shared set-up for the Double Ratchet tests: a session
// pair from a seeded RNG, send/receive shorthands and state comparison.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/ratchet.hpp"
#include "common/rng.hpp"

namespace sotto::ratchet::testing {

struct SessionPair {
  State alice;
  State bob;
};

// SK (32 bytes), AD (64 bytes) and Bob's ratchet key pair from `rng`, then
// Alice's first ratchet key from `rng`.
inline SessionPair make_sessions(SeededRng& rng) {
  Secret<struct TestSkTag, 32> sk;
  rng.fill(sk.mutable_view());
  Bytes ad = crypto::random_bytes(rng, 64);
  X25519KeyPair bob_key = crypto::x25519_generate(rng);
  const X25519PublicKey bob_public = bob_key.public_key;
  auto alice = State::init_initiator(sk.view(), ad, bob_public, rng);
  auto bob = State::init_responder(sk.view(), ad, std::move(bob_key));
  REQUIRE(alice.ok());
  REQUIRE(bob.ok());
  return {std::move(alice).value(), std::move(bob).value()};
}

inline SecretBytes text(std::string_view s) {
  return SecretBytes::copy_of(label_bytes(s));
}

inline Bytes send(State& s, std::string_view plaintext) {
  auto m = encrypt(s, text(plaintext));
  REQUIRE(m.ok());
  return std::move(m).value();
}

// Decrypts, checks the plaintext and commits the next state.
inline void receive(State& s, const Bytes& message, std::string_view expected, Rng& rng) {
  auto r = decrypt(s, message, rng);
  REQUIRE(r.ok());
  CHECK(r->plaintext.equals(text(expected)));
  s = std::move(r->next);
}

inline bool same_state(const State& a, const State& b) {
  return a.serialize().equals(b.serialize());
}

// Test-only: the serialised state as a std::string, for the generated parser.
inline std::string as_string(const SecretBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace sotto::ratchet::testing
