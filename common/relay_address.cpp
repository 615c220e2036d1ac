// relay_address.cpp — see relay_address.hpp.
#include "common/relay_address.hpp"

#include <charconv>

namespace sotto {
namespace {

constexpr std::string_view kExpectedForm = "sotto://HOST:PORT/<64 hex digits>";

Failure<std::string> bad(std::string_view what) {
  return fail("invalid relay address: " + std::string(what) + " (expected " +
              std::string(kExpectedForm) + ")");
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool host_char_ok(char c) {
  // Printable ASCII without the characters that delimit the address.
  return c > ' ' && c < 0x7f && c != '/' && c != '[' && c != ']' && c != '@' && c != '?' &&
         c != '#';
}

std::string bracketed(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]";
  return std::string(host);
}

}  // namespace

std::string RelayAddress::host_port() const {
  return bracketed(host) + ":" + std::to_string(port);
}

std::string RelayAddress::to_string() const {
  return format_relay_address(host, port, key);
}

std::string format_relay_address(std::string_view host, std::uint16_t port,
                                 const X25519PublicKey& key) {
  return std::string(kRelayAddressScheme) + bracketed(host) + ":" + std::to_string(port) + "/" +
         to_hex(key.view());
}

Result<RelayAddress, std::string> parse_relay_address(std::string_view text) {
  if (text.substr(0, kRelayAddressScheme.size()) != kRelayAddressScheme)
    return bad("it must start with sotto://");
  text.remove_prefix(kRelayAddressScheme.size());

  // HOST:PORT up to the first '/', then the key.
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("the /<relay key> part is missing");
  std::string_view authority = text.substr(0, slash);
  std::string_view key_text = text.substr(slash + 1);

  RelayAddress out;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() ||
        authority[close + 1] != ':')
      return bad("an IPv6 host is written [ADDRESS]:PORT");
    out.host = std::string(authority.substr(1, close - 1));
    for (char c : out.host)
      if (!(is_lower_hex(c) || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        return bad("the IPv6 host contains a character that is not allowed");
    port_text = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) return bad("the :PORT part is missing");
    out.host = std::string(authority.substr(0, colon));
    if (out.host.find(':') != std::string::npos)
      return bad("an IPv6 host needs brackets, as in sotto://[::1]:7443/...");
    for (char c : out.host)
      if (!host_char_ok(c)) return bad("the host contains a character that is not allowed");
    port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("the host is empty");

  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535)
    return bad("the port must be a number from 1 to 65535, got \"" + std::string(port_text) + "\"");
  out.port = static_cast<std::uint16_t>(port);

  // The relay's X25519 public key: exactly 32 bytes as 64 lower-case hex digits.
  if (key_text.size() != 64)
    return bad("the relay key must be 64 hexadecimal digits, got " +
               std::to_string(key_text.size()) + " characters");
  for (char c : key_text)
    if (!is_lower_hex(c)) return bad("the relay key must be lower-case hexadecimal (0-9, a-f)");
  auto bytes = from_hex(key_text);
  out.key = *X25519PublicKey::from(*bytes);
  return out;
}

}  // namespace sotto
