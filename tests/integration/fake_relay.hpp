// fake_relay.hpp — a scripted relay for the client-side hostile-input suite
// (test_hostile_client.cpp): a TCP server on 127.0.0.1 (a port the kernel
// picks), run by one thread of the test, that speaks the relay protocol of
// docs/protocol.md section 70 well enough for the real `sotto` to connect
// (Noise IK/NK responder from common/noise*, framing from common/frame*,
// requests and responses from common/wire_codec*), and then does whatever the
// test's script says.
//
//   FakeRelay relay;                                 // key, port, thread
//   profile.init(relay.address_text());              // Register answered OK
//   relay.queue(envelope);                           // mailbox, sequence 1, 2, ...
//   relay.set_script([](FakeRelay::Conn& c) {        // for the next connections
//     if (!c.handshake()) return;
//     c.send_plain(garbage);                         // a hostile frame
//   });
//   relay.set_script(FakeRelay::honest());           // back to a relay that behaves
//
// The honest script answers like sotto-relay: Register and Ack OK (acked
// sequences leave the mailbox), GetPreKeyCount/UploadPreKeys with a count,
// Send ACCEPTED (kept in sent()), FetchBundle NOT_FOUND; it pushes the mailbox
// right after the handshake. Requests are decoded with the relay's own
// CodecLimits (an Ack of more than 1000 sequences is answered MALFORMED, as
// the real relay does).
//
// What fails: every read and write has a deadline and gives up when the
// relay is stopping; a script that fails simply returns (the connection is
// then closed). Connections are served one at a time, in accept order.
// Ownership: the relay owns its key pair (wiped on destruction), its socket
// and its thread; the destructor stops the thread and closes every socket.
// Everything it sees or sends is public (ciphertext, public keys, frames).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/relay_address.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"

namespace sotto::test {

class FakeRelay {
 public:
  using Millis = std::chrono::milliseconds;
  using SteadyClock = std::chrono::steady_clock;

  // One accepted connection, handed to the script.
  class Conn {
   public:
    Conn(FakeRelay& relay, int fd) : relay_(relay), fd_(fd) {}
    Conn(const Conn&) = delete;
    // A graceful close: FIN after what was written, then read until the client
    // closes too. Closing with the client's unread bytes in the receive buffer
    // would send a RST, and the client could see "connection reset" instead of
    // the end of the stream the script meant to show it.
    ~Conn() {
      ::shutdown(fd_, SHUT_WR);
      swallow(Millis(2000));
      ::close(fd_);
    }

