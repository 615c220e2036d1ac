// fuzz_fixtures.hpp — the fixed keys, sessions and handshakes the fuzz targets
// run against, shared with the corpus generator (make_corpus.cpp) so that the
// seed corpus holds inputs that get past authentication: an envelope sealed to
// the fuzzers' recipient, ratchet messages of the fuzzers' session, a Noise
// message 2 answering the fuzzers' message 1.
//
// Everything here comes from SeededRng streams with fixed seeds (never
// SystemRng): the same fixture on every run, every machine, so a crashing
// input replays. A fixture that cannot be built is a bug in the core, and
// aborts (fixture_check) — the fuzzer then reports it like any other crash.
//
// SOTTO_FUZZ_CHECK(cond, what) is the targets' oracle: when a property that
// must hold for every input does not (a round trip differs, a replay
// decrypts), it prints `what` and aborts, which libFuzzer reports as a crash.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/identity.hpp"
#include "common/noise.hpp"
#include "common/prekeys.hpp"
#include "common/ratchet.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

#define SOTTO_FUZZ_CHECK(cond, what)                                                          \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "fuzz property violated: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace sotto::fuzz {

// Base of every fixture seed ("5077 F022": sotto fuzz); fixture i uses kSeed + i.
inline constexpr std::uint64_t kSeed = 0x5077'F022'0000'0000ull;
// The seed of the Rng a target hands the core for one input (ratchet steps,
// Noise ephemerals): fixed, so an input always behaves the same.
inline constexpr std::uint64_t kInputSeed = kSeed + 0xFF;
// "Now" for prekey checks: 2023-11-14T22:13:20Z.
inline constexpr std::uint64_t kNow = 1'700'000'000;

inline void fixture_check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz fixture failed: %s\n", what);
    std::abort();
  }
}

inline ByteView as_view(const std::uint8_t* data, std::size_t size) {
  return {data, size};
}

// ---- identities and static keys ----

inline IdentityKeyPair alice_identity() {
  SeededRng rng(kSeed + 1);
  return generate_identity(rng);
}
inline IdentityKeyPair bob_identity() {
  SeededRng rng(kSeed + 2);
  return generate_identity(rng);
}
// The relay's Noise static key (the responder's s).
inline X25519KeyPair relay_static() {
  SeededRng rng(kSeed + 3);
  return crypto::x25519_generate(rng);
}
// A device's transport key (the IK initiator's s).
inline X25519KeyPair device_static() {
  SeededRng rng(kSeed + 4);
  return crypto::x25519_generate(rng);
}

// ---- Bob's prekeys (X3DH responder side) ----

inline constexpr PreKeyId kBobSignedPreKeyId = 7;
inline constexpr PreKeyId kBobOneTimePreKeyId = 42;

inline SignedPreKeyPair bob_signed_prekey() {
  SeededRng rng(kSeed + 5);
  return generate_signed_prekey(bob_identity(), kBobSignedPreKeyId, kNow - kSecondsPerDay, rng);
}
inline OneTimePreKeyPair bob_one_time_prekey() {
  SeededRng rng(kSeed + 6);
  return generate_one_time_prekey(kBobOneTimePreKeyId, rng);
}
inline PreKeyBundle bob_bundle(bool with_one_time) {
  PreKeyBundle b;
  b.identity = bob_identity().public_key;
  b.signed_prekey = bob_signed_prekey().public_key;
  if (with_one_time) b.one_time_prekey = bob_one_time_prekey().public_key;
  return b;
}

// ---- a fixed Double Ratchet session ----

struct SessionPair {
  ratchet::State alice;
  ratchet::State bob;
};

