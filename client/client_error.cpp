// client_error.cpp — see client_error.hpp.
#include "client/client_error.hpp"

#include <cctype>

namespace sotto::client {

std::string_view to_string(ClientErrorKind k) {
  switch (k) {
    case ClientErrorKind::kInvalidAddress:
      return "invalid address";
    case ClientErrorKind::kInvalidArgument:
      return "invalid argument";
    case ClientErrorKind::kUnreachable:
      return "relay unreachable";
    case ClientErrorKind::kHandshakeFailed:
      return "handshake failed";
    case ClientErrorKind::kTimeout:
      return "timeout";
    case ClientErrorKind::kClosed:
      return "connection closed";
    case ClientErrorKind::kProtocol:
      return "protocol error";
    case ClientErrorKind::kRejected:
      return "rejected by the relay";
  }
  return "unknown";
}

std::string status_name(relay::Status s) {
  std::string out(relay::to_string(s));
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace sotto::client
