// floor_relay.cpp — the relay load benchmark's floor server (floor_wire.hpp):
// a single-threaded epoll loop that forwards each message of a sender's SENDs
// frame to its pair's receiver and answers the sender one ACCEPTED counter per
// message, and reads the receiver's ACKs. Nothing is stored, parsed beyond one type byte, or
// authenticated: it is the least a relay of Sotto's exchange can do, so that the benchmark can
// print how far from that least the real relay and the peers are.
//
//   floor_relay PORT tcp|aead
//
// It batches as the real relay and redis do: one recv of up to 256 KiB per
// readable connection per turn, every frame in it handled, then one send per
// connection with output at the end of the turn (EPOLLOUT only when the
// kernel's buffer is full). As Sotto's relay (wire version 2), what a turn
// owes a connection is sealed at its end in as few frames as the bounds allow:
// the ACCEPTEDs as one 'A' frame (32 at most), the messages for a receiver as
// one PUSH (65519 bytes at most), each frame sealed once. It listens on 127.0.0.1:PORT only and
// runs until SIGTERM or SIGINT. What fails: a malformed frame, a failed decryption or an unknown
// pair closes that connection and is reported on stderr.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/floor_wire.hpp"

namespace {

using sotto::bench::floor::Cipher;
using sotto::bench::floor::Direction;
namespace fl = sotto::bench::floor;

volatile std::sig_atomic_t g_stop = 0;

struct Conn {
  int fd = -1;
  std::uint8_t role = 0;  // 0 until the hello, then 'S' or 'R'
  std::uint32_t pair = 0;
  Cipher in, out;
  std::vector<std::uint8_t> inbuf;
  std::vector<std::uint8_t> outbuf;
  std::size_t out_sent = 0;
  bool dirty = false;     // output queued this turn
  bool want_out = false;  // EPOLLOUT registered
  bool dead = false;
  std::uint64_t accepted = 0;
  fl::Batch accepts{'A', fl::kMaxBatch, {}, 0};  // ACCEPTEDs owed this turn
  fl::Batch push{'P', 0xffff, {}, 0};            // messages to push this turn
};

class FloorRelay {
 public:
  FloorRelay(int listen_fd, bool aead) : listen_(listen_fd), aead_(aead) {}

