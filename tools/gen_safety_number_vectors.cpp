// gen_safety_number_vectors.cpp — prints tests/vectors/safety_number.json:
// identity keys drawn from a SeededRng, their account-id text forms, each
// party's 30 safety-number digits and the 60-digit numbers of some pairs.
//
//   ./build/tools/gen_safety_number_vectors > tests/vectors/safety_number.json
//
// The output is a pure function of the seed; test_safety_number.cpp verifies
// the committed file by recomputing every field from the recorded seeds.
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/account_id.hpp"
#include "common/crypto.hpp"
#include "common/rng.hpp"
#include "common/safety_number.hpp"

using namespace sotto;
using nlohmann::ordered_json;

int main() {
  constexpr std::uint64_t kSeed = 50;
  SeededRng rng(kSeed);

  ordered_json doc;
  doc["description"] =
      "Safety numbers and account ids (docs/protocol.md section 10, "
      "docs/protocol.md section 50). Made by tools/gen_safety_number_vectors.cpp with "
      "SeededRng(50): the ChaCha20 (RFC 8439) keystream under key = the 32-byte little-endian "
      "encoding of the integer 50, nonce = 12 zero bytes, block counter from 0, consumed in "
      "order. Each identity i takes the next 32 bytes as its Ed25519 seed (RFC 8032 private "
      "key). Fields: identities[i].ed25519_seed (hex, private input), .public_key (hex, the "
      "Ed25519 public key = the identity key IK), .account_id (its Bech32m text form, hrp "
      "'sotto'), .safety_number_half (the 30 digits of that party: SHA-512 iterated 5200 times "
      "over X_0 = 'Sotto/v1/SafetyNumber' || u16be(1) || IK, X_i = SHA-512(X_{i-1} || IK), six "
      "5-byte big-endian chunks of X_5200 mod 100000). pairs[k]: indices a and b into "
      "identities, digits (the 60-digit number: the two halves, smaller first) and grouped "
      "(twelve groups of five digits separated by one space).";
  doc["seed"] = kSeed;

  constexpr int kIdentities = 5;
  ordered_json ids = ordered_json::array();
  std::vector<Ed25519PublicKey> keys;
  for (int i = 0; i < kIdentities; ++i) {
    Ed25519Seed seed;
    rng.fill(seed.mutable_view());
    const Ed25519KeyPair kp = crypto::ed25519_from_seed(seed);
    keys.push_back(kp.public_key);
    ordered_json e;
    e["ed25519_seed"] = to_hex(seed.view());  // a private input: recorded for reproduction
    e["public_key"] = to_hex(kp.public_key.view());
    e["account_id"] = AccountId(kp.public_key).to_text();
    e["safety_number_half"] = safety_number_half(kp.public_key);
    ids.push_back(e);
  }
  doc["identities"] = ids;

  const std::pair<int, int> pair_indices[] = {{0, 1}, {1, 0}, {2, 3}, {0, 4}, {3, 3}};
  ordered_json pairs = ordered_json::array();
  for (auto [a, b] : pair_indices) {
    const SafetyNumber n =
        safety_number(keys[static_cast<std::size_t>(a)], keys[static_cast<std::size_t>(b)]);
    ordered_json p;
    p["a"] = a;
    p["b"] = b;
    p["digits"] = n.digits;
    p["grouped"] = n.grouped();
    pairs.push_back(p);
  }
  doc["pairs"] = pairs;

  std::cout << doc.dump(2) << "\n";
  return 0;
}
