// noise.cpp — the Sotto handshakes: fixed prologue and patterns.
#include "common/noise.hpp"

namespace sotto::noise {

namespace {
Bytes prologue() {
  const ByteView p = label_bytes(kSottoPrologue);
  return Bytes(p.begin(), p.end());
}
}  // namespace

Bytes first_frame_body(HandshakeType type, ByteView message1) {
  Bytes out;
  out.reserve(1 + message1.size());
  out.push_back(static_cast<std::uint8_t>(type));
  append(out, message1);
  return out;
}

Result<FirstFrame, DecodeError> parse_first_frame_body(ByteView body) {
  if (body.empty()) return fail(DecodeError::kTruncated);
  if (body.size() > kMaxFirstFrameBody) return fail(DecodeError::kTooLarge);
  Pattern pattern;
  switch (body[0]) {
    case static_cast<std::uint8_t>(HandshakeType::kIK):
      pattern = Pattern::kIK;
      break;
    case static_cast<std::uint8_t>(HandshakeType::kNK):
      pattern = Pattern::kNK;
      break;
    default:
      return fail(DecodeError::kBadVersion);
  }
  return FirstFrame{pattern, body.subspan(1)};
}

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
