// test_account_id.cpp — the "sotto1..." text form of identity keys: round
// trip, a known answer computed independently from BIP-350's algorithm, the
// case rules, and the property that every common typo of a real id (one
// substitution, one adjacent transposition, one insertion or deletion) is
// rejected instead of naming another account.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/account_id.hpp"
#include "common/bech32m.hpp"
#include "common/rng.hpp"

using namespace sotto;

namespace {

std::vector<AccountId> sample_ids(std::uint64_t seed, int n) {
  SeededRng rng(seed);
  std::vector<AccountId> ids;
  for (int i = 0; i < n; ++i) ids.emplace_back(crypto::ed25519_generate(rng).public_key);
  return ids;
}

Ed25519PublicKey key_from_hex(const char* hex) {
  auto b = from_hex(hex);
  REQUIRE(b.has_value());
  auto k = Ed25519PublicKey::from(*b);
  REQUIRE(k.has_value());
  return *k;
}

// Every printable ASCII character (33..126): the set a user can mistype into an id.
std::vector<char> printable() {
  std::vector<char> out;
  for (int c = 33; c <= 126; ++c) out.push_back(static_cast<char>(c));
  return out;
}

}  // namespace

TEST_CASE("an account id is sotto1 + 58 lower-case characters and parses back", "[account_id]") {
  for (const auto& id : sample_ids(1, 20)) {
    const std::string text = id.to_text();
    CHECK(text.size() == AccountId::kTextLength);
    CHECK(text.rfind("sotto1", 0) == 0);
    for (char c : text) CHECK_FALSE((c >= 'A' && c <= 'Z'));
    auto parsed = AccountId::parse(text);
    REQUIRE(parsed.ok());
    CHECK(*parsed == id);
  }
}

TEST_CASE("known answer: the RFC 8032 test-1 public key", "[account_id]") {
  // Computed with BIP-350's Python reference algorithm (bech32m_create_checksum,
  // convertbits(key, 8, 5)) independently of this code base.
  const AccountId id(
      key_from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
  CHECK(id.to_text() == "sotto16adfsqvzky9t042tlmfujeq88g8wzuhnm2nzxfd0qgdx3ac82ydq3t2xha");
}

TEST_CASE("upper case is accepted only for the whole string", "[account_id]") {
  const AccountId id = sample_ids(2, 1)[0];
  std::string upper = id.to_text();
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  auto parsed = AccountId::parse(upper);
  REQUIRE(parsed.ok());
  CHECK(*parsed == id);

  std::string mixed = id.to_text();
  mixed[10] =
      static_cast<char>(mixed[10] >= 'a' && mixed[10] <= 'z' ? mixed[10] - 'a' + 'A' : mixed[10]);
  mixed[0] = 'S';
  auto r = AccountId::parse(mixed);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == DecodeError::kBadCharacter);
}

TEST_CASE("separators and surrounding whitespace are not part of an id", "[account_id]") {
  const std::string text = sample_ids(3, 1)[0].to_text();
  for (const std::string& bad :
       {text.substr(0, 20) + " " + text.substr(20), text.substr(0, 20) + "-" + text.substr(20),
        " " + text, text + "\n", text + " "}) {
    INFO(bad);
    auto r = AccountId::parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == DecodeError::kBadCharacter);
  }
}

TEST_CASE("every single-character substitution of an id is rejected", "[account_id]") {
  for (const auto& id : sample_ids(4, 3)) {
    const std::string text = id.to_text();
    for (std::size_t i = 0; i < text.size(); ++i) {
      for (char c : printable()) {
        if (c == text[i]) continue;
        std::string typo = text;
        typo[i] = c;
        auto r = AccountId::parse(typo);
        INFO(typo);
        REQUIRE_FALSE(r.ok());
        // A substitution by another alphabet character after the separator is
        // exactly what the checksum is for.
        if (i >= 6 && std::string_view("qpzry9x8gf2tvdw0s3jn54khce6mua7l").find(c) !=
                          std::string_view::npos) {
          CHECK(r.error() == DecodeError::kBadChecksum);
        }
      }
    }
  }
}

TEST_CASE("every adjacent transposition of an id is rejected", "[account_id]") {
  for (const auto& id : sample_ids(5, 10)) {
    const std::string text = id.to_text();
    int tried = 0;
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] == text[i + 1]) continue;
      std::string typo = text;
      std::swap(typo[i], typo[i + 1]);
      INFO(typo);
      CHECK_FALSE(AccountId::parse(typo).ok());
      ++tried;
    }
    CHECK(tried > 50);
  }
}

TEST_CASE("every single insertion or deletion in an id is rejected", "[account_id]") {
  for (const auto& id : sample_ids(6, 3)) {
    const std::string text = id.to_text();
    for (std::size_t i = 0; i <= text.size(); ++i) {
      for (char c : printable()) {
        std::string typo = text;
        typo.insert(typo.begin() + static_cast<std::ptrdiff_t>(i), c);
        INFO(typo);
        REQUIRE_FALSE(AccountId::parse(typo).ok());
      }
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
      std::string typo = text;
      typo.erase(i, 1);
      INFO(typo);
      REQUIRE_FALSE(AccountId::parse(typo).ok());
    }
  }
}

TEST_CASE("valid Bech32m strings that are not Sotto ids are rejected precisely", "[account_id]") {
  const AccountId id = sample_ids(7, 1)[0];
  const auto values = bech32m::bytes_to_5bit(id.key().view());

  SECTION("another human-readable part") {
    auto text = bech32m::encode("otto", values);
    REQUIRE(text.has_value());
    auto r = AccountId::parse(*text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == DecodeError::kWrongPrefix);
  }
  SECTION("too few or too many data characters") {
    for (std::size_t n : {std::size_t{0}, std::size_t{51}, std::size_t{53}, std::size_t{64}}) {
      std::vector<std::uint8_t> v(n, 7);
      auto text = bech32m::encode("sotto", v);
      REQUIRE(text.has_value());
      auto r = AccountId::parse(*text);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == DecodeError::kBadLength);
    }
  }
  SECTION("non-zero padding bits (a non-canonical spelling of the same key)") {
    auto v = values;
    v.back() = static_cast<std::uint8_t>(v.back() | 1);
    auto text = bech32m::encode("sotto", v);
    REQUIRE(text.has_value());
    auto r = AccountId::parse(*text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == DecodeError::kBadPadding);
  }
  SECTION("bytes that are not a usable Ed25519 key") {
    // The identity point (y = 1) and a point of order 4 (y = 0): small order.
    for (const char* hex : {"0100000000000000000000000000000000000000000000000000000000000000",
                            "0000000000000000000000000000000000000000000000000000000000000000"}) {
      const AccountId bad(key_from_hex(hex));
      auto r = AccountId::parse(bad.to_text());
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == DecodeError::kMalformed);
    }
  }
  SECTION("a mistyped prefix") {
    std::string text = id.to_text();
    text[1] = 'a';  // "satto1..."
    auto r = AccountId::parse(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == DecodeError::kBadChecksum);  // the hrp is covered by the checksum
  }
}
