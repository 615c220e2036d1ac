// relay_client.hpp — a device's conversation with its relay (the relay
// protocol of docs/protocol.md section 70), as a synchronous API for
// the CLI and the tests: every call blocks the calling thread until the relay
// answered or the client's timeout passed.
//
//   auto c = RelayClient::connect(address, identity.public_key, std::move(transport_key),
//                                 device_id, rng, 10s);
//   c->register_account(identity, spk.public_key, opks);    // proof bound to this connection
//   c->send(recipient, envelope);                            // returns once ACCEPTED
//   auto d = c->wait_delivery();  c->ack({d->sequence});
//
// Requests carry ids chosen here (1, 2, 3, ...); responses may come in any order
// and are matched by id, so submit()/wait_response() can pipeline. Pushes that
// arrive while waiting for anything are queued in arrival order (or handed to
// the delivery handler, when one is set) — they are never lost by waiting for
// a response.
//
// What fails: every operation returns a ClientError (client_error.hpp). An
// error status from the relay is kRejected with the status and its name in the
// message ("the relay refused the send: NOT_FOUND (no such account)"); a
// Send is successful only on ACCEPTED. Connection-level failures (kClosed,
// kTimeout of a write, kProtocol) end the connection: later calls fail the
// same way and the caller reconnects. A wait that times out leaves the
// connection usable.
//
// Ownership: the client owns its connection (RelayLink) and its Noise keys.
// Operations that sign (register, delete) borrow the identity key pair for
// the call only; it is never stored here. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "client/client_error.hpp"
#include "client/relay_link.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/relay_address.hpp"
#include "common/result.hpp"
#include "common/wire_requests.hpp"

namespace sotto::client {

// A bundle as fetched: decoded into the core's types, not yet verified
// (verify_bundle(bundle, now) is the initiator's job, with its own clock).
struct FetchedBundle {
  PreKeyBundle bundle;
  std::uint32_t device_id = 0;
};

class RelayClient {
 public:
  using Delivery = relay::Delivery;
  using DeliveryHandler = std::function<void(Delivery)>;

  // A device connection (Noise IK): `transport_key` is the device's X25519 key
  // (the one certified at registration), `identity` and `device_id` go in the
  // device hello. The relay authenticates the connection at once if this
  // transport key and device id are the ones registered for `identity`.
  [[nodiscard]] static Result<RelayClient, ClientError> connect(const RelayAddress& address,
                                                                const IdentityPublicKey& identity,
                                                                X25519KeyPair transport_key,
                                                                std::uint32_t device_id, Rng& rng,
                                                                std::chrono::milliseconds timeout);
  // The same, from the text form of the address (kInvalidAddress when it does not parse).
  [[nodiscard]] static Result<RelayClient, ClientError> connect(std::string_view address,
                                                                const IdentityPublicKey& identity,
                                                                X25519KeyPair transport_key,
                                                                std::uint32_t device_id, Rng& rng,
                                                                std::chrono::milliseconds timeout);
  // An anonymous connection (Noise NK): fetch_bundle only (section 7.9).
  [[nodiscard]] static Result<RelayClient, ClientError> connect_anonymous(
      const RelayAddress& address, Rng& rng, std::chrono::milliseconds timeout);

  RelayClient(RelayClient&&) noexcept;
  RelayClient& operator=(RelayClient&&) noexcept;
  ~RelayClient();

  // ---- the relay protocol ----

  // Register (7.4): certifies this connection's transport key with `identity`
  // and proves possession of it, bound to this connection's handshake hash;
  // uploads the signed prekey and the one-time prekeys. On an existing account
  // this replaces its keys and drops its old one-time prekeys. `identity` must
  // be the one named in the hello (kInvalidArgument otherwise).
  [[nodiscard]] Result<void, ClientError> register_account(
      const IdentityKeyPair& identity, const SignedPreKeyPublic& signed_prekey,
      std::span<const OneTimePreKeyPublic> one_time_prekeys);
  // UploadPreKeys: returns the number of one-time prekeys now held.
  [[nodiscard]] Result<std::uint32_t, ClientError> upload_prekeys(
      std::span<const OneTimePreKeyPublic> one_time_prekeys);
  [[nodiscard]] Result<std::uint32_t, ClientError> prekey_count();
  [[nodiscard]] Result<void, ClientError> rotate_signed_prekey(
      const SignedPreKeyPublic& signed_prekey);
  // FetchBundle: consumes one of the account's one-time prekeys when any is left.
  [[nodiscard]] Result<FetchedBundle, ClientError> fetch_bundle(const IdentityPublicKey& account);
  // Send: succeeds only once the relay answered ACCEPTED (durably queued).
  [[nodiscard]] Result<void, ClientError> send(const IdentityPublicKey& recipient,
                                               ByteView envelope);
  // Acknowledges `sequences`, in requests of at most 1000 (the relay's limit per Ack).
  [[nodiscard]] Result<void, ClientError> ack(std::vector<std::uint64_t> sequences);
  // DeleteAccount with the deletion proof bound to this connection.
  [[nodiscard]] Result<void, ClientError> delete_account(const IdentityKeyPair& identity);

