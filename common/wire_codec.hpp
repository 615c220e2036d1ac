// wire_codec.hpp — bytes <-> validated relay protocol values (the codec layer).
//
// The only place that includes the generated wire.pb.h. Decoding checks the
// frame size *before* parsing, then the version, then every length and count,
// and only then builds a domain value (requests.hpp); anything else is a
// FrameRejection carrying the status to answer and, when the frame parsed far
// enough, the request id to answer it under. Encoding cannot fail.
//
// Both directions exist for both sides: the relay decodes ClientFrames and
// encodes ServerFrames; a client (and the tests) does the opposite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"
#include "common/wire_requests.hpp"

namespace sotto::relay {

// The largest plaintext that fits one Noise transport message:
// 65535 (2-byte length prefix) - 16 (ChaCha20-Poly1305 tag).
inline constexpr std::size_t kMaxNoisePlaintext = 65535 - 16;

struct CodecLimits {
  std::size_t max_frame = kMaxNoisePlaintext;  // bytes of one encoded frame
  std::size_t max_envelope = 60 * 1024;        // bytes of one Send envelope
  std::size_t max_signed_prekey = 512;         // bytes of the opaque signed prekey
  std::size_t max_prekeys_per_request = 100;   // one-time prekeys per Register/Upload
  std::size_t max_acks_per_request = 1000;     // sequences per Ack
  std::size_t max_batch = kMaxBatch;           // requests per ClientBatch, responses per Responses
};

// Why a frame was refused, and how to answer it.
struct FrameRejection {
  Status status = Status::kMalformed;           // what to answer
  DecodeError error = DecodeError::kMalformed;  // why, for logs and metrics
  std::optional<std::uint64_t> request_id;      // set when the frame parsed far enough
};

// The requests of one ClientFrame: one, or each of a batch (version 2), every
// one decoded on its own, so that a bad request in a batch is answered under
// its own id while the others go on. A frame refused as a whole (too large,
// unparsable, an unknown version, a batch that is empty, too long, or in a
// version-1 frame) is the error, answered under the frame's own request_id.
struct FrameRequests {
  std::uint32_t version = 0;  // the frame's: 1 or 2
  bool batch = false;         // the requests came in a ClientBatch (even a batch of one)
  std::vector<Result<ClientRequest, FrameRejection>> requests;  // at least one
};

// ---- relay side ----
[[nodiscard]] Result<FrameRequests, FrameRejection> decode_client_frames(ByteView frame,
                                                                         const CodecLimits& limits);
// One request: a batch is refused (MALFORMED). For peers that never batch.
[[nodiscard]] Result<ClientRequest, FrameRejection> decode_client_frame(ByteView frame,
                                                                        const CodecLimits& limits);
// A Response or Push as a version-1 frame, a Responses as a version-2 frame.
Bytes encode_server_message(const ServerMessage& message);

// ---- client side ----
// One request, as a version-2 frame.
Bytes encode_client_request(const ClientRequest& request);
// Requests as one version-2 frame (a ClientBatch), whatever their number and size.
Bytes encode_client_batch(std::span<const ClientRequest> requests);
// Requests in as few version-2 frames as they fit, in order: at most
// limits.max_batch requests and limits.max_frame bytes to a frame. A request
// alone in its frame is encoded as encode_client_request does, even one over
// max_frame (the transport then refuses it, as it would on its own).
std::vector<Bytes> encode_client_requests(std::span<const ClientRequest> requests,
                                          const CodecLimits& limits);
// The same within what every relay reads: kMaxBatch requests, kMaxBatchFrame bytes.
std::vector<Bytes> encode_client_requests(std::span<const ClientRequest> requests);
[[nodiscard]] Result<ServerMessage, FrameRejection> decode_server_frame(ByteView frame,
                                                                        const CodecLimits& limits);

// The encoded size of a Push holding `deliveries` envelopes of `envelope_bytes`
// in total is at most push_overhead(deliveries) + envelope_bytes; the
// connection uses it to fill a Push up to max_frame without encoding twice.
std::size_t push_overhead(std::size_t deliveries);
// An upper bound of what `r` adds to a Responses frame (its entry's tag and
// length included); a Responses frame is at most kResponsesOverhead plus its
// entries' bounds. The connection uses it to keep the frame within max_frame.
inline constexpr std::size_t kResponsesOverhead = 6;
std::size_t response_size_bound(const Response& r);

}  // namespace sotto::relay
