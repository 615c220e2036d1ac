// listener.cpp — see listener.hpp. (Placeholder: the Asio edge lands next.)
#include "server/listener.hpp"

namespace sotto::relay {

Result<void, std::string> serve(const RelayConfig&, X25519KeyPair, RelayStore&) {
  return fail(std::string("serving is not implemented yet"));
}

}  // namespace sotto::relay
