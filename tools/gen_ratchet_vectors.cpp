// gen_ratchet_vectors.cpp — prints tests/vectors/ratchet.json: a scripted
// Double Ratchet conversation between Alice (initiator) and Bob (responder)
// with both directions, several DH ratchet turns, and out-of-order and skipped
// messages. Every input comes from one SeededRng with a fixed seed, drawn in
// a documented order, so the output is reproducible byte for byte.
//
// Usage: ./build/tools/gen_ratchet_vectors > tests/vectors/ratchet.json
// These are test keys: printing them is the point of the file.
#include <array>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/ratchet.hpp"
#include "common/rng.hpp"

using namespace sotto;
using namespace sotto::ratchet;
using json = nlohmann::ordered_json;

namespace {

constexpr std::uint64_t kSeed = 30;

// Passes draws through from the SeededRng and remembers each 32-byte draw
// (every draw after set-up is a new ratchet private key).
class RecordingRng final : public Rng {
 public:
  explicit RecordingRng(SeededRng& inner) : inner_(inner) {}
  void fill(std::span<std::uint8_t> out) override {
    inner_.fill(out);
    last_ = Bytes(out.begin(), out.end());
    ++draws_;
  }
  int draws() const { return draws_; }
  const Bytes& last() const { return last_; }

 private:
  SeededRng& inner_;
  Bytes last_;
  int draws_ = 0;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "gen_ratchet_vectors: %s\n", what);
  std::exit(1);
}

}  // namespace

