// listener.cpp — see listener.hpp. The accept loop starts one Connection
// per admitted socket; a timer runs the retention purge at start and then
// every purge_interval_seconds; the metrics responder serves its loopback
// port. A signal_set{SIGINT, SIGTERM} stops accepting, cancels the timer,
// closes the metrics port and stops every connection gracefully;
// io_context::run() returns when all have drained.
#include "server/listener.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "server/connection.hpp"
#include "server/hub.hpp"
#include "server/metrics_http.hpp"
#include "server/retention.hpp"

namespace sotto::relay {
namespace {

// The wall clock, shifted by `offset` seconds (zero except in tests).
class SystemClock final : public Clock {
 public:
  explicit SystemClock(std::int64_t offset) : offset_(offset) {}
  std::uint64_t now_unix() const override {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, now + offset_));
  }

 private:
  std::int64_t offset_;
};

asio::awaitable<void> accept_loop(Connection::Acceptor& acceptor, Hub& hub) {
  while (!hub.stopping()) {
    std::error_code ec;
    auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (hub.stopping() || ec == asio::error::operation_aborted) break;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    auto remote = socket.remote_endpoint(ec);
    std::string address = ec ? std::string("?") : remote.address().to_string();
    if (const Admit a = hub.admit(address); a != Admit::kOk) {
      spdlog::debug("connection refused: {}", to_string(a));
      socket.close(ec);
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), hub);
    hub.add(conn);
    // The connection keeps itself alive through its pending operations and
    // removes itself from the hub (releasing its slot) when it ends.
    conn->start();
  }
}

// The retention purge: once at start, then every interval, each run looping
// until the store has nothing more to purge.
class PurgeTimer {
 public:
  PurgeTimer(Hub& hub, std::chrono::seconds interval)
      : hub_(hub), timer_(hub.io()), interval_(interval) {}

  void start() { run_now(); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void run_now() {
    auto& io = hub_.io();
    purge_until_done(
        hub_.store(), hub_.clock().now_unix(),
        [&io](std::function<void()> f) { asio::post(io, std::move(f)); },
        [this, work = asio::make_work_guard(io)](StoreResult<PurgeOutcome> r) {
          auto& m = hub_.metrics();
          ++m.purge_runs;
          if (r) {
            m.expiries += r->messages;
            m.expired_bytes += r->bytes;
            if (r->messages > 0)
              spdlog::info("retention: purged {} expired message(s)", r->messages);
          } else {
            ++m.purge_failures;
            spdlog::warn("retention purge failed: {}", to_string(r.error()));
          }
          schedule();
        });
  }
  void schedule() {
    if (stopped_) return;
    timer_.expires_after(interval_);
    timer_.async_wait([this](const std::error_code& ec) {
      if (!ec && !stopped_) run_now();
    });
  }

  Hub& hub_;
  asio::steady_timer timer_;
  std::chrono::seconds interval_;
  bool stopped_ = false;
};

}  // namespace

Result<void, std::string> serve(const RelayConfig& config, X25519KeyPair relay_key,
                                RelayStore& store, const ServeOptions& options) {
  asio::io_context io(1);
  std::error_code ec;
  auto address = asio::ip::make_address(config.listen.host, ec);
  if (ec) return fail("listen: \"" + config.listen.host + "\" is not an IP address");
  Connection::Acceptor acceptor(io.get_executor());
  asio::ip::tcp::endpoint endpoint(address, config.listen.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + config.listen.to_string() + ": " + ec.message());

  SystemClock clock(options.clock_offset_seconds);
  SystemRng rng;
  Hub hub(io, config, std::move(relay_key), store, clock, rng);

  asio::ip::tcp::acceptor metrics_acceptor(io);
  if (config.metrics_enabled) {
    // Metrics are auxiliary: a busy metrics port is logged and the relay serves on.
    if (auto opened = open_metrics_acceptor(metrics_acceptor, config.metrics_listen); !opened) {
      spdlog::error("metrics disabled: {}", opened.error());
    } else {
      asio::co_spawn(io,
                     serve_metrics(metrics_acceptor,
                                   [&hub, &store, &clock] {
                                     auto stats = store.stats(clock.now_unix());
                                     return render_metrics(
                                         hub.metrics(), store.commit_stats(),
                                         stats ? std::optional<StoreStats>(*stats) : std::nullopt);
                                   }),
                     asio::detached);
      spdlog::info("metrics on http://{}/metrics", config.metrics_listen.to_string());
    }
  }

  PurgeTimer purge(hub, std::chrono::seconds(config.store.purge_interval_seconds));
  purge.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& error, int) {
    if (error) return;
    spdlog::info("shutting down: no new connections, draining");
    std::error_code ignored;
    acceptor.close(ignored);
    metrics_acceptor.close(ignored);
    purge.stop();
    hub.stop_all();
  });

  asio::co_spawn(io, accept_loop(acceptor, hub), asio::detached);
  spdlog::info("listening on {}", config.listen.to_string());
  io.run();
  return {};
}

}  // namespace sotto::relay
