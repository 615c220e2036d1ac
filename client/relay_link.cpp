// relay_link.cpp — see relay_link.hpp.
#include "client/relay_link.hpp"

#include <array>
#include <string>

#include <asio.hpp>

#include "common/frame.hpp"
#include "common/noise.hpp"

namespace sotto::client {

using asio::ip::tcp;

struct RelayLink::State {
  asio::io_context io{1};
  tcp::socket socket{io};
  RelayAddress address;
  std::optional<noise::NoiseTransport> transport;
  std::array<std::uint8_t, relay_auth::kHandshakeHashSize> handshake_hash{};
  FrameDecoder decoder{kMaxFrameBody};
  std::deque<Bytes> frames;            // complete frames not yet consumed
  Bytes buffer = Bytes(32 * 1024);     // one read_some
  std::optional<ClientError> failure;  // once set, the link is closed for good
};

namespace {

using State = RelayLink::State;

std::string where(const State& s) {
  return "the relay at " + s.address.host_port();
}

// Runs handlers until `done` is set or `deadline` passes; true when done.
bool run_until(State& s, const bool& done, Deadline deadline) {
  s.io.restart();
  while (!done)
    if (s.io.run_one_until(deadline) == 0) break;
  return done;
}

// After cancelling or closing: lets the outstanding handler run (with its result).
void drain(State& s, const bool& done) {
  s.io.restart();
  while (!done && s.io.run_one() > 0) {
  }
}

// Closes the link for good with `error` and returns it.
Failure<ClientError> fail_link(State& s, ClientErrorKind kind, std::string message) {
  std::error_code ignored;
  s.socket.close(ignored);
  if (!s.failure) s.failure = ClientError{kind, std::move(message), std::nullopt, std::nullopt};
  return fail(*s.failure);
}

Result<void, ClientError> write_all(State& s, ByteView data, Deadline deadline) {
  if (s.failure) return fail(*s.failure);
  bool done = false;
  std::error_code ec;
  asio::async_write(s.socket, asio::buffer(data.data(), data.size()),
                    [&](const std::error_code& e, std::size_t) {
                      ec = e;
                      done = true;
                    });
  if (!run_until(s, done, deadline)) {
    // A frame written in part cannot be resumed: the link ends here.
    std::error_code ignored;
    s.socket.close(ignored);
    drain(s, done);
    return fail_link(s, ClientErrorKind::kTimeout,
                     "timed out sending to " + where(s) + " (it stopped reading)");
  }
  if (ec)
    return fail_link(s, ClientErrorKind::kClosed,
                     "the connection to " + where(s) + " broke while sending: " + ec.message());
  return {};
}

// Reads what has arrived (at most one read_some) into the frame queue.
// false when the deadline passed with nothing read.
Result<bool, ClientError> read_more(State& s, Deadline deadline) {
  if (s.failure) return fail(*s.failure);
  bool done = false;
  std::error_code ec;
  std::size_t n = 0;
  s.socket.async_read_some(asio::buffer(s.buffer), [&](const std::error_code& e, std::size_t k) {
    ec = e;
    n = k;
    done = true;
  });
  if (!run_until(s, done, deadline)) {
    // Cancelling between reads loses nothing: partial frames stay in the decoder.
    std::error_code ignored;
    s.socket.cancel(ignored);
    drain(s, done);
  }
  if (n > 0) {
    auto frames = s.decoder.feed(ByteView(s.buffer.data(), n));
    if (!frames)
      return fail_link(
          s, ClientErrorKind::kProtocol,
          "framing error from " + where(s) + ": " + std::string(to_string(frames.error())));
    for (auto& f : *frames) s.frames.push_back(std::move(f));
  }
  if (!ec) return true;
  if (ec == asio::error::operation_aborted) return n > 0;
  if (ec == asio::error::eof) {
    if (!s.decoder.finish())
      return fail_link(s, ClientErrorKind::kClosed,
                       where(s) + " closed the connection in the middle of a frame");
    return fail_link(s, ClientErrorKind::kClosed, where(s) + " closed the connection");
  }
  return fail_link(s, ClientErrorKind::kClosed,
                   "the connection to " + where(s) + " broke: " + ec.message());
}

std::string describe(const tcp::endpoint& ep) {
  std::string a = ep.address().to_string();
  if (ep.address().is_v6()) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port());
}

// Resolves the host and connects to the first address that answers.
Result<void, ClientError> connect_tcp(State& s, Deadline deadline) {
  const std::string target = s.address.host_port();
  tcp::resolver resolver(s.io);
  tcp::resolver::results_type results;
  bool done = false;
  std::error_code ec;
  resolver.async_resolve(s.address.host, std::to_string(s.address.port),
                         tcp::resolver::numeric_service,
                         [&](const std::error_code& e, tcp::resolver::results_type r) {
                           ec = e;
                           results = std::move(r);
                           done = true;
                         });
  if (!run_until(s, done, deadline)) {
    resolver.cancel();
    drain(s, done);
    return fail_link(s, ClientErrorKind::kUnreachable,
                     "cannot reach the relay at " + target + ": resolving \"" + s.address.host +
                         "\" took longer than the deadline");
  }
  if (ec)
    return fail_link(s, ClientErrorKind::kUnreachable,
                     "cannot reach the relay at " + target + ": cannot resolve \"" +
                         s.address.host + "\": " + ec.message());

  std::string tried;
  for (const auto& entry : results) {
    const auto endpoint = entry.endpoint();
    if (!tried.empty()) tried += ", ";
    tried += describe(endpoint);
    std::error_code ignored;
    s.socket.close(ignored);
    done = false;
    s.socket.async_connect(endpoint, [&](const std::error_code& e) {
      ec = e;
      done = true;
    });
    if (!run_until(s, done, deadline)) {
      s.socket.close(ignored);
      drain(s, done);
      tried += " (no answer before the deadline)";
      break;
    }
    if (!ec) {
      s.socket.set_option(tcp::no_delay(true), ignored);
      return {};
    }
    tried += " (" + ec.message() + ")";
  }
  if (tried.empty()) tried = "no address";
  return fail_link(s, ClientErrorKind::kUnreachable,
                   "cannot reach the relay at " + target + ": tried " + tried);
}

}  // namespace