int main() {
  SeededRng seeded(kSeed);
  RecordingRng rng(seeded);
  std::array<std::uint8_t, 32> seed_bytes{};
  for (int i = 0; i < 8; ++i)
    seed_bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(kSeed >> (8 * i));

  // Set-up draws, in this order: SK (32), AD (64), Bob's initial ratchet
  // private key (32), Alice's initial ratchet private key (32).
  Secret<struct VectorSkTag, 32> sk;
  rng.fill(sk.mutable_view());
  Bytes ad = crypto::random_bytes(rng, 64);
  X25519KeyPair bob_key = crypto::x25519_generate(rng);
  const Bytes bob_private = rng.last();
  const X25519PublicKey bob_public = bob_key.public_key;
  auto alice_r = State::init_initiator(sk.view(), ad, bob_public, rng);
  const Bytes alice_private = rng.last();
  auto bob_r = State::init_responder(sk.view(), ad, std::move(bob_key));
  if (!alice_r.ok() || !bob_r.ok()) die("session set-up failed");
  State alice = std::move(alice_r).value();
  State bob = std::move(bob_r).value();

  // Private half of every ratchet key generated so far, by public key.
  std::map<X25519PublicKey, Bytes> privates{{bob_public, bob_private},
                                            {alice.ratchet_public_key(), alice_private}};
  std::map<std::string, Bytes> sent;  // message id -> message bytes

  json steps = json::array();
  auto party_state = [&](const std::string& who) -> State& { return who == "alice" ? alice : bob; };

  auto do_send = [&](const std::string& who, const std::string& id) {
    State& s = party_state(who);
    const std::string text = "Sotto ratchet vector message " + id + " from " + who;
    auto m = encrypt(s, SecretBytes::copy_of(label_bytes(text)));
    if (!m.ok()) die("encrypt failed");
    sent[id] = *m;
    json step;
    step["step"] = steps.size();
    step["party"] = who;
    step["action"] = "encrypt";
    step["id"] = id;
    step["plaintext_hex"] = to_hex(label_bytes(text));
    step["ratchet_private_hex"] = to_hex(privates.at(s.ratchet_public_key()));
    step["header_hex"] = to_hex(ByteView(*m).first(kHeaderBytes));
    step["message_hex"] = to_hex(*m);
    steps.push_back(step);
  };

  auto do_recv = [&](const std::string& who, const std::string& id) {
    State& s = party_state(who);
    const X25519PublicKey key_before = s.ratchet_public_key();
    const int draws_before = rng.draws();
    auto r = decrypt(s, sent.at(id), rng);
    if (!r.ok()) die("decrypt failed");
    json step;
    step["step"] = steps.size();
    step["party"] = who;
    step["action"] = "decrypt";
    step["id"] = id;
    step["message_hex"] = to_hex(sent.at(id));
    step["plaintext_hex"] = to_hex(r->plaintext.view());
    step["ratchet_private_before_hex"] = to_hex(privates.at(key_before));
    if (rng.draws() != draws_before) {
      // A DH ratchet step: the receiver generated this new ratchet key.
      privates[r->next.ratchet_public_key()] = rng.last();
      step["new_ratchet_private_hex"] = to_hex(rng.last());
    } else {
      step["new_ratchet_private_hex"] = nullptr;
    }
    step["skipped_keys_after"] = r->next.skipped_key_count();
    s = std::move(r->next);
    steps.push_back(step);
  };

  // The script: (party, action, message id).
  const std::vector<std::array<const char*, 3>> script = {
      {"alice", "send", "a0"}, {"alice", "send", "a1"},
      {"alice", "send", "a2"}, {"bob", "recv", "a0"},
      {"bob", "recv", "a2"},  // a1 skipped
      {"bob", "send", "b0"},   {"bob", "send", "b1"},
      {"alice", "recv", "b1"},  // turn; b0 skipped
      {"bob", "recv", "a1"},    // from a skipped key
      {"alice", "send", "a3"}, {"alice", "send", "a4"},
      {"alice", "recv", "b0"},  // old chain, skipped key
      {"bob", "recv", "a4"},    // turn; a3 skipped
      {"bob", "send", "b2"},   {"bob", "send", "b3"},
      {"alice", "recv", "b3"},                         // turn; b2 skipped
      {"alice", "send", "a5"}, {"bob", "recv", "a5"},  // turn
      {"bob", "recv", "a3"},                           // old chain, skipped key
      {"bob", "send", "b4"},   {"bob", "send", "b5"},
      {"bob", "send", "b6"},   {"alice", "recv", "b6"},  // turn; b4, b5 skipped; PN = 2 (b2, b3)
      {"alice", "recv", "b2"},                           // two chains back
      {"alice", "recv", "b4"}, {"alice", "recv", "b5"},
      {"alice", "send", "a6"}, {"alice", "send", "a7"},
      {"bob", "recv", "a7"},   {"bob", "recv", "a6"},  // turn, then reordered
      {"bob", "send", "b7"},   {"alice", "recv", "b7"},
  };
  for (const auto& [who, action, id] : script) {
    if (std::string(action) == "send") {
      do_send(who, id);
    } else {
      do_recv(who, id);
    }
  }
  if (alice.skipped_key_count() != 0 || bob.skipped_key_count() != 0) die("keys left over");

  json out;
  out["description"] =
      "Double Ratchet test vectors (docs/protocol.md section 30), printed by "
      "tools/gen_ratchet_vectors.cpp. RNG: SeededRng = the ChaCha20 (IETF, RFC 8439) keystream "
      "under key = seed_hex, nonce = 12 zero bytes, block counter from 0, consumed in order; "
      "seed_hex is the 32-byte little-endian encoding of the integer 30. Draws in order: "
      "shared_key (32 bytes), associated_data (64), bob_initial_ratchet_private (32), "
      "alice_initial_ratchet_private (32, drawn by State::init_initiator), then 32 bytes for each "
      "new ratchet key a receiver generates in a DH ratchet step (decrypt of a message carrying a "
      "new ratchet public key), in step order. X25519 private keys are the raw 32 drawn bytes "
      "(clamped by X25519 itself). Each step is applied in order to Alice's or Bob's session: "
      "'encrypt' steps give the plaintext, the sender's current ratchet private key, the 41-byte "
      "header and the whole message (header || ciphertext || tag); 'decrypt' steps give the "
      "message delivered (in this delivery order), the plaintext it must yield, the receiver's "
      "ratchet private key before the step, the new ratchet private key generated by that step "
      "(null when none) and the number of skipped keys stored afterwards. final_state_*_hex are "
      "the serialised sotto.store.RatchetSession of each party after the last step.";
  out["seed_hex"] = to_hex(seed_bytes);
  out["shared_key_hex"] = to_hex(sk.view());
  out["associated_data_hex"] = to_hex(ad);
  out["bob_initial_ratchet_private_hex"] = to_hex(bob_private);
  out["bob_initial_ratchet_public_hex"] = to_hex(bob_public.view());
  out["alice_initial_ratchet_private_hex"] = to_hex(alice_private);
  out["steps"] = steps;
  out["final_state_alice_hex"] = to_hex(alice.serialize().view());
  out["final_state_bob_hex"] = to_hex(bob.serialize().view());
  std::cout << out.dump(2) << "\n";
  return 0;
}
