// test_relay_address.cpp — the relay address text form (common/relay_address.*):
// round trips for IPv4, names and bracketed IPv6; every malformed part is
// refused with a message naming it.
#include <catch2/catch.hpp>

#include <string>

#include "common/relay_address.hpp"

using namespace sotto;

namespace {
const std::string kKeyHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
}

TEST_CASE("relay addresses parse and print back unchanged", "[relay_address]") {
  for (std::string text :
       {"sotto://127.0.0.1:7443/" + kKeyHex, "sotto://relay.example:1/" + kKeyHex,
        "sotto://[::1]:65535/" + kKeyHex}) {
    auto a = parse_relay_address(text);
    REQUIRE(a.ok());
    CHECK(a->to_string() == text);
    CHECK(to_hex(a->key.view()) == kKeyHex);
  }
  auto v6 = parse_relay_address("sotto://[::1]:7443/" + kKeyHex);
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7443);
  CHECK(v6->host_port() == "[::1]:7443");
}

TEST_CASE("malformed relay addresses are refused with the reason", "[relay_address]") {
  struct Case {
    std::string text;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"http://127.0.0.1:7443/" + kKeyHex, "sotto://"},
      {"sotto://127.0.0.1:7443", "/<relay key>"},
      {"sotto://127.0.0.1/" + kKeyHex, ":PORT"},
      {"sotto://:7443/" + kKeyHex, "host is empty"},
      {"sotto://127.0.0.1:0/" + kKeyHex, "port"},
      {"sotto://127.0.0.1:65536/" + kKeyHex, "port"},
      {"sotto://127.0.0.1:74x3/" + kKeyHex, "port"},
      {"sotto://::1:7443/" + kKeyHex, "brackets"},
      {"sotto://[::1]7443/" + kKeyHex, "[ADDRESS]:PORT"},
      {"sotto://127.0.0.1:7443/" + kKeyHex.substr(2), "64 hexadecimal digits"},
      {"sotto://127.0.0.1:7443/" + kKeyHex + "00", "64 hexadecimal digits"},
      {"sotto://127.0.0.1:7443/" + kKeyHex + "/", "64 hexadecimal digits"},
      {"sotto://127.0.0.1:7443/" + std::string(64, 'A'), "lower-case"},
      {"sotto://127.0.0.1:7443/" + std::string(63, 'a') + "g", "lower-case"},
      {"sotto://bad host:7443/" + kKeyHex, "not allowed"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto a = parse_relay_address(c.text);
    REQUIRE_FALSE(a.ok());
    CHECK_THAT(a.error(), Catch::Contains(c.reason));
    CHECK_THAT(a.error(), Catch::Contains("sotto://HOST:PORT/<64 hex digits>"));
  }
}
