// peer_mosquitto.cpp — the relay load benchmark's MQTT clients (libmosquitto),
// all driven from one thread with the library's external-loop API
// (mosquitto_socket / loop_read / loop_write / loop_misc over poll(2)), as
// the Sotto clients are driven from one io_context.
//
// Pair p: publisher "s<p>" publishes QoS 1 to topic "b/<p>"; subscriber "r<p>"
// (clean_session = false: a persistent session, its queued messages part of
// the broker's persistent state) subscribes to it with QoS 1. A message is
// "sent" once published and "received" when the subscriber's callback runs;
// libmosquitto then answers PUBACK.
#include <poll.h>
#include <sys/ioctl.h>

#include <mosquitto.h>

#include <chrono>
#include <string>

#include "bench/peers.hpp"

namespace sotto::bench {
namespace {

using namespace std::chrono_literals;

struct Client {
  mosquitto* m = nullptr;
  bool receiver = false;
  std::size_t pair = 0;
  bool connected = false;
  bool subscribed = false;
  class MosquittoTarget* target = nullptr;
};

class MosquittoTarget final : public LoadTarget {
 public:
  explicit MosquittoTarget(std::size_t pairs) : clients_(2 * pairs), pairs_(pairs) {
    static const int init = mosquitto_lib_init();
    (void)init;
  }
  ~MosquittoTarget() override {
    for (auto& c : clients_)
      if (c.m) {
        mosquitto_disconnect(c.m);
        mosquitto_destroy(c.m);
      }
  }

  Result<void, std::string> setup(std::uint16_t port) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto& c = clients_[i];
      c.receiver = i >= pairs_;
      c.pair = i % pairs_;
      c.target = this;
      const std::string id = (c.receiver ? "r" : "s") + std::to_string(c.pair);
      c.m = mosquitto_new(id.c_str(), /*clean_session=*/!c.receiver, &c);
      if (!c.m) return fail(std::string("mosquitto_new failed"));
      mosquitto_max_inflight_messages_set(c.m, 0);  // our window is the only cap
      mosquitto_connect_callback_set(c.m, [](mosquitto*, void* ud, int rc) {
        auto* cl = static_cast<Client*>(ud);
        if (rc == 0) cl->connected = true;
      });
      mosquitto_subscribe_callback_set(c.m, [](mosquitto*, void* ud, int, int, const int*) {
        static_cast<Client*>(ud)->subscribed = true;
      });
      mosquitto_publish_callback_set(c.m, [](mosquitto*, void* ud, int) {
        auto* cl = static_cast<Client*>(ud);
        auto& n = cl->target->outstanding_[cl->pair];
        if (n > 0) --n;
      });
      mosquitto_message_callback_set(c.m, [](mosquitto*, void* ud, const mosquitto_message* msg) {
        auto* cl = static_cast<Client*>(ud);
        if (cl->target->on_receive)
          cl->target->on_receive(ByteView(static_cast<const std::uint8_t*>(msg->payload),
                                          static_cast<std::size_t>(msg->payloadlen)));
      });
      if (int rc = mosquitto_connect(c.m, "127.0.0.1", port, 600); rc != MOSQ_ERR_SUCCESS)
        return fail("mosquitto_connect: " + std::string(mosquitto_strerror(rc)));
    }
    outstanding_.assign(pairs_, 0);
    SOTTO_TRY_VOID(wait([&] {
      for (auto& c : clients_)
        if (!c.connected) return false;
      return true;
    }));
    for (std::size_t p = 0; p < pairs_; ++p) {
      const std::string topic = "b/" + std::to_string(p);
      if (int rc = mosquitto_subscribe(clients_[pairs_ + p].m, nullptr, topic.c_str(), 1);
          rc != MOSQ_ERR_SUCCESS)
        return fail("mosquitto_subscribe: " + std::string(mosquitto_strerror(rc)));
    }
    return wait([&] {
      for (std::size_t p = 0; p < pairs_; ++p)
        if (!clients_[pairs_ + p].subscribed) return false;
      return true;
    });
  }

  bool send(std::size_t pair, Bytes message) override {
    const std::string topic = "b/" + std::to_string(pair);
    const int rc = mosquitto_publish(clients_[pair].m, nullptr, topic.c_str(),
                                     static_cast<int>(message.size()), message.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) {
      failure_ = "mosquitto_publish: " + std::string(mosquitto_strerror(rc));
      return false;
    }
    ++outstanding_[pair];
    return true;
  }

  void poll(std::chrono::milliseconds max_wait) override {
    fds_.resize(clients_.size());
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      auto* m = clients_[i].m;
      fds_[i] = pollfd{mosquitto_socket(m),
                       static_cast<short>(POLLIN | (mosquitto_want_write(m) ? POLLOUT : 0)), 0};
    }
    const int n = ::poll(fds_.data(), fds_.size(), static_cast<int>(max_wait.count()));
    if (n > 0) {
      for (std::size_t i = 0; i < clients_.size(); ++i) {
        auto* m = clients_[i].m;
        if (fds_[i].revents & POLLOUT) check(mosquitto_loop_write(m, 1));
        if (fds_[i].revents & (POLLIN | POLLERR | POLLHUP)) {
          // One packet per call for a subscriber: read until the socket is empty.
          for (int k = 0; k < 4096; ++k) {
            check(mosquitto_loop_read(m, 1));
            int pending = 0;
            if (::ioctl(fds_[i].fd, FIONREAD, &pending) != 0 || pending <= 0) break;
          }
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_misc_ > 500ms) {
      last_misc_ = now;
      for (auto& c : clients_) check(mosquitto_loop_misc(c.m));
    }
  }

  std::optional<std::string> failure() const override { return failure_; }
  std::uint64_t errors() const override { return 0; }

 private:
  template <class Done>
  Result<void, std::string> wait(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline)
        return fail(std::string("mosquitto clients not ready within 60 s"));
      poll(10ms);
      if (failure_) return fail(*failure_);
    }
    return {};
  }
  void check(int rc) {
    if (rc != MOSQ_ERR_SUCCESS && !failure_)
      failure_ = "mosquitto client: " + std::string(mosquitto_strerror(rc));
  }

 public:
  std::vector<std::size_t> outstanding_;  // published, PUBACK not yet received

 private:
  std::vector<Client> clients_;
  std::size_t pairs_;
  std::vector<pollfd> fds_;
  std::optional<std::string> failure_;
  std::chrono::steady_clock::time_point last_misc_ = std::chrono::steady_clock::now();
};

}  // namespace

Result<std::unique_ptr<LoadTarget>, std::string> make_mosquitto_target(std::uint16_t port,
                                                                       std::size_t pairs) {
  auto t = std::make_unique<MosquittoTarget>(pairs);
  SOTTO_TRY_VOID(t->setup(port));
  return std::unique_ptr<LoadTarget>(std::move(t));
}

}  // namespace sotto::bench
