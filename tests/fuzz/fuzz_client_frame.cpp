// fuzz_client_frame.cpp — the relay's request decoders
// (relay::decode_client_frames and decode_client_frame, common/wire_codec.hpp)
// on arbitrary bytes: what any client, authenticated or not, can send once the
// handshake is done, a version-2 batch included.
//
// Properties (abort on violation): every request that decodes (alone or in a
// batch) re-encodes, alone with encode_client_request and all together with
// encode_client_batch, to frames that decode to the same requests (the domain
// value is all that matters, the protobuf bytes need not be canonical); its
// counts are within the limits; a batch holds 1..max_batch requests; a frame
// above max_frame is refused with kTooLarge; the single-frame decoder agrees
// with the batch decoder on a frame that is not a batch.
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "common/wire_codec.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::relay;

namespace {

void check_limits(const ClientRequest& req, const CodecLimits& limits) {
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
}

// A request decoded from the fuzzer's bytes, encoded alone, decodes to itself.
void check_alone(const ClientRequest& req, const CodecLimits& limits) {
  const Bytes again = encode_client_request(req);
  auto r2 = decode_client_frame(again, limits);
  SOTTO_FUZZ_CHECK(r2.ok(), "a re-encoded request does not decode");
  SOTTO_FUZZ_CHECK(*r2 == req, "a re-encoded request decodes to another request");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const CodecLimits limits;
  const ByteView frame(data, size);

  // The single-frame decoder (a peer that never batches).
  auto single = decode_client_frame(frame, limits);
  if (size > limits.max_frame) {
    SOTTO_FUZZ_CHECK(!single.ok() && single.error().status == Status::kTooLarge,
                     "an oversized frame was not refused as too large");
  }
  if (single.ok()) {
    check_limits(*single, limits);
    check_alone(*single, limits);
  }

  // The relay's decoder: one request, or each of a batch.
  auto frames = decode_client_frames(frame, limits);
  if (size > limits.max_frame) {
    SOTTO_FUZZ_CHECK(!frames.ok() && frames.error().status == Status::kTooLarge,
                     "an oversized frame was not refused as too large");
  }
  if (!frames.ok()) {
    SOTTO_FUZZ_CHECK(!single.ok(), "a frame refused as a whole decodes as a single frame");
    return 0;
  }
  SOTTO_FUZZ_CHECK(frames->version == kWireVersion1 || frames->version == kWireVersion,
                   "a frame of an unknown version decoded");
  SOTTO_FUZZ_CHECK(!frames->requests.empty() && frames->requests.size() <= limits.max_batch,
                   "a frame decoded to no requests or more than max_batch");
  SOTTO_FUZZ_CHECK(frames->batch || frames->requests.size() == 1,
                   "a frame that is not a batch decoded to several requests");
  if (single.ok()) {
    SOTTO_FUZZ_CHECK(!frames->batch, "the single-frame decoder accepted a batch");
    SOTTO_FUZZ_CHECK(frames->requests.size() == 1 && frames->requests.front().ok() &&
                         *frames->requests.front() == *single,
                     "the two decoders disagree on a single frame");
  }

  std::vector<ClientRequest> decoded;
  for (const auto& r : frames->requests) {
    if (!r.ok()) continue;
    check_limits(*r, limits);
    check_alone(*r, limits);
    decoded.push_back(*r);
  }
  if (decoded.empty()) return 0;
  // The requests that decoded, as one batch, decode to the same requests.
  const Bytes batch = encode_client_batch(decoded);
  auto again = decode_client_frames(batch, limits);
  if (batch.size() > limits.max_frame) {
    SOTTO_FUZZ_CHECK(!again.ok(), "a batch above max_frame decoded");
    return 0;
  }
  SOTTO_FUZZ_CHECK(again.ok(), "a re-encoded batch does not decode");
  SOTTO_FUZZ_CHECK(again->version == kWireVersion, "a re-encoded batch is not version 2");
  SOTTO_FUZZ_CHECK(again->requests.size() == decoded.size(), "a re-encoded batch lost requests");
  for (std::size_t i = 0; i < decoded.size(); ++i) {
    SOTTO_FUZZ_CHECK(again->requests[i].ok(), "a re-encoded batched request does not decode");
    SOTTO_FUZZ_CHECK(*again->requests[i] == decoded[i],
                     "a re-encoded batched request decodes to another request");
  }
  return 0;
}
