// peer_floor.cpp — the floor's server process and clients (floor_wire.hpp):
// the floor relay started on a free loopback port, and its 2 x pairs clients
// driven from one thread over poll(2), as the redis clients are. A sender
// stages the messages it is handed between two polls and seals them as one
// SENDs frame (or more, past 32 messages or 16384 bytes) when the next poll
// starts, as Sotto's client seals a turn's requests as one ClientBatch; it
// checks that the ACCEPTED counters come back in order. A receiver opens PUSH
// frames, reports each message and answers every read that carried any with
// one ACK.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/floor_wire.hpp"
#include "bench/peers.hpp"
#include "integration/relay_process.hpp"

namespace sotto::bench {
namespace {

namespace fl = floor;

struct FloorClient {
  int fd = -1;
  std::uint8_t role = 0;
  fl::Cipher out, in;
  std::vector<std::uint8_t> outbuf;
  std::size_t out_sent = 0;
  std::vector<std::uint8_t> inbuf;
  bool registered = false;
  fl::Batch staged{'B', fl::kMaxBatch, {}, 0, fl::kMaxBatchFrame};  // SENDs of this turn (sender)
  std::uint64_t accepted = 0;  // the last ACCEPTED counter (sender)
};

class FloorTarget final : public LoadTarget {
 public:
  FloorTarget(std::size_t pairs, bool aead) : clients_(2 * pairs), pairs_(pairs) {
    for (auto& c : clients_) c.out.aead = c.in.aead = aead;
  }
  ~FloorTarget() override {
    for (auto& c : clients_)
      if (c.fd >= 0) ::close(c.fd);
  }

  Result<void, std::string> setup(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      const auto pair = static_cast<std::uint32_t>(i % pairs_);
      c.role = i < pairs_ ? 'S' : 'R';
      c.out.key = fl::key_for(fl::Direction::kToRelay, c.role, pair);
      c.in.key = fl::key_for(fl::Direction::kToClient, c.role, pair);
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        return fail("floor: connect: " + std::string(std::strerror(errno)));
      const int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const std::uint8_t hello[5] = {
          c.role, static_cast<std::uint8_t>(pair >> 24), static_cast<std::uint8_t>(pair >> 16),
          static_cast<std::uint8_t>(pair >> 8), static_cast<std::uint8_t>(pair)};
      std::uint8_t reply = 0;
      if (::send(c.fd, hello, sizeof hello, MSG_NOSIGNAL) != 5 || ::recv(c.fd, &reply, 1, 0) != 1 ||
          reply != 'H')
        return fail(std::string("floor: the hello was not answered"));
      c.registered = true;
    }
    fds_.resize(clients_.size());
    scratch_.resize(256 * 1024);
    return {};
  }

  bool send(std::size_t pair, Bytes message) override {
    auto& c = clients_[pair];
    if (message.size() > fl::kMaxPlain - 5) return false;
    if (!c.staged.fits(2 + message.size())) c.staged.seal_into(c.out, c.outbuf);
    c.staged.add_message(message.data(), message.size());
    return true;
  }

  void poll(std::chrono::milliseconds max_wait) override {
    // What the previous calls queued goes out first: the SENDs handed over
    // since the last poll as one frame, then one send per connection.
    for (auto& c : clients_) {
      c.staged.seal_into(c.out, c.outbuf);
      flush(c);
    }
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      short events = POLLIN;
      if (c.out_sent < c.outbuf.size()) events |= POLLOUT;
      fds_[i] = pollfd{failure_ ? -1 : c.fd, events, 0};
    }
    const int n = ::poll(fds_.data(), fds_.size(), static_cast<int>(max_wait.count()));
    if (n <= 0) return;
    for (std::size_t i = 0; i < clients_.size() && !failure_; ++i) {
      auto& c = clients_[i];
      if (fds_[i].revents & POLLOUT) flush(c);
      if (fds_[i].revents & (POLLIN | POLLERR | POLLHUP)) read_once(c);
    }
  }

  std::optional<std::string> failure() const override { return failure_; }
  std::uint64_t errors() const override { return 0; }

 private:
  void flush(FloorClient& c) {
    while (c.out_sent < c.outbuf.size()) {
      const ssize_t n = ::send(c.fd, c.outbuf.data() + c.out_sent, c.outbuf.size() - c.out_sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) failure_ = "floor: send: " + std::string(std::strerror(errno));
        break;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    if (c.out_sent == c.outbuf.size()) {
      c.outbuf.clear();
      c.out_sent = 0;
    }
  }

  void read_once(FloorClient& c) {
    const ssize_t got = ::recv(c.fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
    if (got <= 0) {
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
      failure_ = "floor: the relay closed a connection";
      return;
    }
    c.inbuf.insert(c.inbuf.end(), scratch_.data(), scratch_.data() + got);
    std::uint32_t pushes = 0;
    const std::size_t used =
        fl::for_each_frame(c.inbuf, 0, [&](std::uint8_t* body, std::size_t len) {
          if (!c.in.open(body, len)) return false;
          const std::size_t plain = len - fl::kTag;
          if (c.role == 'S') {
            // ACCEPTEDs: 1..32 counters, each the next one.
            const std::size_t n = fl::batch_count(body, plain, 'A');
            if (n == 0 || n > fl::kMaxBatch || plain != 3 + 8 * n) return false;
            for (std::size_t i = 0; i < n; ++i) {
              std::uint64_t k = 0;
              for (std::size_t j = 0; j < 8; ++j) k = (k << 8) | body[3 + 8 * i + j];
              if (k != ++c.accepted) return false;
            }
            return true;
          }
          return fl::for_each_message(body, plain, 'P',
                                      [&](const std::uint8_t* m, std::size_t mlen) {
                                        if (on_receive) on_receive(ByteView(m, mlen));
                                        ++pushes;
                                      });
        });
    if (used == SIZE_MAX) {
      failure_ = "floor: a frame from the relay did not open";
      return;
    }
    c.inbuf.erase(c.inbuf.begin(), c.inbuf.begin() + static_cast<std::ptrdiff_t>(used));
    if (pushes > 0) {
      // ACK: one per read, as Sotto's clients acknowledge a read's Pushes at once.
      const std::uint8_t ack[5] = {
          'K', static_cast<std::uint8_t>(pushes >> 24), static_cast<std::uint8_t>(pushes >> 16),
          static_cast<std::uint8_t>(pushes >> 8), static_cast<std::uint8_t>(pushes)};
      c.out.seal_frame(ack, sizeof ack, c.outbuf);
    }
  }

  std::vector<FloorClient> clients_;
  std::size_t pairs_;
  std::vector<pollfd> fds_;
  std::vector<std::uint8_t> scratch_;
  std::optional<std::string> failure_;
};

}  // namespace

std::string floor_relay_path() {
  return SOTTO_FLOOR_RELAY;
}

Result<std::unique_ptr<LoadTarget>, std::string> make_floor_target(std::uint16_t port,
                                                                   std::size_t pairs, bool aead) {
  auto t = std::make_unique<FloorTarget>(pairs, aead);
  SOTTO_TRY_VOID(t->setup(port));
  return std::unique_ptr<LoadTarget>(std::move(t));
}

}  // namespace sotto::bench