  int run() {
    ep_ = epoll_create1(0);
    if (ep_ < 0) return perror_ret("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the listener
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, listen_, &ev) < 0) return perror_ret("epoll_ctl");
    std::vector<epoll_event> events(256);
    std::vector<std::uint8_t> scratch(256 * 1024);
    while (!g_stop) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 200);
      if (n < 0) {
        if (errno == EINTR) continue;
        return perror_ret("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr);
        if (!c) {
          accept_all();
          continue;
        }
        const auto e = events[static_cast<std::size_t>(i)].events;
        if (c->dead) continue;
        if (e & EPOLLOUT) flush(*c);
        if (!c->dead && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) read_once(*c, scratch);
      }
      for (Conn* c : dirty_) {
        c->dirty = false;
        if (c->dead) continue;
        c->accepts.seal_into(c->out, c->outbuf);
        c->push.seal_into(c->out, c->outbuf);
        flush(*c);
      }
      dirty_.clear();
      for (Conn* c : closing_) {
        ::close(c->fd);
        conns_.erase(c->fd);
      }
      closing_.clear();
    }
    return 0;
  }

 private:
  static int perror_ret(const char* what) {
    std::perror(what);
    return 1;
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->in.aead = c->out.aead = aead_;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c.get();
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_[fd] = std::move(c);
    }
  }

  void close_conn(Conn& c, const char* why) {
    if (c.dead) return;
    if (why) std::fprintf(stderr, "floor_relay: closing a connection: %s\n", why);
    c.dead = true;
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    auto& index = c.role == 'S' ? senders_ : receivers_;
    if (auto it = index.find(c.pair); c.role != 0 && it != index.end() && it->second == &c)
      index.erase(it);
    closing_.push_back(&c);
  }

  void mark(Conn& c) {
    if (!c.dirty) {
      c.dirty = true;
      dirty_.push_back(&c);
    }
  }

  void read_once(Conn& c, std::vector<std::uint8_t>& scratch) {
    const ssize_t got = ::recv(c.fd, scratch.data(), scratch.size(), 0);
    if (got == 0) return close_conn(c, nullptr);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return close_conn(c, std::strerror(errno));
    }
    c.inbuf.insert(c.inbuf.end(), scratch.data(), scratch.data() + got);
    std::size_t from = 0;
    if (c.role == 0) {
      if (c.inbuf.size() < 5) return;
      const std::uint8_t role = c.inbuf[0];
      if (role != 'S' && role != 'R') return close_conn(c, "bad hello");
      c.role = role;
      c.pair = (std::uint32_t{c.inbuf[1]} << 24) | (std::uint32_t{c.inbuf[2]} << 16) |
               (std::uint32_t{c.inbuf[3]} << 8) | c.inbuf[4];
      c.in.key = fl::key_for(Direction::kToRelay, role, c.pair);
      c.out.key = fl::key_for(Direction::kToClient, role, c.pair);
      (role == 'S' ? senders_ : receivers_)[c.pair] = &c;
      c.outbuf.push_back('H');
      mark(c);
      from = 5;
    }
    from = fl::for_each_frame(c.inbuf, from, [&](std::uint8_t* body, std::size_t len) {
      if (!c.in.open(body, len)) return false;
      const std::size_t plain = len - fl::kTag;
      if (plain < 1) return false;
      if (c.role == 'S') {
        auto r = receivers_.find(c.pair);
        if (r == receivers_.end() || r->second->dead) return false;
        Conn& to = *r->second;
        if (fl::batch_count(body, plain, 'B') > fl::kMaxBatch) return false;
        // Each message: staged for the receiver's PUSH and answered ACCEPTED.
        const bool ok =
            fl::for_each_message(body, plain, 'B', [&](const std::uint8_t* m, std::size_t mlen) {
              if (!to.push.fits(2 + mlen)) to.push.seal_into(to.out, to.outbuf);
              to.push.add_message(m, mlen);
              if (!c.accepts.fits(8)) c.accepts.seal_into(c.out, c.outbuf);
              c.accepts.add_counter(++c.accepted);
            });
        if (!ok) return false;
        mark(to);
        mark(c);
        return true;
      }
      return c.role == 'R' && body[0] == 'K' && plain == 5;  // an ACK: nothing to do
    });
    if (from == SIZE_MAX) return close_conn(c, "bad frame");
    c.inbuf.erase(c.inbuf.begin(), c.inbuf.begin() + static_cast<std::ptrdiff_t>(from));
  }

  void flush(Conn& c) {
    while (c.out_sent < c.outbuf.size()) {
      const ssize_t n =
          ::send(c.fd, c.outbuf.data() + c.out_sent, c.outbuf.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        return close_conn(c, std::strerror(errno));
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    if (c.out_sent == c.outbuf.size()) {
      c.outbuf.clear();
      c.out_sent = 0;
    }
    const bool want = !c.outbuf.empty();
    if (want != c.want_out) {
      c.want_out = want;
      epoll_event ev{};
      ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
      ev.data.ptr = &c;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  int listen_;
  int ep_ = -1;
  bool aead_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::unordered_map<std::uint32_t, Conn*> senders_, receivers_;
  std::vector<Conn*> dirty_, closing_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[2], "tcp") != 0 && std::strcmp(argv[2], "aead") != 0)) {
    std::fprintf(stderr, "usage: floor_relay PORT tcp|aead\n");
    return 2;
  }
  if (sodium_init() < 0) return 1;
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, 4096) < 0) {
    std::perror("floor_relay: bind/listen");
    return 1;
  }
  return FloorRelay(fd, std::strcmp(argv[2], "aead") == 0).run();
}
