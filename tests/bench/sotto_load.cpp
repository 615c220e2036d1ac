// sotto_load.cpp — see sotto_load.hpp.
#include "bench/sotto_load.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <span>

#include "common/prekeys.hpp"
#include "common/relay_auth.hpp"

namespace sotto::bench {

using asio::ip::tcp;
constexpr std::uint32_t kDeviceId = 1;

std::vector<Account> make_accounts(std::size_t n, Rng& rng) {
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  std::vector<Account> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto identity = generate_identity(rng);
    auto transport = crypto::x25519_generate(rng);
    auto spk = generate_signed_prekey(identity, 1, now, rng);
    Bytes encoded = encode_signed_prekey(spk.public_key);
    out.push_back(Account{std::move(identity), std::move(transport), std::move(encoded)});
  }
  return out;
}

// ---- one device connection ----

DeviceConn::DeviceConn(asio::io_context& io, std::size_t read_buffer)
    : socket_(io), read_buffer_(read_buffer) {
  limits_.max_frame = relay::kMaxNoisePlaintext;
  limits_.max_envelope = relay::kMaxNoisePlaintext;
}

void DeviceConn::start(const RelayAddress& address, const Account& account, Rng& rng,
                       std::function<void(std::optional<std::string>)> ready) {
  ready_ = std::move(ready);
  auto hs = noise::sotto_ik_initiator(
      X25519KeyPair{account.transport.secret.clone(), account.transport.public_key}, address.key,
      rng);
  if (!hs) return failed("cannot start the IK handshake");
  handshake_.emplace(std::move(*hs));
  // -> e, es, s, ss with P1 = the device hello
  auto m1 = handshake_->write_message(
      relay_auth::encode_device_hello({account.identity.public_key, kDeviceId}));
  if (!m1) return failed("cannot write handshake message 1");
  auto framed = encode_frame(noise::first_frame_body(noise::HandshakeType::kIK, *m1));
  if (!framed) return failed("handshake message 1 does not fit a frame");
  pending_ = std::move(*framed);
  std::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(address.host, ec), address.port);
  if (ec) return failed("bad relay host " + address.host);
  socket_.async_connect(ep, [self = shared_from_this()](const std::error_code& e) {
    if (e) return self->failed("connect: " + e.message());
    std::error_code ignored;
    self->socket_.set_option(tcp::no_delay(true), ignored);
    self->open_ = true;
    self->flush();
    self->read();
  });
}

std::uint64_t DeviceConn::request(relay::Request r) {
  const std::uint64_t id = next_id_++;
  if (!open_ || !transport_) return id;
  staged_.push_back(relay::ClientRequest{id, std::move(r)});
  // Written after the handlers of this turn have queued theirs: one frame for all.
  if (!write_active_ && !flush_posted_) {
    flush_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush();
    });
  }
  return id;
}

// The staged requests, in as few frames as they fit, encrypted into the next write.
bool DeviceConn::seal_staged() {
  if (staged_.empty()) return true;
  // Batch frames within what every relay accepts, as the real client's.
  for (const Bytes& plain : relay::encode_client_requests(staged_)) {
    if (!transport_->encrypt_frame_into(plain, pending_)) {
      failed("cannot encrypt a request");
      return false;
    }
  }
  staged_.clear();
  return true;
}

void DeviceConn::flush() {
  if (write_active_ || !open_) return;
  if (transport_ && !seal_staged()) return;
  if (pending_.empty()) return;
  std::swap(pending_, writing_);
  pending_.clear();
  write_active_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const std::error_code& e, std::size_t) {
                      self->write_active_ = false;
                      if (e) return self->failed("write: " + e.message());
                      self->flush();
                    });
}

