// fuzz_server_frame.cpp — the client's decoder of what a relay sends
// (relay::decode_server_frame, common/wire_codec.hpp) on arbitrary bytes: a
// hostile or broken relay must not be able to crash a client.
//
// Properties (abort on violation): a frame that decodes re-encodes to a frame
// that decodes to the same message; a frame above max_frame is refused with
// kTooLarge.
#include <cstddef>
#include <cstdint>

#include "common/wire_codec.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const CodecLimits limits;
  auto r = decode_server_frame(ByteView(data, size), limits);
  if (size > limits.max_frame) {
    SOTTO_FUZZ_CHECK(!r.ok() && r.error().status == Status::kTooLarge,
                     "an oversized frame was not refused as too large");
  }
  if (!r.ok()) return 0;
  const Bytes again = encode_server_message(*r);
  auto r2 = decode_server_frame(again, limits);
  SOTTO_FUZZ_CHECK(r2.ok(), "a re-encoded message does not decode");
  SOTTO_FUZZ_CHECK(*r2 == *r, "a re-encoded message decodes to another message");
  return 0;
}