    // The client's first frame body (type byte || Noise message 1).
    std::optional<Bytes> read_first_frame(Millis timeout = kIo) { return read_frame(timeout); }
    // Reads message 1 and answers as the relay with `key` (its own by
    // default): <- e, ee, se (IK) or <- e, ee (NK), then Split().
    bool handshake(Millis timeout = kIo) { return handshake_as(relay_.key_, timeout); }
    bool handshake_as(const X25519KeyPair& key, Millis timeout = kIo) {
      auto body = read_frame(timeout);
      if (!body) return false;
      auto first = noise::parse_first_frame_body(*body);
      if (!first) return false;
      auto hs = noise::sotto_responder(first->pattern,
                                       X25519KeyPair{key.secret.clone(), key.public_key}, rng_);
      if (!hs) return false;
      if (!hs->read_message(first->message)) return false;
      auto m2 = hs->write_message({});
      if (!m2) return false;
      auto t = hs->split();
      if (!t) return false;
      transport_.emplace(std::move(*t));
      return write_frame(*m2);
    }
    // Raw bytes on the stream, outside framing and Noise.
    bool write_raw(ByteView bytes) {
      std::size_t done = 0;
      while (done < bytes.size()) {
        auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
      }
      return true;
    }
    // length (u16 big-endian) || body, without encode_frame's checks.
    bool write_frame(ByteView body) {
      Bytes out(2 + body.size());
      out[0] = static_cast<std::uint8_t>((body.size() >> 8) & 0xff);
      out[1] = static_cast<std::uint8_t>(body.size() & 0xff);
      std::copy(body.begin(), body.end(), out.begin() + 2);
      return write_raw(out);
    }
    // One transport message carrying `plaintext` (need not be a valid ServerFrame).
    bool send_plain(ByteView plaintext) {
      if (!transport_) return false;
      auto ct = transport_->encrypt(plaintext);
      if (!ct) return false;
      return write_frame(*ct);
    }
    bool send(const relay::ServerMessage& m) { return send_plain(relay::encode_server_message(m)); }
    // The next request; nullopt when the client closed, the time passed, or
    // the frame did not decrypt or decode.
    std::optional<relay::ClientRequest> next_request(Millis timeout = kIo) {
      auto body = read_frame(timeout);
      if (!body || !transport_) return std::nullopt;
      auto pt = transport_->decrypt(*body);
      if (!pt) return std::nullopt;
      auto r = relay::decode_client_frame(pt->view(), relay::CodecLimits{});
      if (!r) {
        // Answered the way sotto-relay answers a frame it refuses.
        if (r.error().request_id)
          send(relay::Response{*r.error().request_id, r.error().status, std::nullopt, {}});
        ++relay_.refused_;
        return next_request(timeout);
      }
      return std::move(*r);
    }
    // The honest answer to `r` (and its effect on the relay's state).
    relay::Response answer(const relay::ClientRequest& r) { return relay_.answer(r); }
    // Pushes every queued delivery in one Push (nothing when the mailbox is empty).
    bool push_mailbox() {
      auto mail = relay_.mailbox();
      if (mail.empty()) return true;
      return send(relay::Push{std::move(mail)});
    }
    // Answers requests honestly until the client closes or is idle for `idle`.
    void serve(Millis idle = kIo) {
      while (auto r = next_request(idle)) {
        if (!send(answer(*r))) return;
      }
    }
    // Reads and discards until the client closes or `timeout` passes.
    void swallow(Millis timeout = kIo) {
      const auto deadline = SteadyClock::now() + timeout;
      std::uint8_t sink[4096];
      while (wait_readable(deadline)) {
        auto n = ::recv(fd_, sink, sizeof sink, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
      }
    }

   private:
    bool wait_readable(SteadyClock::time_point deadline) {
      for (;;) {
        if (relay_.stopping_) return false;
        const auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 50)));
        if (r < 0 && errno != EINTR) return false;
        if (r > 0) return true;
      }
    }
    bool read_exact(std::uint8_t* out, std::size_t n, SteadyClock::time_point deadline) {
      std::size_t got = 0;
      while (got < n) {
        if (!wait_readable(deadline)) return false;
        auto r = ::recv(fd_, out + got, n - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
      }
      return true;
    }
    std::optional<Bytes> read_frame(Millis timeout) {
      const auto deadline = SteadyClock::now() + timeout;
      std::uint8_t prefix[2];
      if (!read_exact(prefix, 2, deadline)) return std::nullopt;
      Bytes body((std::size_t{prefix[0]} << 8) | prefix[1]);
      if (body.empty() || !read_exact(body.data(), body.size(), deadline)) return std::nullopt;
      return body;
    }

    FakeRelay& relay_;
    int fd_;
    SystemRng rng_;
    std::optional<noise::NoiseTransport> transport_;
  };
  using Script = std::function<void(Conn&)>;

