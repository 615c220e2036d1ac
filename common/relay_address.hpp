// relay_address.hpp — the relay address a user is given and a client pins:
//
//   sotto://HOST:PORT/<key>
//
// HOST is a name or an IPv4 address, or an IPv6 address in brackets
// ("[::1]"); PORT is 1..65535; <key> is the relay's static X25519 public key
// (its Noise identity, docs/protocol.md section 60 section 6.4) as exactly 64
// lower-case hexadecimal digits. Nothing may follow the key.
//
// Pure text processing (no resolution, no I/O), shared by the relay (which
// prints its address) and the client (which parses it and pins the key).
//
// What fails: parse_relay_address returns a message naming the part that is
// wrong and the expected form; the message repeats no more of the input than
// the offending part. Ownership: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/result.hpp"

namespace sotto {

inline constexpr std::string_view kRelayAddressScheme = "sotto://";

struct RelayAddress {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  X25519PublicKey key;

  // "HOST:PORT", with an IPv6 host in brackets.
  std::string host_port() const;
  // The canonical text form, sotto://HOST:PORT/<64 hex>.
  std::string to_string() const;
  bool operator==(const RelayAddress&) const = default;
};

// Parses the text form above.
[[nodiscard]] Result<RelayAddress, std::string> parse_relay_address(std::string_view text);

// The text form of `host`, `port` and `key` (the host written as given, with
// brackets added for an IPv6 literal).
std::string format_relay_address(std::string_view host, std::uint16_t port,
                                 const X25519PublicKey& key);

}  // namespace sotto
