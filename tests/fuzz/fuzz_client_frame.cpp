// fuzz_client_frame.cpp — the relay's request decoder
// (relay::decode_client_frame, common/wire_codec.hpp) on arbitrary bytes: what
// any client, authenticated or not, can send once the handshake is done.
//
// Properties (abort on violation): a frame that decodes re-encodes to a frame
// that decodes to the same request (the domain value is all that matters, the
// protobuf bytes need not be canonical); its counts are within the limits; a
// frame above max_frame is refused with kTooLarge.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "common/wire_codec.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const CodecLimits limits;
  const ByteView frame(data, size);
  auto r = decode_client_frame(frame, limits);
  if (size > limits.max_frame) {
    SOTTO_FUZZ_CHECK(!r.ok() && r.error().status == Status::kTooLarge,
                     "an oversized frame was not refused as too large");
  }
  if (!r.ok()) return 0;

  const ClientRequest& req = *r;
  if (const auto* send = std::get_if<SendRequest>(&req.request)) {
    SOTTO_FUZZ_CHECK(send->envelope.size() <= limits.max_envelope, "envelope above the limit");
  } else if (const auto* ack = std::get_if<AckRequest>(&req.request)) {
    SOTTO_FUZZ_CHECK(ack->sequences.size() <= limits.max_acks_per_request, "acks above the limit");
  } else if (const auto* reg = std::get_if<RegisterRequest>(&req.request)) {
    SOTTO_FUZZ_CHECK(reg->one_time_prekeys.size() <= limits.max_prekeys_per_request,
                     "prekeys above the limit");
    SOTTO_FUZZ_CHECK(reg->signed_prekey.size() <= limits.max_signed_prekey,
                     "signed prekey above the limit");
  } else if (const auto* up = std::get_if<UploadPreKeysRequest>(&req.request)) {
    SOTTO_FUZZ_CHECK(up->one_time_prekeys.size() <= limits.max_prekeys_per_request,
                     "prekeys above the limit");
  }
  (void)request_name(req.request);

  const Bytes again = encode_client_request(req);
  auto r2 = decode_client_frame(again, limits);
  SOTTO_FUZZ_CHECK(r2.ok(), "a re-encoded request does not decode");
  SOTTO_FUZZ_CHECK(*r2 == req, "a re-encoded request decodes to another request");
  return 0;
}
