// fuzz_noise_initiator.cpp — the client's side of a Noise handshake, fed an
// arbitrary answer to a fixed message 1, then arbitrary transport messages.
//
// Input: selector u8 (bit 0: 0 = IK, 1 = NK) || a framed stream (frame.hpp):
// the first frame is Noise message 2, every later frame a transport message
// from the relay. The initiator is fuzz_fixtures.hpp's fixed one (same
// message 1 for every input).
//
// Properties (abort on violation): a message 2 that reads completes the
// handshake and splits; the transport's receive nonce counts exactly the
// messages that decrypted; it closes only after its failure limit.
#include <cstddef>
#include <cstdint>

#include "common/frame.hpp"
#include "common/noise.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto type = (data[0] & 1) == 0 ? noise::HandshakeType::kIK : noise::HandshakeType::kNK;

  FrameDecoder decoder;
  auto frames = decoder.feed(as_view(data + 1, size - 1));
  if (!frames.ok() || frames->empty()) return 0;

  SeededRng rng(initiator_seed(type));
  Bytes message1;
  noise::NoiseHandshake hs = initiator_after_message1(type, rng, message1);

  auto payload = hs.read_message((*frames)[0]);
  if (!payload.ok()) {
    SOTTO_FUZZ_CHECK(hs.is_failed(), "a failed read leaves the handshake failed");
    SOTTO_FUZZ_CHECK(!hs.split().ok(), "a failed handshake split");
    return 0;
  }
  SOTTO_FUZZ_CHECK(hs.is_complete(), "complete after message 2");
  auto transport = hs.split();
  SOTTO_FUZZ_CHECK(transport.ok(), "split");

  std::uint64_t decrypted = 0;
  for (std::size_t i = 1; i < frames->size() && !transport->is_closed(); ++i) {
    auto plain = transport->decrypt((*frames)[i]);
    if (plain.ok()) ++decrypted;
    SOTTO_FUZZ_CHECK(transport->receive_nonce() == decrypted, "receive nonce != messages read");
  }
  return 0;
}
