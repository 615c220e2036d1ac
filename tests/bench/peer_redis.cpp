// peer_redis.cpp — the relay load benchmark's redis clients (hiredis's async
// API), all driven from one thread: hiredis's event hooks only record which
// directions a context wants, and poll(2) over every socket calls
// redisAsyncHandleRead/Write, as the Sotto clients are driven from one
// io_context.
//
// Pair p: the sender LPUSHes to list "m/<p>" (a message is "sent" when the
// command is queued); the receiver keeps `receive_window` BRPOPs on "m/<p>"
// pipelined and issues a new one for every element it gets ("received").
#include <poll.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <string>

#include "bench/peers.hpp"

namespace sotto::bench {
namespace {

using namespace std::chrono_literals;

struct Client {
  redisAsyncContext* ac = nullptr;
  bool want_read = false;
  bool want_write = false;
  bool connected = false;
  bool dead = false;
  std::size_t pair = 0;
  std::string key;
  class RedisTarget* target = nullptr;
};

class RedisTarget final : public LoadTarget {
 public:
  RedisTarget(std::size_t pairs, std::size_t receive_window)
      : clients_(2 * pairs), pairs_(pairs), receive_window_(receive_window) {}
  ~RedisTarget() override {
    stopping_ = true;
    for (auto& c : clients_)
      if (c.ac && !c.dead) redisAsyncFree(c.ac);  // runs pending callbacks with no reply
  }

  Result<void, std::string> setup(std::uint16_t port) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      c.pair = i % pairs_;
      c.key = "m/" + std::to_string(c.pair);
      c.target = this;
      c.ac = redisAsyncConnect("127.0.0.1", port);
      if (!c.ac || c.ac->err) return fail(std::string("redisAsyncConnect failed"));
      c.ac->data = &c;
      c.ac->ev.data = &c;
      c.ac->ev.addRead = [](void* d) { static_cast<Client*>(d)->want_read = true; };
      c.ac->ev.delRead = [](void* d) { static_cast<Client*>(d)->want_read = false; };
      c.ac->ev.addWrite = [](void* d) { static_cast<Client*>(d)->want_write = true; };
      c.ac->ev.delWrite = [](void* d) { static_cast<Client*>(d)->want_write = false; };
      c.ac->ev.cleanup = [](void* d) {
        auto* cl = static_cast<Client*>(d);
        cl->want_read = cl->want_write = false;
      };
      redisAsyncSetDisconnectCallback(c.ac, [](const redisAsyncContext* ac, int) {
        auto* cl = static_cast<Client*>(ac->data);
        cl->dead = true;
        if (!cl->target->stopping_ && !cl->target->failure_)
          cl->target->failure_ = "a redis connection closed";
      });
      // Set after the hooks: it asks for the first write event.
      redisAsyncSetConnectCallback(c.ac, [](const redisAsyncContext* ac, int status) {
        auto* cl = static_cast<Client*>(ac->data);
        if (status == REDIS_OK)
          cl->connected = true;
        else
          cl->target->failure_ = "redis connect failed";
      });
    }
    outstanding_.assign(pairs_, 0);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      bool all = true;
      for (auto& c : clients_) all = all && c.connected;
      if (all) break;
      if (failure_) return fail(*failure_);
      if (std::chrono::steady_clock::now() > deadline)
        return fail(std::string("redis clients not connected within 60 s"));
      poll(10ms);
    }
    for (std::size_t p = 0; p < pairs_; ++p)
      for (std::size_t k = 0; k < receive_window_; ++k) brpop(clients_[pairs_ + p]);
    return {};
  }

  bool send(std::size_t pair, Bytes message) override {
    auto& c = clients_[pair];
    if (redisAsyncCommand(c.ac, &RedisTarget::on_lpush, &c, "LPUSH %s %b", c.key.c_str(),
                          message.data(), message.size()) != REDIS_OK) {
      failure_ = "LPUSH could not be queued";
      return false;
    }
    ++outstanding_[pair];
    return true;
  }

  void poll(std::chrono::milliseconds max_wait) override {
    fds_.resize(clients_.size());
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      short events = 0;
      if (!c.dead && c.want_read) events |= POLLIN;
      if (!c.dead && c.want_write) events |= POLLOUT;
      fds_[i] = pollfd{c.dead ? -1 : c.ac->c.fd, events, 0};
    }
    const int n = ::poll(fds_.data(), fds_.size(), static_cast<int>(max_wait.count()));
    if (n <= 0) return;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      if (c.dead) continue;
      if (fds_[i].revents & (POLLIN | POLLERR | POLLHUP)) redisAsyncHandleRead(c.ac);
      if (!c.dead && (fds_[i].revents & POLLOUT)) redisAsyncHandleWrite(c.ac);
    }
  }

  std::optional<std::string> failure() const override { return failure_; }
  std::uint64_t errors() const override { return errors_; }

 private:
  void brpop(Client& c) {
    if (redisAsyncCommand(c.ac, &RedisTarget::on_brpop, &c, "BRPOP %s 0", c.key.c_str()) !=
        REDIS_OK)
      failure_ = "BRPOP could not be queued";
  }
  static void on_lpush(redisAsyncContext*, void* r, void* privdata) {
    auto* c = static_cast<Client*>(privdata);
    auto* t = c->target;
    auto* reply = static_cast<redisReply*>(r);
    if (t->stopping_ || !reply) return;
    if (t->outstanding_[c->pair] > 0) --t->outstanding_[c->pair];
    if (reply->type != REDIS_REPLY_INTEGER) {
      ++t->errors_;
      t->failure_ = "LPUSH answered " + std::string(reply->str ? reply->str : "?");
    }
  }
  static void on_brpop(redisAsyncContext*, void* r, void* privdata) {
    auto* c = static_cast<Client*>(privdata);
    auto* t = c->target;
    auto* reply = static_cast<redisReply*>(r);
    if (t->stopping_ || !reply) return;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      ++t->errors_;
      t->failure_ = "BRPOP answered something else than [key, value]";
      return;
    }
    const redisReply* value = reply->element[1];
    if (t->on_receive)
      t->on_receive(ByteView(reinterpret_cast<const std::uint8_t*>(value->str),
                             static_cast<std::size_t>(value->len)));
    t->brpop(*c);
  }

  std::vector<Client> clients_;
  std::size_t pairs_;
  std::size_t receive_window_;
  std::vector<pollfd> fds_;
  std::vector<std::size_t> outstanding_;  // LPUSHes not yet answered

 public:
  bool stopping_ = false;
  std::optional<std::string> failure_;
  std::uint64_t errors_ = 0;
};

}  // namespace

Result<std::unique_ptr<LoadTarget>, std::string> make_redis_target(std::uint16_t port,
                                                                   std::size_t pairs,
                                                                   std::size_t receive_window) {
  auto t = std::make_unique<RedisTarget>(pairs, receive_window);
  SOTTO_TRY_VOID(t->setup(port));
  return std::unique_ptr<LoadTarget>(std::move(t));
}

}  // namespace sotto::bench
