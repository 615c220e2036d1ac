// relay_key.hpp — the relay's static X25519 key (its Noise identity) on disk,
// and the relay address built from its public half.
//
// The key file is DIR/relay.key: the 32 raw bytes of the X25519 secret. It is
// created with O_CREAT|O_EXCL and mode 0600 from the first instant (never
// world-readable, never overwritten) and fsync'ed with its directory. Loading
// refuses a file that group or others can read or write, or that is not 32 bytes.
//
// The address is `sotto://HOST:PORT/<key>` where <key> is the relay's X25519
// public key in lowercase hex (64 characters): unambiguous, easy to compare by
// eye in pieces, and with no padding or case questions.
//
// What fails: every function returns a message naming the file and the reason;
// no message contains key material. Ownership: the caller owns the returned
// key pair (its secret lives in Secret memory).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/relay_address.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "server/config.hpp"

namespace sotto::relay {

inline constexpr std::string_view kRelayKeyFile = "relay.key";

// Creates DIR/relay.key from `rng`; fails if it exists.
[[nodiscard]] Result<X25519KeyPair, std::string> create_relay_key(const std::filesystem::path& dir,
                                                                  Rng& rng);
// Loads DIR/relay.key, checking its mode and size.
[[nodiscard]] Result<X25519KeyPair, std::string> load_relay_key(const std::filesystem::path& dir);

std::string relay_address(const HostPort& listen, const X25519PublicKey& key);

struct RelayAddress {
  HostPort host_port;
  X25519PublicKey key;
};
[[nodiscard]] Result<RelayAddress, std::string> parse_relay_address(std::string_view text);

}  // namespace sotto::relay
