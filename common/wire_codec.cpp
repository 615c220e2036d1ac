// wire_codec.cpp — see wire_codec.hpp. Protobuf types never leave this file.
#include "common/wire_codec.hpp"

#include <limits>
#include <type_traits>

#include "wire.pb.h"

namespace sotto::relay {
namespace {

using Reject = Failure<FrameRejection>;

Reject reject(Status status, DecodeError error, std::optional<std::uint64_t> id) {
  return fail(FrameRejection{status, error, id});
}

// Exactly-N-bytes field -> typed public bytes; kBadLength otherwise.
template <class P>
std::optional<P> fixed(const std::string& field) {
  return P::from(ByteView(reinterpret_cast<const std::uint8_t*>(field.data()), field.size()));
}

// Both copy with memcpy: built from iterators of another element type, the
// containers would copy byte by byte (an envelope passes through each once).
Bytes to_bytes(const std::string& s) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  return Bytes(p, p + s.size());
}
std::string to_field(ByteView v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

bool parse(google::protobuf::MessageLite& m, ByteView frame) {
  return m.ParseFromArray(frame.data(), static_cast<int>(frame.size()));
}

// ---- status numbering (wire.proto) ----

wire::Status to_wire(Status s) {
  switch (s) {
    case Status::kOk:
      return wire::OK;
    case Status::kAccepted:
      return wire::ACCEPTED;
    case Status::kMalformed:
      return wire::MALFORMED;
    case Status::kUnauthorised:
      return wire::UNAUTHORISED;
    case Status::kNotFound:
      return wire::NOT_FOUND;
    case Status::kTooLarge:
      return wire::TOO_LARGE;
    case Status::kQuotaExceeded:
      return wire::QUOTA_EXCEEDED;
    case Status::kRateLimited:
      return wire::RATE_LIMITED;
    case Status::kServerBusy:
      return wire::SERVER_BUSY;
    case Status::kConflict:
      return wire::CONFLICT;
    case Status::kUnsupportedVersion:
      return wire::UNSUPPORTED_VERSION;
  }
  return wire::STATUS_UNSPECIFIED;
}

std::optional<Status> from_wire(int s) {
  switch (s) {
    case wire::OK:
      return Status::kOk;
    case wire::ACCEPTED:
      return Status::kAccepted;
    case wire::MALFORMED:
      return Status::kMalformed;
    case wire::UNAUTHORISED:
      return Status::kUnauthorised;
    case wire::NOT_FOUND:
      return Status::kNotFound;
    case wire::TOO_LARGE:
      return Status::kTooLarge;
    case wire::QUOTA_EXCEEDED:
      return Status::kQuotaExceeded;
    case wire::RATE_LIMITED:
      return Status::kRateLimited;
    case wire::SERVER_BUSY:
      return Status::kServerBusy;
    case wire::CONFLICT:
      return Status::kConflict;
    case wire::UNSUPPORTED_VERSION:
      return Status::kUnsupportedVersion;
    default:
      return std::nullopt;
  }
}

// ---- field validation ----

// One-time prekeys: at most `max`, each a 32-byte X25519 key, ids unique.
Result<std::vector<OneTimePreKey>, FrameRejection> decode_prekeys(
    const google::protobuf::RepeatedPtrField<wire::OneTimePreKey>& in, std::size_t max,
    std::uint64_t id) {
  if (static_cast<std::size_t>(in.size()) > max)
    return reject(Status::kTooLarge, DecodeError::kTooLarge, id);
  std::vector<OneTimePreKey> out;
  out.reserve(static_cast<std::size_t>(in.size()));
  for (const auto& k : in) {
    auto key = fixed<X25519PublicKey>(k.public_key());
    if (!key) return reject(Status::kMalformed, DecodeError::kBadLength, id);
    for (const auto& seen : out)
      if (seen.id == k.id()) return reject(Status::kMalformed, DecodeError::kMalformed, id);
    out.push_back(OneTimePreKey{k.id(), *key});
  }
  return out;
}

Result<Bytes, FrameRejection> decode_signed_prekey(const std::string& field,
                                                   const CodecLimits& limits, std::uint64_t id) {
  if (field.empty()) return reject(Status::kMalformed, DecodeError::kTruncated, id);
  if (field.size() > limits.max_signed_prekey)
    return reject(Status::kTooLarge, DecodeError::kTooLarge, id);
  return to_bytes(field);
}

Result<Request, FrameRejection> decode_request(const wire::ClientFrame& f,
                                               const CodecLimits& limits) {
  const std::uint64_t id = f.request_id();
  const auto bad_length = reject(Status::kMalformed, DecodeError::kBadLength, id);
  switch (f.request_case()) {
    case wire::ClientFrame::kRegister: {
      const auto& r = f.register_();
      RegisterRequest out;
      auto ik = fixed<IdentityKey>(r.identity_key());
      auto tk = fixed<X25519PublicKey>(r.transport_key());
      auto cert = fixed<Ed25519Signature>(r.transport_key_signature());
      auto pop = fixed<Ed25519Signature>(r.proof_of_possession());
      if (!ik || !tk || !cert || !pop) return bad_length;
      out.identity_key = *ik;
      out.device_id = r.device_id();
      out.transport_key = *tk;
      out.transport_key_signature = *cert;
      out.proof_of_possession = *pop;
      SOTTO_TRY(out.signed_prekey, decode_signed_prekey(r.signed_prekey(), limits, id));
      SOTTO_TRY(out.one_time_prekeys,
                decode_prekeys(r.one_time_prekeys(), limits.max_prekeys_per_request, id));
      return Request{std::move(out)};
    }
    case wire::ClientFrame::kUploadPrekeys: {
      UploadPreKeysRequest out;
      SOTTO_TRY(out.one_time_prekeys, decode_prekeys(f.upload_prekeys().one_time_prekeys(),
                                                     limits.max_prekeys_per_request, id));
      if (out.one_time_prekeys.empty())
        return reject(Status::kMalformed, DecodeError::kTruncated, id);
      return Request{std::move(out)};
    }
    case wire::ClientFrame::kGetPrekeyCount:
      return Request{GetPreKeyCountRequest{}};
    case wire::ClientFrame::kRotateSignedPrekey: {
      RotateSignedPreKeyRequest out;
      SOTTO_TRY(out.signed_prekey,
                decode_signed_prekey(f.rotate_signed_prekey().signed_prekey(), limits, id));
      return Request{std::move(out)};
    }
    case wire::ClientFrame::kFetchBundle: {
      auto account = fixed<IdentityKey>(f.fetch_bundle().account());
      if (!account) return bad_length;
      return Request{FetchBundleRequest{*account}};
    }
    case wire::ClientFrame::kSend: {
      const auto& s = f.send();
      auto recipient = fixed<IdentityKey>(s.recipient());
      if (!recipient) return bad_length;
      if (s.envelope().empty()) return reject(Status::kMalformed, DecodeError::kTruncated, id);
      if (s.envelope().size() > limits.max_envelope)
        return reject(Status::kTooLarge, DecodeError::kTooLarge, id);
      return Request{SendRequest{*recipient, to_bytes(s.envelope())}};
    }
    case wire::ClientFrame::kAck: {
      const auto& seqs = f.ack().sequences();
      if (seqs.empty()) return reject(Status::kMalformed, DecodeError::kTruncated, id);
      if (static_cast<std::size_t>(seqs.size()) > limits.max_acks_per_request)
        return reject(Status::kTooLarge, DecodeError::kTooLarge, id);
      return Request{AckRequest{std::vector<std::uint64_t>(seqs.begin(), seqs.end())}};
    }
    case wire::ClientFrame::kDeleteAccount: {
      auto pop = fixed<Ed25519Signature>(f.delete_account().proof_of_possession());
      if (!pop) return bad_length;
      return Request{DeleteAccountRequest{*pop}};
    }
    case wire::ClientFrame::kBatch:  // a batch inside a batch
    case wire::ClientFrame::REQUEST_NOT_SET:
      break;
  }
  // No request, or one from a newer schema this relay does not know.
  return reject(Status::kMalformed, DecodeError::kMalformed, id);
}

void put_prekey(wire::OneTimePreKey* out, const OneTimePreKey& k) {
  out->set_id(k.id);
  out->set_public_key(to_field(k.public_key.view()));
}

// ---- request encoding (client side) ----

struct RequestEncoder {
  wire::ClientFrame& f;
  void operator()(const RegisterRequest& r) const {
    auto* m = f.mutable_register_();
    m->set_identity_key(to_field(r.identity_key.view()));
    m->set_device_id(r.device_id);
    m->set_transport_key(to_field(r.transport_key.view()));
    m->set_transport_key_signature(to_field(r.transport_key_signature.view()));
    m->set_signed_prekey(to_field(r.signed_prekey));
    for (const auto& k : r.one_time_prekeys) put_prekey(m->add_one_time_prekeys(), k);
    m->set_proof_of_possession(to_field(r.proof_of_possession.view()));
  }
  void operator()(const UploadPreKeysRequest& r) const {
    auto* m = f.mutable_upload_prekeys();
    for (const auto& k : r.one_time_prekeys) put_prekey(m->add_one_time_prekeys(), k);
  }
  void operator()(const GetPreKeyCountRequest&) const { f.mutable_get_prekey_count(); }
  void operator()(const RotateSignedPreKeyRequest& r) const {
    f.mutable_rotate_signed_prekey()->set_signed_prekey(to_field(r.signed_prekey));
  }
  void operator()(const FetchBundleRequest& r) const {
    f.mutable_fetch_bundle()->set_account(to_field(r.account.view()));
  }
  void operator()(const SendRequest& r) const {
    auto* m = f.mutable_send();
    m->set_recipient(to_field(r.recipient.view()));
    m->set_envelope(to_field(r.envelope));
  }
  void operator()(const AckRequest& r) const {
    auto* m = f.mutable_ack();
    for (auto s : r.sequences) m->add_sequences(s);
  }
  void operator()(const DeleteAccountRequest& r) const {
    f.mutable_delete_account()->set_proof_of_possession(to_field(r.proof_of_possession.view()));
  }
};

Bytes serialise(const google::protobuf::MessageLite& m) {
  Bytes out(m.ByteSizeLong());
  m.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

// One request of a frame (the frame itself, or an inner frame of its batch).
Result<ClientRequest, FrameRejection> decode_one(const wire::ClientFrame& f, std::uint32_t version,
                                                 const CodecLimits& limits) {
  if (f.version() != version)
    return reject(Status::kUnsupportedVersion, DecodeError::kBadVersion, f.request_id());
  SOTTO_TRY(auto request, decode_request(f, limits));
  return ClientRequest{f.request_id(), std::move(request)};
}

bool known_version(std::uint32_t v) {
  return v == kWireVersion1 || v == kWireVersion;
}

}  // namespace

Result<FrameRequests, FrameRejection> decode_client_frames(ByteView frame,
                                                           const CodecLimits& limits) {
  // Max frame, checked before parsing.
  if (frame.size() > limits.max_frame)
    return reject(Status::kTooLarge, DecodeError::kTooLarge, std::nullopt);
  wire::ClientFrame f;
  if (!parse(f, frame)) return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
  const std::uint32_t version = f.version();
  if (!known_version(version))
    return reject(Status::kUnsupportedVersion, DecodeError::kBadVersion, f.request_id());
  FrameRequests out;
  out.version = version;
  if (!f.has_batch()) {
    out.requests.push_back(decode_one(f, version, limits));
    return out;
  }
  // A batch: version 2 only, 1..max_batch requests, none of them a batch.
  const auto& inner = f.batch().requests();
  if (version == kWireVersion1 || inner.empty())
    return reject(Status::kMalformed, DecodeError::kMalformed, f.request_id());
  if (static_cast<std::size_t>(inner.size()) > limits.max_batch)
    return reject(Status::kTooLarge, DecodeError::kTooLarge, f.request_id());
  out.batch = true;
  out.requests.reserve(static_cast<std::size_t>(inner.size()));
  for (const auto& r : inner) out.requests.push_back(decode_one(r, version, limits));
  return out;
}

Result<ClientRequest, FrameRejection> decode_client_frame(ByteView frame,
                                                          const CodecLimits& limits) {
  SOTTO_TRY(auto decoded, decode_client_frames(frame, limits));
  // A batch (even of one) is refused; a single frame's refused request is the frame's.
  if (decoded.batch) return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
  if (!decoded.requests.front()) return fail(decoded.requests.front().error());
  return std::move(*decoded.requests.front());
}

namespace {
// One request as a version-2 frame of its own, or as an inner frame of a batch.
void put_request(wire::ClientFrame& f, const ClientRequest& request) {
  f.set_version(kWireVersion);
  f.set_request_id(request.request_id);
  std::visit(RequestEncoder{f}, request.request);
}
}  // namespace

Bytes encode_client_request(const ClientRequest& request) {
  wire::ClientFrame f;
  put_request(f, request);
  return serialise(f);
}

Bytes encode_client_batch(std::span<const ClientRequest> requests) {
  wire::ClientFrame f;
  f.set_version(kWireVersion);
  auto* batch = f.mutable_batch();
  for (const auto& request : requests) put_request(*batch->add_requests(), request);
  return serialise(f);
}

std::vector<Bytes> encode_client_requests(std::span<const ClientRequest> requests,
                                          const CodecLimits& limits) {
  // A batch frame is version (2 bytes) + the batch's tag and length (2 + at most
  // 3) + per request its tag and length (1 + at most 3) + the request's frame.
  constexpr std::size_t kFrameOverhead = 7, kRequestOverhead = 4;
  std::vector<Bytes> out;
  std::vector<wire::ClientFrame> batch;
  std::size_t bytes = kFrameOverhead;
  const auto close_batch = [&] {
    if (batch.size() == 1) {
      out.push_back(serialise(batch.front()));  // alone: a frame of its own
    } else if (!batch.empty()) {
      wire::ClientFrame f;
      f.set_version(kWireVersion);
      for (auto& inner : batch) *f.mutable_batch()->add_requests() = std::move(inner);
      out.push_back(serialise(f));
    }
    batch.clear();
    bytes = kFrameOverhead;
  };
  for (const auto& request : requests) {
    wire::ClientFrame inner;
    put_request(inner, request);
    const std::size_t size = inner.ByteSizeLong() + kRequestOverhead;
    if (!batch.empty() && (batch.size() == limits.max_batch || bytes + size > limits.max_frame))
      close_batch();
    batch.push_back(std::move(inner));
    bytes += size;
  }
  close_batch();
  return out;
}

std::vector<Bytes> encode_client_requests(std::span<const ClientRequest> requests) {
  CodecLimits batches;
  batches.max_batch = kMaxBatch;
  batches.max_frame = kMaxBatchFrame;
  return encode_client_requests(requests, batches);
}

namespace {

void put_response(wire::Response* m, const Response& r) {
  m->set_request_id(r.request_id);
  m->set_status(to_wire(r.status));
  if (r.retry_after_ms) m->set_retry_after_ms(*r.retry_after_ms);
  if (const auto* c = std::get_if<PreKeyCount>(&r.result)) {
    m->mutable_prekey_count()->set_count(c->count);
  } else if (const auto* b = std::get_if<Bundle>(&r.result)) {
    auto* mb = m->mutable_bundle();
    mb->set_identity_key(to_field(b->identity_key.view()));
    mb->set_device_id(b->device_id);
    mb->set_signed_prekey(to_field(b->signed_prekey));
    if (b->one_time_prekey) put_prekey(mb->mutable_one_time_prekey(), *b->one_time_prekey);
  }
}

Result<Response, FrameRejection> decode_response(const wire::Response& m,
                                                 const CodecLimits& limits) {
  const std::uint64_t id = m.request_id();
  Response r;
  r.request_id = id;
  auto status = from_wire(m.status());
  if (!status) return reject(Status::kMalformed, DecodeError::kMalformed, id);
  r.status = *status;
  if (m.has_retry_after_ms()) r.retry_after_ms = m.retry_after_ms();
  if (m.has_prekey_count()) {
    r.result = PreKeyCount{m.prekey_count().count()};
  } else if (m.has_bundle()) {
    const auto& mb = m.bundle();
    Bundle b;
    auto ik = fixed<IdentityKey>(mb.identity_key());
    if (!ik) return reject(Status::kMalformed, DecodeError::kBadLength, id);
    b.identity_key = *ik;
    b.device_id = mb.device_id();
    SOTTO_TRY(b.signed_prekey, decode_signed_prekey(mb.signed_prekey(), limits, id));
    if (mb.has_one_time_prekey()) {
      auto key = fixed<X25519PublicKey>(mb.one_time_prekey().public_key());
      if (!key) return reject(Status::kMalformed, DecodeError::kBadLength, id);
      b.one_time_prekey = OneTimePreKey{mb.one_time_prekey().id(), *key};
    }
    r.result = std::move(b);
  }
  return r;
}

}  // namespace

Bytes encode_server_message(const ServerMessage& message) {
  wire::ServerFrame f;
  if (const auto* r = std::get_if<Response>(&message)) {
    f.set_version(kWireVersion1);
    put_response(f.mutable_response(), *r);
  } else if (const auto* rs = std::get_if<Responses>(&message)) {
    f.set_version(kWireVersion);
    auto* m = f.mutable_responses();
    for (const auto& one : rs->responses) put_response(m->add_responses(), one);
  } else {
    f.set_version(kWireVersion1);
    auto* m = f.mutable_push();
    for (const auto& d : std::get<Push>(message).deliveries) {
      auto* md = m->add_deliveries();
      md->set_sequence(d.sequence);
      md->set_envelope(to_field(d.envelope));
    }
  }
  return serialise(f);
}

Result<ServerMessage, FrameRejection> decode_server_frame(ByteView frame,
                                                          const CodecLimits& limits) {
  if (frame.size() > limits.max_frame)
    return reject(Status::kTooLarge, DecodeError::kTooLarge, std::nullopt);
  wire::ServerFrame f;
  if (!parse(f, frame)) return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
  if (!known_version(f.version()))
    return reject(Status::kUnsupportedVersion, DecodeError::kBadVersion, std::nullopt);
  if (f.has_response()) {
    SOTTO_TRY(auto r, decode_response(f.response(), limits));
    return ServerMessage{std::move(r)};
  }
  if (f.has_responses()) {
    // Version 2 only, 1..max_batch responses, each valid.
    const auto& in = f.responses().responses();
    if (f.version() == kWireVersion1 || in.empty())
      return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
    if (static_cast<std::size_t>(in.size()) > limits.max_batch)
      return reject(Status::kMalformed, DecodeError::kTooLarge, std::nullopt);
    Responses out;
    out.responses.reserve(static_cast<std::size_t>(in.size()));
    for (const auto& m : in) {
      SOTTO_TRY(auto r, decode_response(m, limits));
      out.responses.push_back(std::move(r));
    }
    return ServerMessage{std::move(out)};
  }
  if (f.has_push()) {
    Push p;
    std::uint64_t last = 0;
    for (const auto& md : f.push().deliveries()) {
      // Deliveries arrive in strictly increasing sequence order.
      if (!p.deliveries.empty() && md.sequence() <= last)
        return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
      if (md.envelope().empty() || md.envelope().size() > limits.max_envelope)
        return reject(Status::kMalformed, DecodeError::kBadLength, std::nullopt);
      last = md.sequence();
      p.deliveries.push_back(Delivery{md.sequence(), to_bytes(md.envelope())});
    }
    return ServerMessage{std::move(p)};
  }
  return reject(Status::kMalformed, DecodeError::kMalformed, std::nullopt);
}

std::size_t push_overhead(std::size_t deliveries) {
  // ServerFrame: version (2) + push tag and length (1 + 3);
  // per Delivery: tag and length (1 + 3) + sequence (1 + 10) + envelope tag and length (1 + 3).
  return 6 + deliveries * 19;
}

std::size_t response_size_bound(const Response& r) {
  // Entry tag and length (1 + 3); request_id (1 + 10); status (1 + 2);
  // retry_after_ms (1 + 5); prekey_count (1 + 1 + 1 + 5).
  std::size_t n = 4 + 11 + 3 + 6 + 8;
  if (const auto* b = std::get_if<Bundle>(&r.result)) {
    // Bundle tag and length (1 + 3); identity_key (1 + 1 + 32); device_id (1 + 5);
    // signed_prekey (1 + 3 + its bytes); one_time_prekey (1 + 1 + id 1 + 5 + key 1 + 1 + 32).
    n += 4 + 34 + 6 + 4 + b->signed_prekey.size() + 42;
  }
  return n;
}

}  // namespace sotto::relay