  // ---- deliveries (pushes) ----

  // The next queued delivery, waiting up to the timeout for one (kTimeout).
  [[nodiscard]] Result<Delivery, ClientError> wait_delivery();
  [[nodiscard]] Result<Delivery, ClientError> wait_delivery(std::chrono::milliseconds timeout);
  // Exactly `n` deliveries in push order (kTimeout if fewer arrive in time;
  // the ones that did arrive stay queued).
  [[nodiscard]] Result<std::vector<Delivery>, ClientError> wait_deliveries(
      std::size_t n, std::chrono::milliseconds timeout);
  // Reads what has already arrived without waiting, then hands over the queue.
  [[nodiscard]] Result<std::vector<Delivery>, ClientError> take_deliveries();
  // Deliveries go to `handler` (in push order, from inside whichever call is
  // reading) instead of the queue; queued ones are handed over at once.
  void set_delivery_handler(DeliveryHandler handler);

  // ---- lower level: pipelining, raw frames (tests, diagnostics) ----

  // Sends a request without waiting; returns its id.
  [[nodiscard]] Result<std::uint64_t, ClientError> submit(relay::Request request);
  // Sends all `requests` in one write (a burst), up to kMaxBatch to a frame (a
  // ClientBatch); returns their ids in order.
  [[nodiscard]] Result<std::vector<std::uint64_t>, ClientError> submit_all(
      std::vector<relay::Request> requests);
  // The response to request `id` (any status: the caller interprets it).
  [[nodiscard]] Result<relay::Response, ClientError> wait_response(std::uint64_t id);
  // Sends `plaintext` as one transport message, as is (need not be a valid ClientFrame).
  [[nodiscard]] Result<void, ClientError> send_plaintext(ByteView plaintext);
  // Writes bytes on the TCP stream outside Noise.
  [[nodiscard]] Result<void, ClientError> send_raw(ByteView bytes);

  // ---- state ----
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  relay_auth::HandshakeHashView handshake_hash() const;
  const RelayAddress& address() const;
  bool is_open() const;
  void close();

 private:
  RelayClient(std::unique_ptr<RelayLink> link, std::optional<relay_auth::DeviceHello> hello,
              std::optional<X25519PublicKey> transport_public, std::chrono::milliseconds timeout);

  // Reads and dispatches until `done()` or the deadline (false: deadline passed).
  Result<bool, ClientError> pump_until(const std::function<bool()>& done, Deadline deadline);
  Result<void, ClientError> dispatch(ByteView plaintext);
  void file_response(relay::Response response);
  void deliver(Delivery d);
  // Sends one request if none was sent yet on this device connection (70.7).
  Result<void, ClientError> confirm_key();
  // A request answered with one of `expected` (else kRejected naming `what`).
  Result<relay::Response, ClientError> call(relay::Request request, const char* what,
                                            std::initializer_list<relay::Status> expected);

  std::unique_ptr<RelayLink> link_;
  std::optional<relay_auth::DeviceHello> hello_;     // none on an anonymous connection
  std::optional<X25519PublicKey> transport_public_;  // the Noise static key (IK)
  std::chrono::milliseconds timeout_;
  std::uint64_t next_request_id_ = 1;
  bool confirmed_ = false;                  // a client transport message was sent
  std::optional<std::uint64_t> confirm_id_;  // confirm_key()'s request, answer dropped
  std::map<std::uint64_t, relay::Response> responses_;
  std::deque<Delivery> deliveries_;
  DeliveryHandler handler_;
};

}  // namespace sotto::client
