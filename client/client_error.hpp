// client_error.hpp — what can go wrong between a device and its relay, as a
// value with a text a person can act on (issue 4: "clear errors, never stack
// traces": relay unreachable with what was tried, relay key mismatch, message
// rejected by the relay with the reason).
//
// Every ClientError carries a kind (for programs), a message (for people) and,
// when the relay answered with an error status, that status and any
// retry-after it gave. Messages never contain keys, plaintexts or envelopes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/wire_requests.hpp"

namespace sotto::client {

enum class ClientErrorKind {
  kInvalidAddress,   // the relay address does not parse
  kInvalidArgument,  // a request this client refuses to send (e.g. another identity's keys)
  kUnreachable,      // no TCP connection could be made; the message lists what was tried
  kHandshakeFailed,  // the Noise handshake failed: relay key mismatch, or not a Sotto relay
  kTimeout,          // no answer within the deadline
  kClosed,           // the relay closed the connection (or it broke)
  kProtocol,         // the relay sent something this client cannot decode
  kRejected,         // the relay answered with an error status (see `status`)
};
std::string_view to_string(ClientErrorKind k);

struct ClientError {
  ClientErrorKind kind = ClientErrorKind::kProtocol;
  std::string message;
  std::optional<relay::Status> status;          // set for kRejected
  std::optional<std::uint32_t> retry_after_ms;  // set when the relay gave one (RATE_LIMITED)
};

// "NOT_FOUND", "RATE_LIMITED", ... (the status names of docs/protocol section 7.11).
std::string status_name(relay::Status s);

}  // namespace sotto::client
