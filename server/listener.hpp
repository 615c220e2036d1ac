// listener.hpp — the relay's network edge: serve() runs the accept loop and
// one coroutine pair per connection until SIGINT/SIGTERM.
//
// What fails: serve() returns an error when it cannot listen; a connection's
// failure (bad handshake, malformed frame, deadline) closes that connection
// only. On a signal it stops accepting, lets connections finish the request
// they are in, and returns; the caller then closes the store, which commits
// what is pending. Ownership: the store and the key outlive serve().
#pragma once

#include <cstdint>
#include <string>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "server/config.hpp"
#include "server/store.hpp"

namespace sotto::relay {

struct ServeOptions {
  // Added to the wall clock: for tests only (time travel for retention); the
  // CLI reads it from SOTTO_RELAY_CLOCK_OFFSET_SECONDS and warns when set.
  std::int64_t clock_offset_seconds = 0;
};

[[nodiscard]] Result<void, std::string> serve(const RelayConfig& config, X25519KeyPair relay_key,
                                              RelayStore& store, const ServeOptions& options = {});

}  // namespace sotto::relay
