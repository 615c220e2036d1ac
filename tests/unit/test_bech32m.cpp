// test_bech32m.cpp — the generic Bech32m codec against BIP-350's published
// test vectors (valid strings, invalid strings with their reasons, and the
// segwit address vectors that exercise the 5-bit/8-bit regrouping).
#include <catch2/catch.hpp>

#include <string>

#include "common/bech32m.hpp"

using namespace sotto;

namespace {
std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}
}  // namespace

TEST_CASE("BIP-350 valid Bech32m strings decode and re-encode to themselves", "[bech32m]") {
  const char* cases[] = {
      "A1LQFN3A",
      "a1lqfn3a",
      "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
      "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
      "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
      "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
      "?1v759aa",
  };
  for (const char* text : cases) {
    INFO(text);
    auto d = bech32m::decode(text);
    REQUIRE(d.ok());
    auto again = bech32m::encode(d->hrp, d->data);
    REQUIRE(again.has_value());
    CHECK(*again == lower(text));
  }
}

TEST_CASE("BIP-350 invalid Bech32m strings are rejected with the right reason", "[bech32m]") {
  struct Case {
    std::string text;
    DecodeError want;
  };
  const Case cases[] = {
      {std::string("\x20") + "1xj0phk", DecodeError::kBadCharacter},  // HRP character out of range
      {std::string("\x7f") + "1g6xzxy", DecodeError::kBadCharacter},  // HRP character out of range
      {std::string("\x80") + "1vctc34", DecodeError::kBadCharacter},  // HRP character out of range
      {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts"
       "4",
       DecodeError::kBadLength},                   // overall max length exceeded
      {"qyrz8wqd2c9m", DecodeError::kMalformed},   // no separator character
      {"1qyrz8wqd2c9m", DecodeError::kMalformed},  // empty HRP
      {"y1b0jsk6g", DecodeError::kBadCharacter},   // invalid data character
      {"lt1igcx5c0", DecodeError::kBadCharacter},  // invalid data character
      {"in1muywd", DecodeError::kBadLength},       // too short checksum
      {"mm1crxm3i", DecodeError::kBadCharacter},   // invalid character in checksum
      {"au1s5cgom", DecodeError::kBadCharacter},   // invalid character in checksum
      {"M1VUXWEZ", DecodeError::kBadChecksum},     // checksum over the upper-case HRP
      {"16plkw9", DecodeError::kMalformed},        // empty HRP
      {"1p2gdwpf", DecodeError::kMalformed},       // empty HRP
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = bech32m::decode(c.text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error() == c.want);
  }
}

TEST_CASE("BIP-173 valid Bech32 strings are not valid Bech32m", "[bech32m]") {
  // BIP-350: no string is valid under both constants.
  const char* cases[] = {
      "A12UEL5L",
      "a12uel5l",
      "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
      "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
      "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
      "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
      "?1ezyfcl",
  };
  for (const char* text : cases) {
    INFO(text);
    auto d = bech32m::decode(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error() == DecodeError::kBadChecksum);
  }
}

TEST_CASE("BIP-350 segwit v1+ addresses decode to their witness programs", "[bech32m]") {
  struct Case {
    const char* text;
    const char* hrp;
    std::uint8_t version;
    const char* program;
  };
  const Case cases[] = {
      {"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "bc", 1,
       "751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
      {"BC1SW50QGDZ25J", "bc", 16, "751e"},
      {"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc", 2, "751e76e8199196d454941c45d1b3a323"},
      {"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "tb", 1,
       "000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
      {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "bc", 1,
       "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = bech32m::decode(c.text);
    REQUIRE(d.ok());
    CHECK(d->hrp == c.hrp);
    REQUIRE(!d->data.empty());
    CHECK(d->data[0] == c.version);
    std::vector<std::uint8_t> rest(d->data.begin() + 1, d->data.end());
    auto program = bech32m::bytes_from_5bit(rest);
    REQUIRE(program.has_value());
    CHECK(to_hex(*program) == c.program);
    // And back: the program regrouped and re-encoded is the address in lower case.
    auto values = bech32m::bytes_to_5bit(*program);
    values.insert(values.begin(), c.version);
    CHECK(bech32m::encode(c.hrp, values) == lower(c.text));
  }
}

TEST_CASE("BIP-350 invalid segwit addresses fail in the codec or the regrouping", "[bech32m]") {
  // Bech32 (not Bech32m) checksums.
  for (const char* text : {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
                           "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
                           "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL"}) {
    INFO(text);
    auto d = bech32m::decode(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error() == DecodeError::kBadChecksum);
  }
  // Invalid character in checksum; mixed case.
  for (const char* text : {"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
                           "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq"}) {
    INFO(text);
    auto d = bech32m::decode(text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error() == DecodeError::kBadCharacter);
  }
  // Valid Bech32m, but more than 4 padding bits, or non-zero padding bits.
  for (const char* text : {"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
                           "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j"}) {
    INFO(text);
    auto d = bech32m::decode(text);
    REQUIRE(d.ok());
    std::vector<std::uint8_t> rest(d->data.begin() + 1, d->data.end());
    CHECK_FALSE(bech32m::bytes_from_5bit(rest).has_value());
  }
}

TEST_CASE("encode refuses what decode would refuse", "[bech32m]") {
  CHECK_FALSE(bech32m::encode("", {}).has_value());
  CHECK_FALSE(bech32m::encode("ABC", {}).has_value());
  CHECK_FALSE(bech32m::encode("a b", {}).has_value());
  CHECK_FALSE(bech32m::encode("a", {32}).has_value());
  CHECK_FALSE(bech32m::encode("a", std::vector<std::uint8_t>(83, 0)).has_value());
  CHECK(bech32m::encode("a", std::vector<std::uint8_t>(82, 0)).has_value());  // exactly 90
}
