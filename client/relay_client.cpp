// relay_client.cpp — see relay_client.hpp.
#include "client/relay_client.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "common/relay_auth.hpp"
#include "common/wire_codec.hpp"

namespace sotto::client {
namespace {

// What a client accepts from a relay: anything that fits one Noise message.
relay::CodecLimits client_limits() {
  relay::CodecLimits limits;
  limits.max_frame = relay::kMaxNoisePlaintext;
  limits.max_envelope = relay::kMaxNoisePlaintext;
  return limits;
}

std::string_view explain(relay::Status s) {
  switch (s) {
    case relay::Status::kMalformed:
      return "the relay could not parse the request";
    case relay::Status::kUnauthorised:
      return "not allowed on this connection, or a signature or proof did not verify";
    case relay::Status::kNotFound:
      return "no such account";
    case relay::Status::kTooLarge:
      return "over the relay's size limit";
    case relay::Status::kQuotaExceeded:
      return "the mailbox or the prekey store of the account is full";
    case relay::Status::kRateLimited:
      return "too many requests";
    case relay::Status::kServerBusy:
      return "the relay cannot store it right now; nothing was changed, retry later";
    case relay::Status::kConflict:
      return "a one-time prekey with that id is already held";
    case relay::Status::kUnsupportedVersion:
      return "the relay does not speak this protocol version";
    case relay::Status::kOk:
    case relay::Status::kAccepted:
      return "unexpected success status";
  }
  return "unknown status";
}

ClientError rejected(std::string_view what, const relay::Response& r) {
  std::string message = "the relay refused " + std::string(what) + ": " + status_name(r.status) +
                        " (" + std::string(explain(r.status));
  if (r.retry_after_ms) message += "; retry after " + std::to_string(*r.retry_after_ms) + " ms";
  message += ")";
  return ClientError{ClientErrorKind::kRejected, std::move(message), r.status, r.retry_after_ms};
}

ClientError invalid(std::string message) {
  return ClientError{ClientErrorKind::kInvalidArgument, std::move(message), std::nullopt,
                     std::nullopt};
}

std::vector<relay::OneTimePreKey> wire_prekeys(std::span<const OneTimePreKeyPublic> keys) {
  std::vector<relay::OneTimePreKey> out;
  out.reserve(keys.size());
  for (const auto& k : keys) out.push_back(relay::OneTimePreKey{k.id, k.key});
  return out;
}

Deadline deadline_after(std::chrono::milliseconds timeout) {
  return Clock::now() + timeout;
}

}  // namespace

RelayClient::RelayClient(std::unique_ptr<RelayLink> link,
                         std::optional<relay_auth::DeviceHello> hello,
                         std::optional<X25519PublicKey> transport_public,
                         std::chrono::milliseconds timeout)
    : link_(std::move(link)),
      hello_(std::move(hello)),
      transport_public_(transport_public),
      timeout_(timeout) {}

RelayClient::RelayClient(RelayClient&&) noexcept = default;
RelayClient& RelayClient::operator=(RelayClient&&) noexcept = default;
RelayClient::~RelayClient() = default;

Result<RelayClient, ClientError> RelayClient::connect(const RelayAddress& address,
                                                      const IdentityPublicKey& identity,
                                                      X25519KeyPair transport_key,
                                                      std::uint32_t device_id, Rng& rng,
                                                      std::chrono::milliseconds timeout) {
  const X25519PublicKey transport_public = transport_key.public_key;
  relay_auth::DeviceHello hello{identity, device_id};
  SOTTO_TRY(auto link, RelayLink::open(address, DeviceCredentials{std::move(transport_key), hello},
                                       rng, deadline_after(timeout)));
  return RelayClient(std::move(link), hello, transport_public, timeout);
}

Result<RelayClient, ClientError> RelayClient::connect(std::string_view address,
                                                      const IdentityPublicKey& identity,
                                                      X25519KeyPair transport_key,
                                                      std::uint32_t device_id, Rng& rng,
                                                      std::chrono::milliseconds timeout) {
  auto parsed = parse_relay_address(address);
  if (!parsed)
    return fail(
        ClientError{ClientErrorKind::kInvalidAddress, parsed.error(), std::nullopt, std::nullopt});
  return connect(*parsed, identity, std::move(transport_key), device_id, rng, timeout);
}

Result<RelayClient, ClientError> RelayClient::connect_anonymous(const RelayAddress& address,
                                                                Rng& rng,
                                                                std::chrono::milliseconds timeout) {
  SOTTO_TRY(auto link, RelayLink::open(address, std::nullopt, rng, deadline_after(timeout)));
  return RelayClient(std::move(link), std::nullopt, std::nullopt, timeout);
}

// ---- reading ----

void RelayClient::deliver(Delivery d) {
  if (handler_)
    handler_(std::move(d));
  else
    deliveries_.push_back(std::move(d));
}

Result<void, ClientError> RelayClient::dispatch(ByteView plaintext) {
  auto message = relay::decode_server_frame(plaintext, client_limits());
  if (!message) {
    // The stream of frames is intact but this relay speaks something else: stop here.
    link_->close();
    return fail(ClientError{ClientErrorKind::kProtocol,
                            "the relay at " + link_->address().host_port() +
                                " sent a frame this client cannot decode (" +
                                std::string(to_string(message.error().error)) + ")",
                            std::nullopt, std::nullopt});
  }
  if (auto* push = std::get_if<relay::Push>(&*message)) {
    for (auto& d : push->deliveries) deliver(std::move(d));
  } else if (auto* batch = std::get_if<relay::Responses>(&*message)) {
    for (auto& response : batch->responses) file_response(std::move(response));
  } else {
    file_response(std::move(std::get<relay::Response>(*message)));
  }
  return {};
}

void RelayClient::file_response(relay::Response response) {
  const auto id = response.request_id;
  if (confirm_id_ && id == *confirm_id_) {
    // The answer to confirm_key()'s request: its only purpose was to be sent.
    confirm_id_.reset();
    return;
  }
  responses_.insert_or_assign(id, std::move(response));
}

Result<bool, ClientError> RelayClient::pump_until(const std::function<bool()>& done,
                                                  Deadline deadline) {
  for (;;) {
    if (done()) return true;
    SOTTO_TRY(auto plaintext, link_->receive(deadline));
    if (!plaintext) return done();
    // Relay frames are public protocol data (ciphertext envelopes, public keys).
    SOTTO_TRY_VOID(dispatch(plaintext->view()));
  }
}

// ---- requests ----

Result<std::uint64_t, ClientError> RelayClient::submit(relay::Request request) {
  const std::uint64_t id = next_request_id_++;
  Bytes frame = relay::encode_client_request(relay::ClientRequest{id, std::move(request)});
  SOTTO_TRY_VOID(link_->send(frame, deadline_after(timeout_)));
  confirmed_ = true;
  return id;
}

// Pipelined requests, as few frames as they fit (kMaxBatch requests and
// kMaxBatchFrame bytes to a frame): one encryption per frame, not per request.
Result<std::vector<std::uint64_t>, ClientError> RelayClient::submit_all(
    std::vector<relay::Request> requests) {
  std::vector<std::uint64_t> ids;
  std::vector<relay::ClientRequest> tagged;
  for (auto& r : requests) {
    ids.push_back(next_request_id_++);
    tagged.push_back(relay::ClientRequest{ids.back(), std::move(r)});
  }
  // Batch frames within what every relay accepts (a lone request may be larger).
  const auto frames = relay::encode_client_requests(tagged);
  SOTTO_TRY_VOID(link_->send_all(frames, deadline_after(timeout_)));
  confirmed_ = true;
  return ids;
}

Result<relay::Response, ClientError> RelayClient::wait_response(std::uint64_t id) {
  SOTTO_TRY(bool answered,
            pump_until([&] { return responses_.count(id) > 0; }, deadline_after(timeout_)));
  if (!answered)
    return fail(ClientError{ClientErrorKind::kTimeout,
                            "no answer from the relay at " + link_->address().host_port() +
                                " within " + std::to_string(timeout_.count()) + " ms",
                            std::nullopt, std::nullopt});
  auto node = responses_.extract(id);
  return std::move(node.mapped());
}

namespace {
// The outcome of a call whose answer carries nothing but its status.
Result<void, ClientError> check(const Result<relay::Response, ClientError>& answer) {
  if (!answer) return fail(answer.error());
  return {};
}
}  // namespace

Result<relay::Response, ClientError> RelayClient::call(
    relay::Request request, const char* what, std::initializer_list<relay::Status> expected) {
  SOTTO_TRY(auto id, submit(std::move(request)));
  SOTTO_TRY(auto response, wait_response(id));
  if (std::find(expected.begin(), expected.end(), response.status) == expected.end())
    return fail(rejected(what, response));
  return response;
}

Result<void, ClientError> RelayClient::send_plaintext(ByteView plaintext) {
  SOTTO_TRY_VOID(link_->send(plaintext, deadline_after(timeout_)));
  confirmed_ = true;
  return {};
}

Result<void, ClientError> RelayClient::send_raw(ByteView bytes) {
  return link_->send_raw(bytes, deadline_after(timeout_));
}

Result<void, ClientError> RelayClient::register_account(
    const IdentityKeyPair& identity, const SignedPreKeyPublic& signed_prekey,
    std::span<const OneTimePreKeyPublic> one_time_prekeys) {
  if (!hello_) return fail(invalid("an anonymous connection cannot register an account"));
  if (identity.public_key != hello_->identity_key)
    return fail(invalid("register: the identity key is not the one this connection announced"));
  const auto h = link_->handshake_hash();
  relay::RegisterRequest r;
  r.identity_key = identity.public_key;
  r.device_id = hello_->device_id;
  r.transport_key = *transport_public_;
  // Sign_IK("Sotto/v1/TransportKey" || tk || device_id)
  r.transport_key_signature =
      relay_auth::sign_transport_key(identity, *transport_public_, hello_->device_id);
  r.signed_prekey = encode_signed_prekey(signed_prekey);
  r.one_time_prekeys = wire_prekeys(one_time_prekeys);
  // Sign_IK("Sotto/v1/Register" || h || IK || tk || device_id): bound to this connection.
  r.proof_of_possession =
      relay_auth::sign_registration(identity, h, *transport_public_, hello_->device_id);
  return check(call(std::move(r), "the registration", {relay::Status::kOk}));
}

Result<std::uint32_t, ClientError> RelayClient::upload_prekeys(
    std::span<const OneTimePreKeyPublic> one_time_prekeys) {
  SOTTO_TRY(auto response, call(relay::UploadPreKeysRequest{wire_prekeys(one_time_prekeys)},
                                "the prekey upload", {relay::Status::kOk}));
  const auto* count = std::get_if<relay::PreKeyCount>(&response.result);
  return count ? count->count : 0;
}

Result<std::uint32_t, ClientError> RelayClient::prekey_count() {
  SOTTO_TRY(auto response,
            call(relay::GetPreKeyCountRequest{}, "the prekey count", {relay::Status::kOk}));
  const auto* count = std::get_if<relay::PreKeyCount>(&response.result);
  if (!count)
    return fail(ClientError{ClientErrorKind::kProtocol, "the prekey count answer has no count",
                            std::nullopt, std::nullopt});
  return count->count;
}

Result<void, ClientError> RelayClient::rotate_signed_prekey(const SignedPreKeyPublic& spk) {
  return check(call(relay::RotateSignedPreKeyRequest{encode_signed_prekey(spk)},
                    "the signed prekey rotation", {relay::Status::kOk}));
}

Result<FetchedBundle, ClientError> RelayClient::fetch_bundle(const IdentityPublicKey& account) {
  const auto answer =
      call(relay::FetchBundleRequest{account}, "the bundle fetch", {relay::Status::kOk});
  if (!answer) return fail(answer.error());
  auto protocol_error = [](std::string m) {
    return fail(ClientError{ClientErrorKind::kProtocol, std::move(m), std::nullopt, std::nullopt});
  };
  const auto* b = std::get_if<relay::Bundle>(&answer->result);
  if (!b) return protocol_error("the bundle answer has no bundle");
  if (b->identity_key != account)
    return protocol_error("the relay answered with the bundle of another account");
  auto spk = decode_signed_prekey(b->signed_prekey);
  if (!spk)
    return protocol_error("the bundle's signed prekey does not decode (" +
                          std::string(to_string(spk.error())) + ")");
  FetchedBundle out;
  out.bundle.identity = b->identity_key;
  out.bundle.signed_prekey = *spk;
  if (b->one_time_prekey)
    out.bundle.one_time_prekey =
        OneTimePreKeyPublic{b->one_time_prekey->id, b->one_time_prekey->public_key};
  out.device_id = b->device_id;
  return out;
}

Result<void, ClientError> RelayClient::send(const IdentityPublicKey& recipient, ByteView envelope) {
  relay::SendRequest r{recipient, Bytes(envelope.begin(), envelope.end())};
  // Only ACCEPTED means the envelope is durably queued.
  return check(call(std::move(r), "the send", {relay::Status::kAccepted}));
}

Result<void, ClientError> RelayClient::ack(std::vector<std::uint64_t> sequences) {
  // An Ack carries at most 1000 sequences (section 70, Ack: more is TOO_LARGE):
  // a longer list goes in several requests, in order.
  const std::size_t per_request = relay::CodecLimits{}.max_acks_per_request;
  for (std::size_t at = 0; at < sequences.size(); at += per_request) {
    const auto first = sequences.begin() + static_cast<std::ptrdiff_t>(at);
    const auto last = sequences.begin() +
                      static_cast<std::ptrdiff_t>(std::min(sequences.size(), at + per_request));
    SOTTO_TRY_VOID(check(call(relay::AckRequest{std::vector<std::uint64_t>(first, last)},
                              "the acknowledgement", {relay::Status::kOk})));
  }
  return {};
}

Result<void, ClientError> RelayClient::delete_account(const IdentityKeyPair& identity) {
  if (!hello_) return fail(invalid("an anonymous connection has no account to delete"));
  if (identity.public_key != hello_->identity_key)
    return fail(invalid("delete: the identity key is not the one this connection announced"));
  // Sign_IK("Sotto/v1/DeleteAccount" || h || IK): bound to this connection.
  auto proof = relay_auth::sign_delete_account(identity, link_->handshake_hash());
  return check(
      call(relay::DeleteAccountRequest{proof}, "the account deletion", {relay::Status::kOk}));
}

// ---- deliveries ----

Result<RelayClient::Delivery, ClientError> RelayClient::wait_delivery() {
  return wait_delivery(timeout_);
}

Result<RelayClient::Delivery, ClientError> RelayClient::wait_delivery(
    std::chrono::milliseconds timeout) {
  SOTTO_TRY(auto all, wait_deliveries(1, timeout));
  return std::move(all.front());
}

// Key confirmation (protocol 70.7): the relay pushes nothing on a device connection
// until a transport message from the client has authenticated, so that a replayed
// handshake learns nothing. A connection that waits for mail before it has sent
// anything sends one request first (GetPreKeyCount, valid in every state; its answer
// is dropped). Sent without waiting for the answer: it costs no round trip.
Result<void, ClientError> RelayClient::confirm_key() {
  if (confirmed_ || !hello_) return {};
  SOTTO_TRY(auto id, submit(relay::GetPreKeyCountRequest{}));
  confirm_id_ = id;
  return {};
}

Result<std::vector<RelayClient::Delivery>, ClientError> RelayClient::wait_deliveries(
    std::size_t n, std::chrono::milliseconds timeout) {
  if (handler_) return fail(invalid("deliveries go to the delivery handler, not the queue"));
  SOTTO_TRY_VOID(confirm_key());
  SOTTO_TRY(bool arrived,
            pump_until([&] { return deliveries_.size() >= n; }, deadline_after(timeout)));
  if (!arrived)
    return fail(ClientError{ClientErrorKind::kTimeout,
                            std::to_string(deliveries_.size()) + " of " + std::to_string(n) +
                                " deliveries arrived from the relay at " +
                                link_->address().host_port() + " within " +
                                std::to_string(timeout.count()) + " ms",
                            std::nullopt, std::nullopt});
  std::vector<Delivery> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(std::move(deliveries_.front()));
    deliveries_.pop_front();
  }
  return out;
}

Result<std::vector<RelayClient::Delivery>, ClientError> RelayClient::take_deliveries() {
  SOTTO_TRY_VOID(confirm_key());
  SOTTO_TRY(bool unused, pump_until([] { return false; }, Clock::now()));
  (void)unused;
  std::vector<Delivery> out(std::make_move_iterator(deliveries_.begin()),
                            std::make_move_iterator(deliveries_.end()));
  deliveries_.clear();
  return out;
}

void RelayClient::set_delivery_handler(DeliveryHandler handler) {
  handler_ = std::move(handler);
  if (!handler_) return;
  while (!deliveries_.empty()) {
    Delivery d = std::move(deliveries_.front());
    deliveries_.pop_front();
    handler_(std::move(d));
  }
}

// ---- state ----

relay_auth::HandshakeHashView RelayClient::handshake_hash() const {
  return link_->handshake_hash();
}

const RelayAddress& RelayClient::address() const {
  return link_->address();
}

bool RelayClient::is_open() const {
  return link_ && link_->is_open();
}

void RelayClient::close() {
  if (link_) link_->close();
}

}  // namespace sotto::client