void DeviceConn::read() {
  socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                          const std::error_code& e, std::size_t n) {
    if (e)
      return self->failed(e == asio::error::eof ? "the relay closed the connection"
                                                : "read: " + e.message());
    auto frames = self->decoder_.feed(ByteView(self->read_buffer_.data(), n));
    if (!frames) return self->failed("framing error");
    for (auto& f : *frames) {
      if (!self->open_) return;
      self->on_frame(std::move(f));
    }
    if (self->open_ && self->on_read_done) self->on_read_done();
    if (self->open_) self->read();
  });
}

void DeviceConn::on_frame(Bytes frame) {
  if (!transport_) {
    // <- e, ee, se; then Split()
    if (!handshake_->read_message(frame)) return failed("handshake message 2 did not verify");
    auto t = handshake_->split();
    if (!t) return failed("handshake did not complete");
    std::copy(t->handshake_hash().bytes.begin(), t->handshake_hash().bytes.end(), hash_.begin());
    transport_.emplace(std::move(*t));
    handshake_.reset();
    if (auto r = std::exchange(ready_, nullptr)) r(std::nullopt);
    return;
  }
  auto plain = transport_->decrypt(frame);
  if (!plain) return failed("a frame from the relay failed authentication");
  auto message = relay::decode_server_frame(plain->view(), limits_);
  if (!message) return failed("undecodable frame from the relay");
  if (auto* r = std::get_if<relay::Response>(&*message)) {
    if (on_response) on_response(*r);
  } else if (auto* batch = std::get_if<relay::Responses>(&*message)) {
    for (auto& one : batch->responses) {
      if (!open_) return;
      if (on_response) on_response(one);
    }
  } else if (on_push) {
    on_push(std::get<relay::Push>(*message));
  }
}

void DeviceConn::failed(std::string why) {
  const bool was_open = open_;
  open_ = false;
  std::error_code ignored;
  socket_.close(ignored);
  if (auto r = std::exchange(ready_, nullptr)) return r(why);
  if (was_open && on_failure) on_failure(std::move(why));
}

void DeviceConn::close() {
  open_ = false;
  ready_ = nullptr;
  std::error_code ignored;
  socket_.close(ignored);
}

// ---- a fleet of connections ----

SottoFleet::SottoFleet(RelayAddress address, std::size_t read_buffer)
    : address_(std::move(address)), read_buffer_(read_buffer) {}

SottoFleet::~SottoFleet() {
  close_all();
}

void SottoFleet::close_all() {
  for (auto& c : conns_) {
    c->on_failure = nullptr;
    c->on_response = nullptr;
    c->on_push = nullptr;
    c->close();
  }
  io_.restart();
  io_.poll();  // the cancelled handlers run (and release their connections)
  conns_.clear();
}

std::size_t SottoFleet::open_count() const {
  std::size_t n = 0;
  for (const auto& c : conns_) n += c->open() ? 1 : 0;
  return n;
}

namespace {

relay::RegisterRequest register_request(const Account& a, const std::array<std::uint8_t, 64>& h) {
  relay::RegisterRequest r;
  r.identity_key = a.identity.public_key;
  r.device_id = kDeviceId;
  r.transport_key = a.transport.public_key;
  // Sign_IK("Sotto/v1/TransportKey" || tk || device_id)
  r.transport_key_signature =
      relay_auth::sign_transport_key(a.identity, a.transport.public_key, kDeviceId);
  r.signed_prekey = a.signed_prekey;
  // Sign_IK("Sotto/v1/Register" || h || IK || tk || device_id)
  r.proof_of_possession = relay_auth::sign_registration(
      a.identity, relay_auth::HandshakeHashView(h), a.transport.public_key, kDeviceId);
  return r;
}

}  // namespace

