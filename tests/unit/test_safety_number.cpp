// test_safety_number.cpp — safety numbers: same on both sides, change with
// either key, the 60-digit format, a known answer computed independently,
// and the committed vectors recomputed from their recorded seeds.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/account_id.hpp"
#include "common/rng.hpp"
#include "common/safety_number.hpp"

using namespace sotto;

namespace {

Ed25519PublicKey key_from_hex(const std::string& hex) {
  auto b = from_hex(hex);
  REQUIRE(b.has_value());
  auto k = Ed25519PublicKey::from(*b);
  REQUIRE(k.has_value());
  return *k;
}

bool all_digits(const std::string& s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

TEST_CASE("both parties compute the same safety number", "[safety_number]") {
  SeededRng rng(11);
  for (int i = 0; i < 4; ++i) {
    const auto a = crypto::ed25519_generate(rng).public_key;
    const auto b = crypto::ed25519_generate(rng).public_key;
    CHECK(safety_number(a, b) == safety_number(b, a));
  }
}

TEST_CASE("the safety number changes when either key changes", "[safety_number]") {
  SeededRng rng(12);
  const auto a = crypto::ed25519_generate(rng).public_key;
  const auto b = crypto::ed25519_generate(rng).public_key;
  const auto a2 = crypto::ed25519_generate(rng).public_key;
  const auto b2 = crypto::ed25519_generate(rng).public_key;
  const SafetyNumber n = safety_number(a, b);
  CHECK(n != safety_number(a2, b));
  CHECK(n != safety_number(a, b2));
  CHECK(n != safety_number(a2, b2));
  // A single flipped bit of one key changes its half (and so the number).
  auto a_flip = a;
  a_flip.bytes[31] ^= 0x01;
  CHECK(safety_number_half(a_flip) != safety_number_half(a));
  CHECK(safety_number(a_flip, b) != n);
}

TEST_CASE("a safety number is 60 digits, shown as twelve groups of five", "[safety_number]") {
  SeededRng rng(13);
  const auto a = crypto::ed25519_generate(rng).public_key;
  const auto b = crypto::ed25519_generate(rng).public_key;
  const SafetyNumber n = safety_number(a, b);
  REQUIRE(n.digits.size() == kSafetyNumberDigits);
  CHECK(all_digits(n.digits));
  const std::string ha = safety_number_half(a);
  const std::string hb = safety_number_half(b);
  CHECK(ha.size() == 30);
  CHECK(((n.digits == ha + hb) || (n.digits == hb + ha)));
  CHECK(n.digits.substr(0, 30) <= n.digits.substr(30));

  const std::string g = n.grouped();
  REQUIRE(g.size() == 71);
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (i % 6 == 5) {
      CHECK(g[i] == ' ');
    } else {
      CHECK((g[i] >= '0' && g[i] <= '9'));
    }
  }
}

TEST_CASE("known answer for the RFC 8032 test-1 and test-2 keys", "[safety_number]") {
  // Computed with Python's hashlib from the definition in safety_number.hpp,
  // independently of this code base.
  const auto a = key_from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const auto b = key_from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  CHECK(safety_number_half(a) == "103915211213837740208237168045");
  CHECK(safety_number_half(b) == "157500924449498830262409538191");
  CHECK(safety_number(b, a).digits ==
        "103915211213837740208237168045157500924449498830262409538191");
}

TEST_CASE("distinct keys give distinct halves", "[safety_number]") {
  SeededRng rng(14);
  std::set<std::string> halves;
  for (int i = 0; i < 16; ++i)
    halves.insert(safety_number_half(crypto::ed25519_generate(rng).public_key));
  CHECK(halves.size() == 16);
}

TEST_CASE("committed vectors: tests/vectors/safety_number.json", "[safety_number][vectors]") {
  std::ifstream in(SOTTO_SOURCE_DIR "/tests/vectors/safety_number.json");
  REQUIRE(in.good());
  const auto doc = nlohmann::json::parse(in);
  REQUIRE(doc.contains("description"));

  // The generator draws each identity's seed from SeededRng(seed) in order.
  SeededRng rng(doc.at("seed").get<std::uint64_t>());
  std::vector<Ed25519PublicKey> keys;
  for (const auto& e : doc.at("identities")) {
    Ed25519Seed seed;
    rng.fill(seed.mutable_view());
    CHECK(to_hex(seed.view()) == e.at("ed25519_seed").get<std::string>());
    const auto kp = crypto::ed25519_from_seed(seed);
    CHECK(to_hex(kp.public_key.view()) == e.at("public_key").get<std::string>());
    const std::string text = e.at("account_id").get<std::string>();
    CHECK(AccountId(kp.public_key).to_text() == text);
    auto parsed = AccountId::parse(text);
    REQUIRE(parsed.ok());
    CHECK(parsed->key() == kp.public_key);
    CHECK(safety_number_half(kp.public_key) == e.at("safety_number_half").get<std::string>());
    keys.push_back(kp.public_key);
  }
  REQUIRE(keys.size() >= 2);
  REQUIRE(doc.at("pairs").size() >= 2);
  for (const auto& p : doc.at("pairs")) {
    const auto& a = keys.at(p.at("a").get<std::size_t>());
    const auto& b = keys.at(p.at("b").get<std::size_t>());
    const SafetyNumber n = safety_number(a, b);
    CHECK(n.digits == p.at("digits").get<std::string>());
    CHECK(n.grouped() == p.at("grouped").get<std::string>());
    CHECK(safety_number(b, a) == n);
  }
}