// SK, AD (64 bytes) and Bob's ratchet key from SeededRng(seed), then Alice's
// first ratchet key: the same construction as tests/support/ratchet_helpers.hpp.
inline SessionPair make_sessions(std::uint64_t seed) {
  SeededRng rng(seed);
  Secret<struct FuzzSkTag, 32> sk;
  rng.fill(sk.mutable_view());
  Bytes ad = crypto::random_bytes(rng, 64);
  X25519KeyPair bob_key = crypto::x25519_generate(rng);
  const X25519PublicKey bob_public = bob_key.public_key;
  auto alice = ratchet::State::init_initiator(sk.view(), ad, bob_public, rng);
  auto bob = ratchet::State::init_responder(sk.view(), ad, std::move(bob_key));
  fixture_check(alice.ok() && bob.ok(), "session init");
  return {std::move(alice).value(), std::move(bob).value()};
}

inline SecretBytes plaintext_of(std::string_view s) {
  return SecretBytes::copy_of(label_bytes(s));
}

// The fixed session fuzz_ratchet_decrypt decrypts against, and messages of it.
// Alice sends a0 a1 a2; Bob receives a0 and a2 (a1's key is stored as
// skipped) and replies b0; Alice receives b0 (a DH ratchet step) and sends a3
// and a4 under her new ratchet key. Bob's state at that point is `bob`.
struct FixedConversation {
  SecretBytes bob;             // Bob's serialised state
  std::vector<Bytes> pending;  // a1 (skipped key), a3 (DH ratchet), a4 (DH ratchet + skip)
  std::vector<Bytes> replays;  // a0 and a2: already delivered to Bob
};

inline FixedConversation fixed_conversation() {
  SessionPair p = make_sessions(kSeed + 10);
  SeededRng rng(kSeed + 11);
  auto send = [](ratchet::State& s, std::string_view text) {
    auto m = ratchet::encrypt(s, plaintext_of(text));
    fixture_check(m.ok(), "encrypt");
    return std::move(m).value();
  };
  auto receive = [&rng](ratchet::State& s, const Bytes& m) {
    auto r = ratchet::decrypt(s, m, rng);
    fixture_check(r.ok(), "decrypt");
    s = std::move(r->next);
  };
  const Bytes a0 = send(p.alice, "a0: hello Bob");
  const Bytes a1 = send(p.alice, "a1: this one is late");
  const Bytes a2 = send(p.alice, "a2: third");
  receive(p.bob, a0);
  receive(p.bob, a2);
  const Bytes b0 = send(p.bob, "b0: hi Alice");
  receive(p.alice, b0);
  const Bytes a3 = send(p.alice, "a3: new ratchet key");
  const Bytes a4 = send(p.alice, "a4: after a3");
  FixedConversation c;
  c.bob = p.bob.serialize();
  c.pending = {a1, a3, a4};
  c.replays = {a0, a2};
  return c;
}

// ---- Noise ----

// The fixed initiator's payload in message 1 (opaque to Noise).
inline constexpr std::string_view kMessage1Payload = "fuzz: device hello";

// The Rng seed of the fixed initiator of `type`.
inline std::uint64_t initiator_seed(noise::HandshakeType type) {
  return kSeed + 20 + static_cast<std::uint64_t>(type);
}

// The fixed initiator after it wrote message 1: an IK handshake (with the
// device's static key) or an NK one (anonymous) to relay_static(). Pass a
// SeededRng(initiator_seed(type)) that outlives the handshake: message 1 is
// then the same on every call.
inline noise::NoiseHandshake initiator_after_message1(noise::HandshakeType type, Rng& rng,
                                                      Bytes& message1) {
  auto hs = type == noise::HandshakeType::kIK
                ? noise::sotto_ik_initiator(device_static(), relay_static().public_key, rng)
                : noise::sotto_nk_initiator(relay_static().public_key, rng);
  fixture_check(hs.ok(), "initiator");
  auto m1 = hs->write_message(label_bytes(kMessage1Payload));
  fixture_check(m1.ok(), "message 1");
  message1 = std::move(m1).value();
  return std::move(hs).value();
}

}  // namespace sotto::fuzz