Result<void, std::string> SottoFleet::connect_all(const std::vector<Account>& accounts, Setup setup,
                                                  std::size_t parallel,
                                                  std::chrono::seconds timeout) {
  std::size_t next = 0, done = 0;
  std::optional<std::string> error;
  std::function<void()> launch = [&] {
    if (error || next >= accounts.size()) return;
    const std::size_t i = next++;
    auto c = std::make_shared<DeviceConn>(io_, read_buffer_);
    conns_.push_back(c);
    auto finish = [&, i](std::optional<std::string> why) {
      if (why && !error) error = "connection " + std::to_string(i) + ": " + *why;
      ++done;
      launch();
    };
    c->start(address_, accounts[i], rng_, [&, c, i, finish](std::optional<std::string> why) {
      if (why) return finish(why);
      c->on_failure = [finish](std::string w) {
        auto complete = finish;
        complete(std::move(w));
      };
      c->on_response = [c, finish](relay::Response& r) {
        // Copies first: clearing the callbacks destroys this lambda's captures.
        auto complete = finish;
        auto conn = c;
        conn->on_response = nullptr;
        conn->on_failure = nullptr;
        if (r.status != relay::Status::kOk)
          return complete("setup refused: " + std::string(relay::to_string(r.status)));
        complete(std::nullopt);
      };
      if (setup == Setup::kRegister)
        c->request(register_request(accounts[i], c->handshake_hash()));
      else
        c->request(relay::GetPreKeyCountRequest{});
    });
  };
  for (std::size_t k = 0; k < std::max<std::size_t>(parallel, 1); ++k) launch();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  io_.restart();
  while (done < accounts.size() && !error) {
    if (std::chrono::steady_clock::now() > deadline) {
      error = std::to_string(done) + " of " + std::to_string(accounts.size()) +
              " connections set up before the deadline";
      break;
    }
    io_.run_one_for(std::chrono::milliseconds(100));
  }
  if (error) {
    // Connections still being set up hold callbacks into this frame: drop them all.
    close_all();
    return fail(*error);
  }
  return {};
}

// ---- the load target ----

namespace {

// The relay answers SERVER_BUSY past 32 requests awaiting the store on one
// connection (server/connection.cpp, kMaxInFlight): a sender stays below it.
constexpr std::size_t kMaxSendsOutstanding = 32;
constexpr std::size_t kMaxAcksOutstanding = 4;
constexpr std::size_t kMaxAcksPerRequest = 1000;  // relay CodecLimits::max_acks_per_request

class SottoTarget final : public LoadTarget {
 public:
  SottoTarget(const RelayAddress& address, std::size_t pairs)
      : fleet_(address, 64 * 1024), pairs_(pairs), senders_(pairs), receivers_(pairs) {}

  Result<void, std::string> setup() {
    SystemRng rng;
    auto accounts = make_accounts(2 * pairs_, rng);
    SOTTO_TRY_VOID(fleet_.connect_all(accounts, Setup::kRegister, 64, std::chrono::seconds(300)));
    auto& conns = fleet_.conns();
    for (std::size_t p = 0; p < pairs_; ++p) {
      auto& s = senders_[p];
      s.conn = conns[p];
      s.recipient = accounts[pairs_ + p].identity.public_key;
      s.conn->on_response = [this, p](relay::Response& r) { on_send_response(p, r); };
      s.conn->on_failure = [this](std::string why) { failure_ = "sender: " + why; };
      auto& r = receivers_[p];
      r.conn = conns[pairs_ + p];
      r.conn->on_push = [this, p](relay::Push& push) { on_push(p, push); };
      r.conn->on_response = [this, p](relay::Response& resp) { on_ack_response(p, resp); };
      r.conn->on_read_done = [this, p] { send_acks(p); };
      r.conn->on_failure = [this](std::string why) { failure_ = "receiver: " + why; };
    }
    return {};
  }

  bool send(std::size_t pair, Bytes message) override {
    auto& s = senders_[pair];
    if (s.outstanding.size() >= kMaxSendsOutstanding) return false;
    auto stamp = read_stamp(message);
    if (!stamp) {
      failure_ = "a message without its stamp";
      return false;
    }
    // Kept for a retry: the stamp and size, from which make_message rebuilds it.
    const std::size_t size = message.size();
    const auto id = s.conn->request(relay::SendRequest{s.recipient, std::move(message)});
    s.outstanding.push_back(Outstanding{id, *stamp, size});
    return true;
  }