RelayLink::RelayLink(std::unique_ptr<State> state) : s_(std::move(state)) {}

RelayLink::~RelayLink() {
  if (s_) close();
}

Result<std::unique_ptr<RelayLink>, ClientError> RelayLink::open(
    const RelayAddress& address, std::optional<DeviceCredentials> device, Rng& rng,
    Deadline deadline) {
  auto s = std::make_unique<State>();
  s->address = address;
  SOTTO_TRY_VOID(connect_tcp(*s, deadline));

  // -> e, es, s, ss with P1 = the device hello (IK); -> e, es with an empty P1 (NK).
  const bool is_device = device.has_value();
  Bytes payload = is_device ? relay_auth::encode_device_hello(device->hello) : Bytes{};
  auto hs = is_device
                ? noise::sotto_ik_initiator(std::move(device->transport_key), address.key, rng)
                : noise::sotto_nk_initiator(address.key, rng);
  if (!hs)
    return fail_link(
        *s, ClientErrorKind::kHandshakeFailed,
        "cannot start the handshake with " + where(*s) + ": " + std::string(to_string(hs.error())));
  auto message1 = hs->write_message(payload);
  if (!message1)
    return fail_link(*s, ClientErrorKind::kHandshakeFailed,
                     "the relay key in the address of " + where(*s) +
                         " is not a usable X25519 key (" +
                         std::string(to_string(message1.error())) + ")");
  const auto type = is_device ? noise::HandshakeType::kIK : noise::HandshakeType::kNK;
  auto framed = encode_frame(noise::first_frame_body(type, *message1));
  if (!framed)
    return fail_link(*s, ClientErrorKind::kHandshakeFailed, "handshake message 1 does not fit");
  SOTTO_TRY_VOID(write_all(*s, *framed, deadline));

  // <- e, ee, se (IK) / <- e, ee (NK)
  while (s->frames.empty()) {
    auto more = read_more(*s, deadline);
    if (!more) {
      if (more.error().kind != ClientErrorKind::kClosed) return fail(more.error());
      // A relay that does not hold the pinned key cannot decrypt message 1 and
      // closes the connection without answering (section 6.4).
      s->failure.reset();
      return fail_link(*s, ClientErrorKind::kHandshakeFailed,
                       "handshake with " + where(*s) +
                           " failed: it closed the connection without answering. The relay key "
                           "in the address does not match this relay's key (or the relay "
                           "refused the connection because of its connection limits)");
    }
    if (!*more)
      return fail_link(*s, ClientErrorKind::kTimeout,
                       "no handshake answer from " + where(*s) + " before the deadline");
  }
  Bytes message2 = std::move(s->frames.front());
  s->frames.pop_front();
  auto p2 = hs->read_message(message2);
  if (!p2)
    return fail_link(*s, ClientErrorKind::kHandshakeFailed,
                     "handshake with " + where(*s) +
                         " failed: its answer does not authenticate against the pinned relay "
                         "key (relay key mismatch)");
  auto transport = hs->split();
  if (!transport)
    return fail_link(*s, ClientErrorKind::kHandshakeFailed, "handshake did not complete");
  std::copy(transport->handshake_hash().bytes.begin(), transport->handshake_hash().bytes.end(),
            s->handshake_hash.begin());
  s->transport.emplace(std::move(*transport));
  return std::unique_ptr<RelayLink>(new RelayLink(std::move(s)));
}

