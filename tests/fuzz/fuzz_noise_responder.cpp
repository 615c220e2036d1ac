// fuzz_noise_responder.cpp — the relay's side of a Noise handshake, fed an
// arbitrary first frame: the type byte (IK or NK) and message 1
// (noise::parse_first_frame_body, then NoiseHandshake::read_message as the
// responder with the fixed relay key of fuzz_fixtures.hpp).
//
// Properties (abort on violation): a message 1 that reads is answered
// (write_message succeeds), completes the handshake and splits; an IK
// handshake then knows the initiator's static key, an NK one does not; a
// handshake that failed stays failed.
#include <cstddef>
#include <cstdint>

#include "common/noise.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const X25519KeyPair relay = relay_static();

  auto first = noise::parse_first_frame_body(as_view(data, size));
  if (!first.ok()) return 0;

  SeededRng rng(kInputSeed);
  auto hs = noise::sotto_responder(first->pattern,
                                   X25519KeyPair{relay.secret.clone(), relay.public_key}, rng);
  SOTTO_FUZZ_CHECK(hs.ok(), "responder create");

  auto payload = hs->read_message(first->message);
  if (!payload.ok()) {
    SOTTO_FUZZ_CHECK(hs->is_failed(), "a failed read leaves the handshake failed");
    SOTTO_FUZZ_CHECK(!hs->write_message({}).ok(), "a failed handshake wrote a message");
    return 0;
  }
  SOTTO_FUZZ_CHECK(payload->size() <= noise::kMaxHandshakePayload, "payload above the maximum");
  SOTTO_FUZZ_CHECK(hs->remote_static().has_value() == (first->pattern == noise::Pattern::kIK),
                   "initiator static key known iff IK");
  SOTTO_FUZZ_CHECK(hs->is_my_turn_to_write(), "responder's turn after message 1");
  auto message2 = hs->write_message(label_bytes("fuzz: relay hello"));
  SOTTO_FUZZ_CHECK(message2.ok(), "message 2");
  SOTTO_FUZZ_CHECK(hs->is_complete(), "complete after message 2");
  auto transport = hs->split();
  SOTTO_FUZZ_CHECK(transport.ok(), "split");
  auto sealed = transport->encrypt(label_bytes("fuzz"));
  SOTTO_FUZZ_CHECK(sealed.ok(), "transport encrypt");
  return 0;
}
