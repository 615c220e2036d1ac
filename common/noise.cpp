// noise.cpp — the Sotto handshakes: fixed prologue and patterns.
#include "common/noise.hpp"

namespace sotto::noise {

namespace {
Bytes prologue() {
  const ByteView p = label_bytes(kSottoPrologue);
  return Bytes(p.begin(), p.end());
}
}  // namespace

Result<NoiseHandshake, ProtocolError> sotto_ik_initiator(X25519KeyPair device,
                                                         const X25519PublicKey& relay, Rng& rng) {
  HandshakeConfig config;
  config.role = Role::kInitiator;
  config.pattern = Pattern::kIK;
  config.prologue = prologue();
  config.local_static = std::move(device);
  config.remote_static = relay;
  return NoiseHandshake::create(std::move(config), rng);
}

Result<NoiseHandshake, ProtocolError> sotto_nk_initiator(const X25519PublicKey& relay, Rng& rng) {
  HandshakeConfig config;
  config.role = Role::kInitiator;
  config.pattern = Pattern::kNK;
  config.prologue = prologue();
  config.remote_static = relay;
  return NoiseHandshake::create(std::move(config), rng);
}

Result<NoiseHandshake, ProtocolError> sotto_responder(Pattern pattern, X25519KeyPair relay,
                                                      Rng& rng) {
  if (pattern != Pattern::kIK && pattern != Pattern::kNK) {
    return fail(ProtocolError::kHandshakeFailed);
  }
  HandshakeConfig config;
  config.role = Role::kResponder;
  config.pattern = pattern;
  config.prologue = prologue();
  config.local_static = std::move(relay);
  return NoiseHandshake::create(std::move(config), rng);
}

}  // namespace sotto::noise