  void poll(std::chrono::milliseconds max_wait) override {
    auto& io = fleet_.io();
    if (io.stopped()) io.restart();
    io.run_one_for(max_wait);
    io.poll();
  }

  std::optional<std::string> failure() const override { return failure_; }
  std::uint64_t errors() const override { return errors_; }

 private:
  struct Outstanding {
    std::uint64_t request_id = 0;
    Stamp stamp;
    std::size_t size = 0;
  };
  struct Sender {
    std::shared_ptr<DeviceConn> conn;
    IdentityPublicKey recipient;
    std::vector<Outstanding> outstanding;  // at most kMaxSendsOutstanding, oldest first
  };
  struct Receiver {
    std::shared_ptr<DeviceConn> conn;
    std::vector<std::uint64_t> unacked;
    std::size_t acks_outstanding = 0;
  };

  void on_send_response(std::size_t p, relay::Response& r) {
    auto& s = senders_[p];
    auto it = std::find_if(s.outstanding.begin(), s.outstanding.end(),
                           [&](const Outstanding& o) { return o.request_id == r.request_id; });
    if (it == s.outstanding.end()) return;
    const Outstanding sent = *it;
    s.outstanding.erase(it);
    if (r.status == relay::Status::kAccepted) return;
    ++errors_;
    if (r.status != relay::Status::kServerBusy && r.status != relay::Status::kRateLimited) {
      failure_ = "a send was refused: " + std::string(relay::to_string(r.status));
      return;
    }
    // Retried at once, the same bytes with the original stamp: the wait counts in
    // its latency.
    const auto id =
        s.conn->request(relay::SendRequest{s.recipient, make_message(sent.size, sent.stamp)});
    s.outstanding.push_back(Outstanding{id, sent.stamp, sent.size});
  }

  void on_push(std::size_t p, relay::Push& push) {
    auto& r = receivers_[p];
    for (auto& d : push.deliveries) {
      r.unacked.push_back(d.sequence);
      if (on_receive) on_receive(d.envelope);
    }
    // Acknowledged once the whole read has been handled (on_read_done): one Ack
    // for every envelope of the pushes that arrived together.
  }

  void on_ack_response(std::size_t p, relay::Response& resp) {
    auto& r = receivers_[p];
    if (r.acks_outstanding > 0) --r.acks_outstanding;
    if (resp.status != relay::Status::kOk) ++errors_;
  }

  // One Ack for everything received so far, at most kMaxAcksOutstanding in flight.
  void send_acks(std::size_t p) {
    auto& r = receivers_[p];
    while (!r.unacked.empty() && r.acks_outstanding < kMaxAcksOutstanding) {
      const std::size_t n = std::min(r.unacked.size(), kMaxAcksPerRequest);
      std::vector<std::uint64_t> seqs(r.unacked.begin(), r.unacked.begin() + static_cast<long>(n));
      r.unacked.erase(r.unacked.begin(), r.unacked.begin() + static_cast<long>(n));
      r.conn->request(relay::AckRequest{std::move(seqs)});
      ++r.acks_outstanding;
    }
  }

  SottoFleet fleet_;
  std::size_t pairs_;
  std::vector<Sender> senders_;
  std::vector<Receiver> receivers_;
  std::optional<std::string> failure_;
  std::uint64_t errors_ = 0;
};

}  // namespace

Result<std::unique_ptr<LoadTarget>, std::string> make_sotto_target(const RelayAddress& address,
                                                                   std::size_t pairs) {
  auto t = std::make_unique<SottoTarget>(address, pairs);
  SOTTO_TRY_VOID(t->setup());
  return std::unique_ptr<LoadTarget>(std::move(t));
}

}  // namespace sotto::bench
