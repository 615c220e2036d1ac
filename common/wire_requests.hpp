// wire_requests.hpp — the relay protocol as validated domain types.
//
// wire_codec.cpp turns a ClientFrame's bytes into a ClientRequest (every key
// and signature already of the right length, every count within its limit) and
// a ServerMessage into bytes. Nothing outside the codec sees protobuf types.
// Values here are public data only: the relay never receives a private key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"

namespace sotto::relay {

// The wire.proto versions this code speaks: version 1, and version 2, which
// adds batches (a ClientFrame carrying several requests, a ServerFrame carrying
// several responses). Frames are sent with the lowest version that has every
// field they use, except that a client sends every frame as version 2 to tell
// the relay it reads batched responses (docs/protocol.md 70.2).
inline constexpr std::uint32_t kWireVersion1 = 1;
inline constexpr std::uint32_t kWireVersion = 2;
// At most this many requests in one ClientBatch, and responses in one Responses:
// the relay's bound on one connection's requests awaiting the store, so that a
// full batch on an idle connection is never answered SERVER_BUSY.
inline constexpr std::size_t kMaxBatch = 32;
// The largest batch frame a client sends (a request alone may be larger). Every
// relay accepts frames at least this large (max_frame is never set below it),
// so a client can batch without knowing the relay's max_frame.
inline constexpr std::size_t kMaxBatchFrame = 16384;

// An account is named by its identity key (ARCHITECTURE.md: ids are self-certifying).
// (server/store.hpp has its own AccountId, the same 32 bytes as a std::array.)
using IdentityKey = Ed25519PublicKey;

// Response statuses; the numbering of wire.proto's Status enum is the codec's business.
enum class Status {
  kOk,
  kAccepted,
  kMalformed,
  kUnauthorised,
  kNotFound,
  kTooLarge,
  kQuotaExceeded,
  kRateLimited,
  kServerBusy,
  kConflict,
  kUnsupportedVersion,
};
std::string_view to_string(Status s);

struct OneTimePreKey {
  std::uint32_t id = 0;
  X25519PublicKey public_key;
  bool operator==(const OneTimePreKey&) const = default;
};

// ---- requests ----

struct RegisterRequest {
  IdentityKey identity_key;
  std::uint32_t device_id = 0;
  X25519PublicKey transport_key;
  Ed25519Signature transport_key_signature;
  Bytes signed_prekey;  // opaque encoding of the prekeys module
  std::vector<OneTimePreKey> one_time_prekeys;
  Ed25519Signature proof_of_possession;
  bool operator==(const RegisterRequest&) const = default;
};

struct UploadPreKeysRequest {
  std::vector<OneTimePreKey> one_time_prekeys;
  bool operator==(const UploadPreKeysRequest&) const = default;
};

struct GetPreKeyCountRequest {
  bool operator==(const GetPreKeyCountRequest&) const = default;
};

struct RotateSignedPreKeyRequest {
  Bytes signed_prekey;
  bool operator==(const RotateSignedPreKeyRequest&) const = default;
};

struct FetchBundleRequest {
  IdentityKey account;
  bool operator==(const FetchBundleRequest&) const = default;
};

struct SendRequest {
  IdentityKey recipient;
  Bytes envelope;
  bool operator==(const SendRequest&) const = default;
};

struct AckRequest {
  std::vector<std::uint64_t> sequences;
  bool operator==(const AckRequest&) const = default;
};

struct DeleteAccountRequest {
  Ed25519Signature proof_of_possession;
  bool operator==(const DeleteAccountRequest&) const = default;
};

using Request = std::variant<RegisterRequest, UploadPreKeysRequest, GetPreKeyCountRequest,
                             RotateSignedPreKeyRequest, FetchBundleRequest, SendRequest, AckRequest,
                             DeleteAccountRequest>;

// A short stable name per request kind, for metrics ("frames by type").
std::string_view request_name(const Request& r);

struct ClientRequest {
  std::uint64_t request_id = 0;
  Request request;
  bool operator==(const ClientRequest&) const = default;
};

// ---- responses and pushes ----

struct PreKeyCount {
  std::uint32_t count = 0;
  bool operator==(const PreKeyCount&) const = default;
};

struct Bundle {
  IdentityKey identity_key;
  std::uint32_t device_id = 0;
  Bytes signed_prekey;
  std::optional<OneTimePreKey> one_time_prekey;
  bool operator==(const Bundle&) const = default;
};

using ResponseResult = std::variant<std::monostate, PreKeyCount, Bundle>;

struct Response {
  std::uint64_t request_id = 0;
  Status status = Status::kOk;
  std::optional<std::uint32_t> retry_after_ms;
  ResponseResult result;
  bool operator==(const Response&) const = default;
};

struct Delivery {
  std::uint64_t sequence = 0;
  Bytes envelope;
  bool operator==(const Delivery&) const = default;
};

struct Push {
  std::vector<Delivery> deliveries;
  bool operator==(const Push&) const = default;
};

// Several responses in one frame (version 2); 1..kMaxBatch of them.
struct Responses {
  std::vector<Response> responses;
  bool operator==(const Responses&) const = default;
};

using ServerMessage = std::variant<Response, Push, Responses>;

}  // namespace sotto::relay
