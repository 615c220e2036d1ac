// messenger_error.cpp — see messenger_error.hpp.
#include "client/messenger_error.hpp"

namespace sotto::client {

std::string_view to_string(MessengerErrorKind k) {
  switch (k) {
    case MessengerErrorKind::kNoProfile:
      return "no profile";
    case MessengerErrorKind::kProfileExists:
      return "profile already exists";
    case MessengerErrorKind::kWrongPassphrase:
      return "wrong passphrase";
    case MessengerErrorKind::kStore:
      return "store error";
    case MessengerErrorKind::kUnknownContact:
      return "unknown contact";
    case MessengerErrorKind::kInvalidArgument:
      return "invalid argument";
    case MessengerErrorKind::kRelayUnreachable:
      return "relay unreachable";
    case MessengerErrorKind::kRelayKeyMismatch:
      return "relay key mismatch";
    case MessengerErrorKind::kRelay:
      return "relay connection failed";
    case MessengerErrorKind::kRejected:
      return "rejected by the relay";
    case MessengerErrorKind::kNotDelivered:
      return "not confirmed by the relay";
    case MessengerErrorKind::kProtocol:
      return "protocol error";
  }
  return "unknown";
}

MessengerError messenger_error(MessengerErrorKind kind, std::string message) {
  MessengerError e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

MessengerError from_store(const StoreFailure& f, std::string_view doing) {
  MessengerError e;
  e.store = f.code;
  switch (f.code) {
    case StoreError::kNoProfile:
      e.kind = MessengerErrorKind::kNoProfile;
      break;
    case StoreError::kProfileExists:
      e.kind = MessengerErrorKind::kProfileExists;
      break;
    case StoreError::kWrongPassphrase:
      e.kind = MessengerErrorKind::kWrongPassphrase;
      break;
    default:
      e.kind = MessengerErrorKind::kStore;
      break;
  }
  e.message = describe(f);
  if (!doing.empty() && e.kind == MessengerErrorKind::kStore)
    e.message = std::string(doing) + ": " + e.message;
  return e;
}

MessengerError from_relay(const ClientError& c, std::string_view doing) {
  MessengerError e;
  e.relay = c.kind;
  e.status = c.status;
  switch (c.kind) {
    case ClientErrorKind::kUnreachable:
      e.kind = MessengerErrorKind::kRelayUnreachable;
      break;
    case ClientErrorKind::kHandshakeFailed:
      e.kind = MessengerErrorKind::kRelayKeyMismatch;
      break;
    case ClientErrorKind::kRejected:
      e.kind = MessengerErrorKind::kRejected;
      break;
    case ClientErrorKind::kInvalidAddress:
    case ClientErrorKind::kInvalidArgument:
      e.kind = MessengerErrorKind::kInvalidArgument;
      break;
    default:
      e.kind = MessengerErrorKind::kRelay;
      break;
  }
  e.message = doing.empty() ? c.message : std::string(doing) + ": " + c.message;
  return e;
}

}  // namespace sotto::client
