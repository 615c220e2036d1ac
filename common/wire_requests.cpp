// wire_requests.cpp — see wire_requests.hpp.
#include "common/wire_requests.hpp"

namespace sotto::relay {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kAccepted:
      return "accepted";
    case Status::kMalformed:
      return "malformed";
    case Status::kUnauthorised:
      return "unauthorised";
    case Status::kNotFound:
      return "not_found";
    case Status::kTooLarge:
      return "too_large";
    case Status::kQuotaExceeded:
      return "quota_exceeded";
    case Status::kRateLimited:
      return "rate_limited";
    case Status::kServerBusy:
      return "server_busy";
    case Status::kConflict:
      return "conflict";
    case Status::kUnsupportedVersion:
      return "unsupported_version";
  }
  return "unknown";
}

namespace {
struct RequestName {
  std::string_view operator()(const RegisterRequest&) const { return "register"; }
  std::string_view operator()(const UploadPreKeysRequest&) const { return "upload_prekeys"; }
  std::string_view operator()(const GetPreKeyCountRequest&) const { return "get_prekey_count"; }
  std::string_view operator()(const RotateSignedPreKeyRequest&) const {
    return "rotate_signed_prekey";
  }
  std::string_view operator()(const FetchBundleRequest&) const { return "fetch_bundle"; }
  std::string_view operator()(const SendRequest&) const { return "send"; }
  std::string_view operator()(const AckRequest&) const { return "ack"; }
  std::string_view operator()(const DeleteAccountRequest&) const { return "delete_account"; }
};
}  // namespace

std::string_view request_name(const Request& r) {
  return std::visit(RequestName{}, r);
}

}  // namespace sotto::relay
