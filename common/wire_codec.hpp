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
};

// Why a frame was refused, and how to answer it.
struct FrameRejection {
  Status status = Status::kMalformed;           // what to answer
  DecodeError error = DecodeError::kMalformed;  // why, for logs and metrics
  std::optional<std::uint64_t> request_id;      // set when the frame parsed far enough
};

// ---- relay side ----
[[nodiscard]] Result<ClientRequest, FrameRejection> decode_client_frame(ByteView frame,
                                                                        const CodecLimits& limits);
Bytes encode_server_message(const ServerMessage& message);

// ---- client side ----
Bytes encode_client_request(const ClientRequest& request);
[[nodiscard]] Result<ServerMessage, FrameRejection> decode_server_frame(ByteView frame,
                                                                        const CodecLimits& limits);

// The encoded size of a Push holding `deliveries` envelopes of `envelope_bytes`
// in total is at most push_overhead(deliveries) + envelope_bytes; the
// connection uses it to fill a Push up to max_frame without encoding twice.
std::size_t push_overhead(std::size_t deliveries);

}  // namespace sotto::relay
