// hostile_support.hpp — what the hostile-input suite (test_hostile_*.cpp)
// needs beyond test_device.hpp: an attacker's raw tools against the real relay.
//
//   RawSocket     a TCP connection from any 127.x.y.z source address (so one
//                 test can play many client addresses against the per-address
//                 limits), with optional small receive buffer; writes bytes as
//                 given, reads exactly N bytes, or waits for the relay to close.
//   NoiseClient   a device's IK (or an anonymous NK) handshake driven by hand
//                 over a RawSocket: the framed first message is kept (to
//                 replay it), and transport messages are sent and received
//                 one by one (to replay or forge them).
//   Pb            a protobuf writer for hand-made, possibly malformed frames.
//   Bystanders    the "nothing accepted is lost, the relay still serves
//                 others" check every case ends with: mail accepted before the
//                 attack is delivered after it, and a fresh device registers,
//                 sends and receives.
//   rss_kib()     the relay's resident memory (VmRSS of /proc/<pid>/status).
//
// Every helper REQUIREs what it needs (a failed helper fails the test that
// called it). Bytes here are public: ciphertext, public keys, wire frames.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/relay_auth.hpp"
#include "common/wire_codec.hpp"
#include "integration/test_device.hpp"
#include "support/server_messages.hpp"

namespace sotto::test {

using Millis = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// ---- a raw TCP connection ----

class RawSocket {
 public:
  // Connects to 127.0.0.1:port from `source`; nullopt when the connect fails.
  static std::optional<RawSocket> open(std::uint16_t port, const std::string& source = "127.0.0.1",
                                       int rcvbuf = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    RawSocket s(fd);
    if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1) return std::nullopt;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) return std::nullopt;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
    return s;
  }
  RawSocket(RawSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RawSocket& operator=(RawSocket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  RawSocket(const RawSocket&) = delete;
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  // Writes all of `bytes`; false when the relay has closed (EPIPE, reset).
  bool write(ByteView bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Exactly `n` bytes within `timeout`; nullopt on end of stream, error or timeout.
  std::optional<Bytes> read_exact(std::size_t n, Millis timeout) {
    Bytes out(n);
    std::size_t got = 0;
    const auto deadline = SteadyClock::now() + timeout;
    while (got < n) {
      if (!wait_readable(deadline)) return std::nullopt;
      auto r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      got += static_cast<std::size_t>(r);
    }
    return out;
  }
  // Waits until the relay closes the connection (end of stream or reset),
  // discarding whatever it sends first; false when it is still open at `timeout`.
  bool wait_closed(Millis timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    std::uint8_t sink[4096];
    for (;;) {
      if (!wait_readable(deadline)) return false;
      auto r = ::recv(fd_, sink, sizeof sink, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return true;
    }
  }
  // Reads until the relay closes the connection and returns how many bytes it
  // sent before closing; nullopt when it is still open at `timeout`.
  std::optional<std::size_t> bytes_until_closed(Millis timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    std::uint8_t sink[4096];
    std::size_t total = 0;
    for (;;) {
      if (!wait_readable(deadline)) return std::nullopt;
      auto r = ::recv(fd_, sink, sizeof sink, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return total;
      total += static_cast<std::size_t>(r);
    }
  }
  // True when the relay has closed: a zero-wait probe.
  bool closed_now() { return wait_closed(Millis(0)); }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

 private:
  explicit RawSocket(int fd) : fd_(fd) {}
  bool wait_readable(SteadyClock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left)));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }
  int fd_ = -1;
};

inline RawSocket must_open(const RelayProcess& relay, const std::string& source = "127.0.0.1",
                           int rcvbuf = 0) {
  auto s = RawSocket::open(relay.address().port, source, rcvbuf);
  REQUIRE(s.has_value());
  return std::move(*s);
}

inline Bytes framed(ByteView body) {
  Bytes out(2 + body.size());
  out[0] = static_cast<std::uint8_t>(body.size() >> 8);
  out[1] = static_cast<std::uint8_t>(body.size() & 0xff);
  for (std::size_t i = 0; i < body.size(); ++i) out[2 + i] = body[i];
  return out;
}

// ---- a Noise client driven by hand ----

class NoiseClient {
 public:
  // Writes the first frame of an IK handshake as `device` (nothing else yet).
  static NoiseClient start_ik(const RelayProcess& relay, Device& device,
                              const std::string& source = "127.0.0.1", int rcvbuf = 0) {
    auto hs =
        noise::sotto_ik_initiator(copy_key(device.transport), relay.address().key, device.rng);
    REQUIRE(hs.ok());
    auto m1 = hs->write_message(
        relay_auth::encode_device_hello(relay_auth::DeviceHello{device.id(), device.device_id}));
    REQUIRE(m1.ok());
    NoiseClient c(must_open(relay, source, rcvbuf), std::move(*hs));
    c.first_frame_ = framed(noise::first_frame_body(noise::HandshakeType::kIK, *m1));
    REQUIRE(c.sock_.write(c.first_frame_));
    return c;
  }
  // An anonymous (NK) handshake's first frame, with `payload` as P1 (empty in version 1).
  static NoiseClient start_nk(const RelayProcess& relay, Rng& rng, ByteView payload = {}) {
    auto hs = noise::sotto_nk_initiator(relay.address().key, rng);
    REQUIRE(hs.ok());
    auto m1 = hs->write_message(payload);
    REQUIRE(m1.ok());
    NoiseClient c(must_open(relay), std::move(*hs));
    c.first_frame_ = framed(noise::first_frame_body(noise::HandshakeType::kNK, *m1));
    REQUIRE(c.sock_.write(c.first_frame_));
    return c;
  }
  // Reads message 2 and splits: false when the relay closed instead.
  bool finish(Millis timeout = kTimeout) {
    auto body = read_frame(timeout);
    if (!body) return false;
    auto payload = hs_->read_message(*body);
    if (!payload) return false;
    auto t = hs_->split();
    if (!t) return false;
    transport_.emplace(std::move(*t));
    return true;
  }
  static NoiseClient connect_ik(const RelayProcess& relay, Device& device,
                                const std::string& source = "127.0.0.1", int rcvbuf = 0) {
    auto c = start_ik(relay, device, source, rcvbuf);
    REQUIRE(c.finish());
    return c;
  }

  // One transport message, framed: the exact bytes written (to replay them).
  Bytes seal(ByteView plaintext) {
    REQUIRE(transport_.has_value());
    auto ct = transport_->encrypt(plaintext);
    REQUIRE(ct.ok());
    return framed(*ct);
  }
  bool send(ByteView plaintext) { return sock_.write(seal(plaintext)); }
  bool send_request(std::uint64_t id, relay::Request r) {
    return send(relay::encode_client_request(relay::ClientRequest{id, std::move(r)}));
  }
  // The next server message (the answers of a Responses frame one by one);
  // nullopt when the relay closed or `timeout` passed.
  std::optional<relay::ServerMessage> receive(Millis timeout = kTimeout) {
    if (unread_.empty()) {
      auto body = read_frame(timeout);
      if (!body) return std::nullopt;
      auto pt = transport_->decrypt(*body);
      REQUIRE(pt.ok());
      relay::CodecLimits limits;
      limits.max_envelope = relay::kMaxNoisePlaintext;
      auto m = relay::decode_server_frame(pt->view(), limits);
      REQUIRE(m.ok());
      ++frames_read_;
      if (std::holds_alternative<relay::Responses>(*m)) ++batched_frames_;
      test::unbatch(std::move(*m), unread_);
    }
    auto next = std::move(unread_.front());
    unread_.pop_front();
    return next;
  }
  // How many Responses frames (several answers in one) receive() has read.
  std::size_t batched_frames() const { return batched_frames_; }
  // How many frames of any kind receive() has read.
  std::size_t frames_read() const { return frames_read_; }
  // The response to `id`, skipping pushes; nullopt when the relay closed.
  std::optional<relay::Response> response(std::uint64_t id, Millis timeout = kTimeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      auto m = receive(std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()));
      if (!m) return std::nullopt;
      if (auto* r = std::get_if<relay::Response>(&*m); r && r->request_id == id) return *r;
    }
    return std::nullopt;
  }

  const Bytes& first_frame() const { return first_frame_; }
  RawSocket& socket() { return sock_; }
  const noise::NoiseHandshake& handshake() const { return *hs_; }

 private:
  NoiseClient(RawSocket s, noise::NoiseHandshake hs) : sock_(std::move(s)), hs_(std::move(hs)) {}
  std::optional<Bytes> read_frame(Millis timeout) {
    auto prefix = sock_.read_exact(2, timeout);
    if (!prefix) return std::nullopt;
    const std::size_t len = (std::size_t{(*prefix)[0]} << 8) | (*prefix)[1];
    return sock_.read_exact(len, timeout);
  }
  RawSocket sock_;
  std::optional<noise::NoiseHandshake> hs_;
  std::optional<noise::NoiseTransport> transport_;
  Bytes first_frame_;
  std::deque<relay::ServerMessage> unread_;  // decoded, not yet returned by receive()
  std::size_t batched_frames_ = 0;
  std::size_t frames_read_ = 0;
};

