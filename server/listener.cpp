// listener.cpp — see listener.hpp. The accept loop co_spawns one Connection
// per socket; a signal_set{SIGINT, SIGTERM} stops accepting and stops every
// connection gracefully; io_context::run() returns when all have drained.
#include "server/listener.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "server/connection.hpp"
#include "server/hub.hpp"

namespace sotto::relay {
namespace {

class SystemClock final : public Clock {
 public:
  std::uint64_t now_unix() const override {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  }
};

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, Hub& hub) {
  while (!hub.stopping()) {
    std::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (hub.stopping() || ec == asio::error::operation_aborted) break;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    auto remote = socket.remote_endpoint(ec);
    std::string address = ec ? std::string("?") : remote.address().to_string();
    if (!hub.admit(address)) {
      socket.close(ec);
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), hub);
    hub.add(conn);
    // The connection releases its address slot when it ends. The shared_ptr
    // is a parameter, not a capture: a coroutine lambda's captures live in the
    // closure, which is gone by the time the lazily started coroutine runs,
    // while parameters are copied into the coroutine frame.
    asio::co_spawn(
        acceptor.get_executor(),
        [](std::shared_ptr<Connection> c) -> asio::awaitable<void> { co_await c->run(); }(conn),
        asio::detached);
  }
}

}  // namespace

Hub::Hub(asio::io_context& io, const RelayConfig& config, X25519KeyPair key, RelayStore& store,
         const Clock& clock, Rng& rng)
    : io_(io), config_(config), key_(std::move(key)), store_(store), clock_(clock), rng_(rng) {
  codec_limits_.max_frame = config.limits.max_frame;
  codec_limits_.max_envelope = config.limits.max_envelope;
}

bool Hub::admit(const std::string& address) {
  if (stopping_ || total_ >= config_.limits.max_connections) return false;
  auto& n = per_address_[address];
  if (n >= config_.limits.max_connections_per_address) return false;
  ++n;
  ++total_;
  return true;
}

void Hub::release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  if (total_ > 0) --total_;
}

void Hub::add(const std::shared_ptr<Connection>& c) {
  connections_.insert(c);
}

void Hub::remove(const std::shared_ptr<Connection>& c) {
  if (connections_.erase(c) > 0) release(c->peer_address());
}

void Hub::notify(const AccountId& recipient) {
  for (const auto& c : connections_)
    if (c->account() && *c->account() == recipient) c->notify_mail();
}

void Hub::stop_all() {
  stopping_ = true;
  auto copy = connections_;
  for (const auto& c : copy) c->stop();
}

Result<void, std::string> serve(const RelayConfig& config, X25519KeyPair relay_key,
                                RelayStore& store) {
  asio::io_context io(1);
  std::error_code ec;
  auto address = asio::ip::make_address(config.listen.host, ec);
  if (ec) return fail("listen: \"" + config.listen.host + "\" is not an IP address");
  asio::ip::tcp::acceptor acceptor(io);
  asio::ip::tcp::endpoint endpoint(address, config.listen.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + config.listen.to_string() + ": " + ec.message());

  SystemClock clock;
  SystemRng rng;
  Hub hub(io, config, std::move(relay_key), store, clock, rng);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& error, int) {
    if (error) return;
    spdlog::info("shutting down: no new connections, draining");
    std::error_code ignored;
    acceptor.close(ignored);
    hub.stop_all();
  });

  asio::co_spawn(io, accept_loop(acceptor, hub), asio::detached);
  spdlog::info("listening on {}", config.listen.to_string());
  io.run();
  return {};
}

}  // namespace sotto::relay