Result<void, ClientError> RelayLink::send(ByteView plaintext, Deadline deadline) {
  const Bytes one(plaintext.begin(), plaintext.end());
  return send_all(std::span<const Bytes>(&one, 1), deadline);
}

Result<void, ClientError> RelayLink::send_all(std::span<const Bytes> plaintexts,
                                              Deadline deadline) {
  if (s_->failure) return fail(*s_->failure);
  for (const auto& p : plaintexts)
    if (p.size() > noise::kMaxTransportPlaintext)
      return fail(ClientError{ClientErrorKind::kInvalidArgument,
                              "a request of " + std::to_string(p.size()) +
                                  " bytes does not fit one frame (at most " +
                                  std::to_string(noise::kMaxTransportPlaintext) + ")",
                              std::nullopt, std::nullopt});
  Bytes out;
  for (const auto& p : plaintexts) {
    // length || ENCRYPT(p), straight into the write buffer (sizes checked above).
    auto sealed = s_->transport->encrypt_frame_into(p, out);
    if (!sealed)
      return fail_link(
          *s_, ClientErrorKind::kClosed,
          "cannot encrypt for " + where(*s_) + ": " + std::string(to_string(sealed.error())));
  }
  return write_all(*s_, out, deadline);
}

Result<std::optional<SecretBytes>, ClientError> RelayLink::receive(Deadline deadline) {
  for (;;) {
    while (!s_->frames.empty()) {
      Bytes frame = std::move(s_->frames.front());
      s_->frames.pop_front();
      auto plaintext = s_->transport->decrypt(frame);
      if (plaintext) return std::optional<SecretBytes>(std::move(*plaintext));
      // Dropped (section 6.8); the 8th failure closes the transport.
      if (s_->transport->is_closed())
        return fail_link(
            *s_, ClientErrorKind::kClosed,
            "too many frames from " + where(*s_) + " failed authentication: connection closed");
    }
    SOTTO_TRY(bool got, read_more(*s_, deadline));
    if (!got) return std::optional<SecretBytes>();
  }
}

Result<void, ClientError> RelayLink::send_raw(ByteView bytes, Deadline deadline) {
  return write_all(*s_, bytes, deadline);
}

relay_auth::HandshakeHashView RelayLink::handshake_hash() const {
  return relay_auth::HandshakeHashView(s_->handshake_hash);
}

const RelayAddress& RelayLink::address() const {
  return s_->address;
}

bool RelayLink::is_open() const {
  return !s_->failure;
}

void RelayLink::close() {
  std::error_code ignored;
  if (s_->socket.is_open()) s_->socket.shutdown(tcp::socket::shutdown_both, ignored);
  s_->socket.close(ignored);
  if (!s_->failure)
    s_->failure = ClientError{ClientErrorKind::kClosed, "the connection was closed by this client",
                              std::nullopt, std::nullopt};
}

}  // namespace sotto::client