// ---- hand-made protobuf ----

struct Pb {
  Bytes b;
  Pb& varint(std::uint64_t v) {
    while (v >= 0x80) {
      b.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Pb& tag(std::uint32_t field, std::uint32_t wire_type) { return varint((field << 3) | wire_type); }
  Pb& u(std::uint32_t field, std::uint64_t v) { return tag(field, 0).varint(v); }
  Pb& bytes(std::uint32_t field, ByteView v) {
    tag(field, 2).varint(v.size());
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Pb& msg(std::uint32_t field, const Pb& m) { return bytes(field, m.b); }
  Pb& raw(ByteView v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
};

// ClientFrame fields (proto/wire.proto).
namespace wirefield {
inline constexpr std::uint32_t kVersion = 1, kRequestId = 2, kRegister = 10, kUpload = 11,
                               kGetCount = 12, kRotate = 13, kFetch = 14, kSend = 15, kAck = 16,
                               kDelete = 17;
}

// ClientFrame{version 1, request_id, <field> = body}.
inline Bytes client_frame(std::uint64_t id, std::uint32_t field, const Pb& body) {
  Pb f;
  f.u(wirefield::kVersion, 1).u(wirefield::kRequestId, id).msg(field, body);
  return f.b;
}

inline Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes b(n);
  rng.fill(b);
  return b;
}

// ---- the relay's state after an attack ----

// Mail accepted before the attack, checked after it; plus a fresh device.
struct Bystanders {
  Device sender, receiver;
  std::vector<Bytes> accepted;

  // Registers both; the sender queues `n` envelopes for the (offline) receiver.
  void before(const RelayProcess& relay, std::size_t n = 3) {
    { auto r = receiver.connect_registered(relay); }
    auto s = sender.connect_registered(relay);
    for (std::size_t i = 0; i < n; ++i) {
      accepted.push_back(bytes_of("accepted before the attack #" + std::to_string(i)));
      must(s.send(receiver.id(), accepted.back()));
    }
  }
  // The relay is alive; everything accepted before is delivered, in order; a
  // fresh device registers, sends to the receiver and is answered.
  void after(const RelayProcess& relay) {
    INFO("relay log:\n" << relay.log());
    REQUIRE(relay.alive());
    auto r = receiver.connect(relay);
    auto got = must(r.wait_deliveries(accepted.size(), 30s));
    for (std::size_t i = 0; i < accepted.size(); ++i) CHECK(got[i].envelope == accepted[i]);
    std::vector<std::uint64_t> seqs;
    for (const auto& d : got) seqs.push_back(d.sequence);
    must(r.ack(seqs));

    Device fresh;
    auto f = fresh.connect_registered(relay);
    must(f.fetch_bundle(receiver.id()));
    must(f.send(receiver.id(), bytes_of("after the attack")));
    auto d = must(r.wait_delivery(30s));
    CHECK(d.envelope == bytes_of("after the attack"));
    must(r.ack({d.sequence}));
    must(r.send(fresh.id(), bytes_of("reply")));
    CHECK(must(f.wait_delivery(30s)).envelope == bytes_of("reply"));
  }
};

// The relay's resident set size in KiB (0 when unreadable).
inline std::uint64_t rss_kib(const RelayProcess& relay) {
  std::ifstream in("/proc/" + std::to_string(relay.pid()) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

// Waits until `done()` holds (true) or `timeout` passes (false).
template <class F>
bool eventually(F done, Millis timeout = kTimeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace sotto::test