  // Per read: generous, the machine is loaded; scripts end as soon as the client closes.
  static constexpr Millis kIo{20'000};

  // A relay that behaves: handshake, push the mailbox, answer every request.
  static Script honest() {
    return [](Conn& c) {
      if (!c.handshake()) return;
      if (!c.push_mailbox()) return;
      c.serve();
    };
  }

  FakeRelay() : key_(crypto::x25519_generate(rng_)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 16) != 0)
      throw std::runtime_error("fake relay: cannot listen on 127.0.0.1");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    script_ = honest();
    thread_ = std::thread([this] { run(); });
  }
  FakeRelay(const FakeRelay&) = delete;
  ~FakeRelay() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }

  std::string address_text() const {
    return format_relay_address("127.0.0.1", port_, key_.public_key);
  }
  std::uint16_t port() const { return port_; }
  const X25519PublicKey& public_key() const { return key_.public_key; }

  void set_script(Script s) {
    std::lock_guard lock(mu_);
    script_ = std::move(s);
  }
  // Queues an envelope under the next sequence (1, 2, ...); returns it.
  std::uint64_t queue(Bytes envelope) {
    std::lock_guard lock(mu_);
    const auto seq = next_sequence_++;
    mailbox_.push_back(relay::Delivery{seq, std::move(envelope)});
    return seq;
  }
  std::vector<relay::Delivery> mailbox() const {
    std::lock_guard lock(mu_);
    return mailbox_;
  }
  void clear_mailbox() {
    std::lock_guard lock(mu_);
    mailbox_.clear();
  }
  // The next sequence queue() will use (scripts that push by hand use it too).
  std::uint64_t take_sequence() {
    std::lock_guard lock(mu_);
    return next_sequence_++;
  }
  std::optional<relay::RegisterRequest> registered() const {
    std::lock_guard lock(mu_);
    return registered_;
  }
  // Every sequence acknowledged with OK, in order.
  std::vector<std::uint64_t> acked() const {
    std::lock_guard lock(mu_);
    return acked_;
  }
  // Ack requests answered with an error (too many sequences).
  std::size_t refused() const { return refused_; }
  std::size_t connections() const { return connections_; }

  // The honest answer, as sotto-relay gives it.
  relay::Response answer(const relay::ClientRequest& r) {
    std::lock_guard lock(mu_);
    relay::Response out{r.request_id, relay::Status::kOk, std::nullopt, {}};
    if (auto* reg = std::get_if<relay::RegisterRequest>(&r.request)) {
      registered_ = *reg;
      prekeys_ = static_cast<std::uint32_t>(reg->one_time_prekeys.size());
    } else if (auto* up = std::get_if<relay::UploadPreKeysRequest>(&r.request)) {
      prekeys_ += static_cast<std::uint32_t>(up->one_time_prekeys.size());
      out.result = relay::PreKeyCount{prekeys_};
    } else if (std::holds_alternative<relay::GetPreKeyCountRequest>(r.request)) {
      out.result = relay::PreKeyCount{prekeys_};
    } else if (auto* ack = std::get_if<relay::AckRequest>(&r.request)) {
      for (auto s : ack->sequences) {
        acked_.push_back(s);
        std::erase_if(mailbox_, [&](const relay::Delivery& d) { return d.sequence == s; });
      }
    } else if (auto* send = std::get_if<relay::SendRequest>(&r.request)) {
      sent_.push_back(send->envelope);
      out.status = relay::Status::kAccepted;
    } else if (std::holds_alternative<relay::FetchBundleRequest>(r.request)) {
      out.status = relay::Status::kNotFound;
    }
    return out;
  }

 private:
  void run() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      Script script;
      {
        std::lock_guard lock(mu_);
        script = script_;
      }
      Conn c(*this, fd);
      script(c);
    }
  }

  SystemRng rng_;
  X25519KeyPair key_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> refused_{0};
  mutable std::mutex mu_;
  Script script_;
  std::vector<relay::Delivery> mailbox_;
  std::uint64_t next_sequence_ = 1;
  std::optional<relay::RegisterRequest> registered_;
  std::uint32_t prekeys_ = 0;
  std::vector<std::uint64_t> acked_;
  std::vector<Bytes> sent_;
  std::thread thread_;
};

}  // namespace sotto::test
