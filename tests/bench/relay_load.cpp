// relay_load.cpp — the relay load benchmark (issue 6): the real sotto-relay
// beside mosquitto (QoS 1, persistence on) and redis (appendfsync always, as a
// mailbox), driven by the same load in the same run, and a connection
// benchmark (idle authenticated connections, resident memory per connection).
// docs/performance.md ("Relay load benchmark") explains the method and keeps
// the last table; scripts/bench-relay.sh runs it all.
//
//   relay_load                     the full benchmark (3 rounds; several minutes)
//   relay_load --quick             1 round, short windows, 2,000 idle connections
//   relay_load --smoke             Sotto only, 2 pairs, 2 s, 20 idle connections (CTest)
//   relay_load --markdown FILE     also writes the summary table there
//   relay_load --only sotto --pairs 100 --window 16 --seconds 8 [--rate R]
//                                  one load, chosen systems, printed (profiling)
//   relay_load --only sotto --idle-only [--idle N]
//                                  the idle-connection benchmark alone
//   relay_load --disk-only [--disk N]
//                                  disk per queued envelope (N queued for an
//                                  offline recipient; 5,000 by default)
//
// Every run starts a fresh server (a fresh data directory) and stops it; the
// systems of one scenario run back to back, in an order rotated each round,
// and the summary reports each system's median over the rounds. The program
// prints; it does not judge (the targets are printed with PASS/MISS, the exit
// status is 0 unless a run failed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "bench/load_common.hpp"
#include "bench/peers.hpp"
#include "bench/sotto_load.hpp"
#include "integration/relay_process.hpp"

namespace sotto::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- the relay under test ----

// relay.toml for benchmarking: every limit that would refuse a benchmark
// client's requests or connections raised out of the way; durability and
// everything else as shipped (store.synchronous = "full").
std::vector<test::ConfigSetting> relay_settings(std::uint16_t metrics_port) {
  const std::string big = "1000000000";
  return {
      {"rate_limits", "requests_per_second_per_account", big},
      {"rate_limits", "request_burst_per_account", big},
      {"rate_limits", "requests_per_second_per_address", big},
      {"rate_limits", "request_burst_per_address", big},
      {"rate_limits", "connections_per_minute_per_address", big},
      {"limits", "max_connections", "1000000"},
      {"limits", "max_connections_per_address", "1000000"},
      {"limits", "idle_timeout_ms", "3600000"},
      {"metrics", "enabled", "true"},
      {"metrics", "listen", "\"127.0.0.1:" + std::to_string(metrics_port) + "\""},
  };
}

// One value of the relay's Prometheus page (nullopt when unreachable or absent).
std::optional<double> scrape(std::uint16_t port, const std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string page;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[8192];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        page.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return std::nullopt;
}

struct Relay {
  test::RelayProcess process;
  std::uint16_t metrics_port;
};

Result<Relay, std::string> start_relay(const FsyncCounter* fsync) {
  const std::uint16_t metrics_port = test::free_loopback_port();
  SOTTO_TRY(auto relay, test::RelayProcess::create(relay_settings(metrics_port)));
  if (fsync) {
    // Again with the fsync counter loaded (create() starts it without).
    SOTTO_TRY_VOID(relay.stop());
    SOTTO_TRY_VOID(relay.start(fsync->env()));
  }
  return Relay{std::move(relay), metrics_port};
}

// ---- one load on one system ----

// The floors (floor_wire.hpp) are not systems an operator would pick: they
// are the least a relay of Sotto's exchange can do, with plain TCP frames
// (floor-tcp) and with ChaCha20-Poly1305 on every frame as Noise does
// (floor-aead), measured under the same load to show what is attainable.
enum class System { kSotto, kMosquitto, kRedis, kFloorTcp, kFloorAead };
const char* name_of(System s) {
  switch (s) {
    case System::kSotto:
      return "sotto";
    case System::kMosquitto:
      return "mosquitto";
    case System::kRedis:
      return "redis";
    case System::kFloorTcp:
      return "floor-tcp";
    case System::kFloorAead:
      return "floor-aead";
  }
  return "?";
}

bool available(System s) {
  switch (s) {
    case System::kSotto:
      return true;
    case System::kMosquitto:
      return SOTTO_BENCH_HAVE_MOSQUITTO && on_path("mosquitto");
    case System::kRedis:
      return SOTTO_BENCH_HAVE_HIREDIS && on_path("redis-server");
    case System::kFloorTcp:
    case System::kFloorAead:
      return ::access(floor_relay_path().c_str(), X_OK) == 0;
  }
  return false;
}

Result<LoadResult, std::string> run_sotto(const LoadSpec& spec, const FsyncCounter& fsync) {
  SOTTO_TRY(auto relay, start_relay(&fsync));
  SOTTO_TRY(auto target, make_sotto_target(relay.process.address(), spec.pairs));
  std::optional<double> batches0, batches1;
  WindowHooks hooks{
      [&] { batches0 = scrape(relay.metrics_port, "sotto_relay_commit_batches_total"); },
      [&] { batches1 = scrape(relay.metrics_port, "sotto_relay_commit_batches_total"); }};
  auto r = run_load(*target, spec, relay.process.pid(), &fsync, hooks);
  if (!r) return fail(r.error() + "\nrelay log:\n" + relay.process.log());
  r->system = "sotto";
  if (batches0 && batches1)
    r->note += "commit batches " + std::to_string(static_cast<long>(*batches1 - *batches0)) + "; ";
  target.reset();
  return r;
}

Result<LoadResult, std::string> run_peer(System s, const LoadSpec& spec,
                                         const FsyncCounter& fsync) {
  TempDir dir(std::string("sotto-bench-") + name_of(s));
  std::unique_ptr<LoadTarget> target;
  std::optional<Broker> broker;
#if SOTTO_BENCH_HAVE_MOSQUITTO
  if (s == System::kMosquitto) {
    SOTTO_TRY(auto b, start_mosquitto(dir.path(), fsync));
    broker.emplace(std::move(b));
    SOTTO_TRY(target, make_mosquitto_target(broker->port, spec.pairs));
  }
#endif
#if SOTTO_BENCH_HAVE_HIREDIS
  if (s == System::kRedis) {
    SOTTO_TRY(auto b, start_redis(dir.path(), fsync));
    broker.emplace(std::move(b));
    const std::size_t receive_window =
        std::max(spec.window, spec.rate > 0 ? spec.max_outstanding : 0);
    SOTTO_TRY(target, make_redis_target(broker->port, spec.pairs, receive_window));
  }
#endif
  if (s == System::kFloorTcp || s == System::kFloorAead) {
    const bool aead = s == System::kFloorAead;
    SOTTO_TRY(auto b, start_floor(dir.path(), aead, fsync));
    broker.emplace(std::move(b));
    SOTTO_TRY(target, make_floor_target(broker->port, spec.pairs, aead));
  }
  if (!target) return fail(std::string(name_of(s)) + " is not available in this build");
  auto r = run_load(*target, spec, broker->process.pid(), &fsync);
  target.reset();
  broker->process.stop();
  if (!r) return fail(r.error());
  r->system = name_of(s);
  return r;
}

Result<LoadResult, std::string> run_one(System s, const LoadSpec& spec, const fs::path& scratch) {
  SOTTO_TRY(auto fsync, FsyncCounter::create(scratch / (std::string("fsyncs-") + name_of(s))));
  return s == System::kSotto ? run_sotto(spec, fsync) : run_peer(s, spec, fsync);
}

// ---- idle connections ----

struct IdleResult {
  std::string system;
  std::size_t connections = 0;
  std::uint64_t rss_idle_kb = 0, rss_loaded_kb = 0;
  double bytes_per_connection = 0;
  std::string note;
};

Result<IdleResult, std::string> idle_sotto(std::size_t n) {
  SOTTO_TRY(auto relay, start_relay(nullptr));
  SystemRng rng;
  auto accounts = make_accounts(n, rng);
  {
    SottoFleet registering(relay.process.address(), 4096);
    SOTTO_TRY_VOID(registering.connect_all(accounts, Setup::kRegister, 64, 900s));
  }
  // A fresh process: what remains is what connections cost, not registration's heap.
  SOTTO_TRY_VOID(relay.process.stop());
  SOTTO_TRY_VOID(relay.process.start());
  std::this_thread::sleep_for(1s);
  SOTTO_TRY(auto idle, sample_process(relay.process.pid()));
  SottoFleet fleet(relay.process.address(), 1024);
  SOTTO_TRY_VOID(fleet.connect_all(accounts, Setup::kConfirm, 64, 900s));
  // Let the relay settle (handshake buffers released), with the fleet's reads pending.
  for (int i = 0; i < 20; ++i) fleet.io().run_for(100ms);
  SOTTO_TRY(auto loaded, sample_process(relay.process.pid()));
  const auto open = scrape(relay.metrics_port, "sotto_relay_connections");
  IdleResult r{"sotto", n, idle.rss_kb, loaded.rss_kb, 0, ""};
  r.bytes_per_connection = (static_cast<double>(loaded.rss_kb) - static_cast<double>(idle.rss_kb)) *
                           1024.0 / static_cast<double>(n);
  r.note = "relay reports " + (open ? std::to_string(static_cast<long>(*open)) : "?") +
           " open connections; client sees " + std::to_string(fleet.open_count());
  if (fleet.open_count() != n) return fail("idle connections were closed: " + r.note);
  return r;
}

Result<IdleResult, std::string> idle_peer(System s, std::size_t n, const fs::path& scratch) {
  TempDir dir(std::string("sotto-bench-idle-") + name_of(s));
  SOTTO_TRY(auto fsync, FsyncCounter::create(scratch / "fsyncs-idle"));
  Result<Broker, std::string> b =
      s == System::kMosquitto ? start_mosquitto(dir.path(), fsync) : start_redis(dir.path(), fsync);
  if (!b) return fail(b.error());
  std::this_thread::sleep_for(1s);
  SOTTO_TRY(auto idle, sample_process(b->process.pid()));
  RawConnections conns;
  if (s == System::kMosquitto) {
    SOTTO_TRY_VOID(conns.open(
        b->port, n, [](std::size_t i) { return mqtt_connect_packet("idle" + std::to_string(i)); },
        kMqttConnackOk.size(), kMqttConnackOk));
  } else {
    const std::string ping = "PING\r\n", pong = "+PONG\r\n";
    SOTTO_TRY_VOID(conns.open(
        b->port, n, [&](std::size_t) { return Bytes(ping.begin(), ping.end()); }, pong.size(),
        Bytes(pong.begin(), pong.end())));
  }
  std::this_thread::sleep_for(2s);
  SOTTO_TRY(auto loaded, sample_process(b->process.pid()));
  IdleResult r{name_of(s), n, idle.rss_kb, loaded.rss_kb, 0, "plain TCP, no authentication"};
  r.bytes_per_connection = (static_cast<double>(loaded.rss_kb) - static_cast<double>(idle.rss_kb)) *
                           1024.0 / static_cast<double>(n);
  conns.close_all();
  return r;
}

// ---- disk per queued message ----

std::uint64_t store_bytes(const fs::path& data_dir) {
  std::uint64_t total = 0;
  for (const char* f : {"relay.db", "relay.db-wal"}) {
    std::error_code ec;
    const auto n = fs::file_size(data_dir / f, ec);
    if (!ec) total += n;
  }
  return total;
}

// `n` envelopes queued for an offline recipient; the store's growth per
// envelope once the relay has stopped (SQLite checkpoints the WAL into the
// database file at the last close).
Result<double, std::string> disk_per_message(std::size_t n, std::size_t size) {
  SOTTO_TRY(auto relay, start_relay(nullptr));
  SystemRng rng;
  auto accounts = make_accounts(2, rng);
  const auto recipient = accounts[1].identity.public_key;
  {
    SottoFleet registering(relay.process.address(), 4096);
    SOTTO_TRY_VOID(registering.connect_all(accounts, Setup::kRegister, 2, 60s));
  }
  SOTTO_TRY_VOID(relay.process.stop());
  const auto before = store_bytes(relay.process.data_dir());
  SOTTO_TRY_VOID(relay.process.start());
  {
    std::vector<Account> sender;
    sender.push_back(std::move(accounts[0]));
    SottoFleet fleet(relay.process.address(), 64 * 1024);
    SOTTO_TRY_VOID(fleet.connect_all(sender, Setup::kConfirm, 1, 60s));
    auto& conn = *fleet.conns()[0];
    std::size_t sent = 0, accepted = 0;
    std::optional<std::string> error;
    conn.on_response = [&](relay::Response& r) {
      if (r.status == relay::Status::kAccepted)
        ++accepted;
      else
        error = "a send was refused: " + std::string(relay::to_string(r.status));
    };
    const auto deadline = std::chrono::steady_clock::now() + 300s;
    while (accepted < n && !error && std::chrono::steady_clock::now() < deadline) {
      while (sent < n && sent - accepted < 16)
        conn.request(relay::SendRequest{recipient, make_message(size, Stamp{0, sent++, 0})});
      fleet.io().run_one_for(100ms);
    }
    if (error) return fail(*error);
    if (accepted < n) return fail(std::string("the sends were not accepted in time"));
  }
  SOTTO_TRY_VOID(relay.process.stop());
  const auto after = store_bytes(relay.process.data_dir());
  return (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(n);
}

// ---- printing ----

std::string fmt(double v, int decimals = 0) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  // Thousands separators for the integer part.
  std::string s(b);
  auto dot = s.find('.');
  std::string whole = s.substr(0, dot), rest = dot == std::string::npos ? "" : s.substr(dot);
  std::string out;
  const bool neg = !whole.empty() && whole[0] == '-';
  if (neg) whole.erase(0, 1);
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) out += ',';
    out += whole[i];
  }
  return (neg ? "-" : "") + out + rest;
}

void print_run(const LoadResult& r) {
  std::printf(
      "  %-9s %10s msg/s  p50 %8s us  p99 %9s us  p999 %9s us  fsync/msg %.3f  "
      "server %6.1f us/msg  clients %6.1f us/msg  peak RSS %s KiB  errors %llu  %s\n",
      r.system.c_str(), fmt(r.msg_per_s).c_str(), fmt(r.p50_us).c_str(), fmt(r.p99_us).c_str(),
      fmt(r.p999_us).c_str(), r.fsyncs_per_msg,
      r.delivered ? r.server_cpu_s * 1e6 / static_cast<double>(r.delivered) : 0.0,
      r.delivered ? r.client_cpu_s * 1e6 / static_cast<double>(r.delivered) : 0.0,
      fmt(static_cast<double>(r.server_hwm_kb)).c_str(), static_cast<unsigned long long>(r.errors),
      r.note.c_str());
  std::fflush(stdout);
}

struct Scenario {
  std::string title;
  LoadSpec spec;
  bool latency = false;  // compare p99 (lower is better) instead of msg/s
  std::map<std::string, std::vector<LoadResult>> runs;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string machine_text() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model = "?";
  while (std::getline(cpu, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  std::ifstream load("/proc/loadavg");
  std::string l1, l5, l15;
  load >> l1 >> l5 >> l15;
  return std::to_string(std::thread::hardware_concurrency()) + " CPUs (" + model +
         "), load average " + l1 + " / " + l5 + " / " + l15;
}

}  // namespace
}  // namespace sotto::bench

using namespace sotto::bench;

int main(int argc, char** argv) {
  std::string mode = "full", markdown, only;
  LoadSpec custom;
  bool custom_given = false;
  std::size_t idle_n = 10'000, rounds = 3, disk_n = 5'000;
  bool disk_only = false, idle_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--smoke" || a == "--quick" || a == "--full") {
      mode = a.substr(2);
    } else if (a == "--markdown") {
      markdown = next();
    } else if (a == "--only") {
      only = next();
    } else if (a == "--pairs") {
      custom.pairs = std::stoul(next()), custom_given = true;
    } else if (a == "--payload") {
      custom.payload = std::stoul(next()), custom_given = true;
    } else if (a == "--window") {
      custom.window = std::stoul(next()), custom_given = true;
    } else if (a == "--rate") {
      custom.rate = std::stod(next()), custom_given = true;
    } else if (a == "--seconds") {
      custom.measure_s = std::stod(next()), custom_given = true;
    } else if (a == "--warmup") {
      custom.warmup_s = std::stod(next()), custom_given = true;
    } else if (a == "--idle") {
      idle_n = std::stoul(next());
    } else if (a == "--disk") {
      disk_n = std::stoul(next());
    } else if (a == "--disk-only") {
      disk_only = true;
    } else if (a == "--idle-only") {
      idle_only = true;
    } else if (a == "--rounds") {
      rounds = std::stoul(next());
    } else {
      std::fprintf(
          stderr,
          "usage: relay_load [--smoke|--quick|--full] [--markdown FILE] "
          "[--only sotto,mosquitto,redis] [--pairs N] [--payload BYTES] [--window W] "
          "[--rate MSG_PER_S] [--seconds S] [--warmup S] [--idle N] [--rounds R] [--disk N] "
          "[--disk-only] [--idle-only]\n");
      return 2;
    }
  }
  const auto fd_limit = raise_fd_limit();
  TempDir scratch("sotto-bench-scratch");
  std::vector<System> systems;
  for (System s : {System::kSotto, System::kMosquitto, System::kRedis, System::kFloorTcp,
                   System::kFloorAead}) {
    // The smoke run keeps the floors running too (no brokers: nothing to install).
    if (mode == "smoke" && (s == System::kMosquitto || s == System::kRedis)) continue;
    if (!only.empty() && only.find(name_of(s)) == std::string::npos) continue;
    if (!available(s)) {
      std::printf("(%s not available: not built or not installed; skipped)\n", name_of(s));
      continue;
    }
    systems.push_back(s);
  }

  // The scenarios of issue 6. Message size: 609 bytes, the envelope of the
  // 512-byte padding bucket (97 + 512: common/envelope.hpp), for every system.
  std::vector<Scenario> scenarios;
  LoadSpec base;
  base.payload = 609;
  base.window = 16;
  if (mode == "smoke") {
    base.warmup_s = 0.5, base.measure_s = 1.5, rounds = 1, idle_n = 20;
  } else if (mode == "quick") {
    base.warmup_s = 1, base.measure_s = 3, rounds = 1, idle_n = std::min<std::size_t>(idle_n, 2000);
  }
  if (mode == "smoke") disk_n = std::min<std::size_t>(disk_n, 100);
  if (disk_only) {
    idle_n = 0;
  } else if (idle_only) {
    disk_n = 0;
  } else if (custom_given) {
    disk_n = 0;
    LoadSpec s = custom;
    scenarios.push_back({"custom load", s, s.rate > 0, {}});
    idle_n = 0;
  } else if (mode == "smoke") {
    LoadSpec s = base;
    s.pairs = 2, s.window = 4;
    scenarios.push_back({"2 pairs, 609 B, window 4 (smoke)", s, false, {}});
  } else {
    LoadSpec a = base;
    a.pairs = 100;
    scenarios.push_back({"100 pairs, 609 B, window 16: delivered msg/s", a, false, {}});
    LoadSpec b = base;
    b.pairs = 1;
    scenarios.push_back({"1 pair, 609 B, window 16: delivered msg/s", b, false, {}});
    LoadSpec c = base;
    c.pairs = 100, c.rate = 10'000;
    scenarios.push_back({"100 pairs at 10,000 msg/s: p99 latency (ms)", c, true, {}});
  }

  std::printf("relay_load (%s): %s; RLIMIT_NOFILE %llu\n", mode.c_str(), machine_text().c_str(),
              static_cast<unsigned long long>(fd_limit));
  bool failed = false;
  for (auto& sc : scenarios) {
    std::printf("\n%s (warm-up %.1f s, measured %.1f s, %zu round(s))\n", sc.title.c_str(),
                sc.spec.warmup_s, sc.spec.measure_s, rounds);
    for (std::size_t round = 0; round < rounds; ++round) {
      for (std::size_t k = 0; k < systems.size(); ++k) {
        const System s = systems[(k + round) % systems.size()];
        auto r = run_one(s, sc.spec, scratch.path());
        if (!r) {
          std::printf("  %-9s FAILED: %s\n", name_of(s), r.error().c_str());
          failed = true;
          continue;
        }
        print_run(*r);
        sc.runs[name_of(s)].push_back(*r);
      }
    }
  }

  std::vector<IdleResult> idle;
  if (idle_n > 0) {
    std::printf("\n%zu idle connections: resident memory per connection\n", idle_n);
    for (System s : systems) {
      if (s == System::kFloorTcp || s == System::kFloorAead) continue;  // no idle floor
      auto r = s == System::kSotto ? idle_sotto(idle_n) : idle_peer(s, idle_n, scratch.path());
      if (!r) {
        std::printf("  %-9s FAILED: %s\n", name_of(s), r.error().c_str());
        failed = true;
        continue;
      }
      std::printf("  %-9s RSS idle %s KiB, with %zu connections %s KiB: %s bytes/connection (%s)\n",
                  r->system.c_str(), fmt(static_cast<double>(r->rss_idle_kb)).c_str(), idle_n,
                  fmt(static_cast<double>(r->rss_loaded_kb)).c_str(),
                  fmt(r->bytes_per_connection).c_str(), r->note.c_str());
      idle.push_back(*r);
    }
  }

  std::optional<double> disk;
  if (disk_n > 0) {
    auto d = disk_per_message(disk_n, 609);
    if (!d) {
      std::printf("\ndisk per queued message: FAILED: %s\n", d.error().c_str());
      failed = true;
    } else {
      disk = *d;
      std::printf(
          "\ndisk per queued 609-byte envelope (%zu queued, SQLite file after checkpoint): "
          "%s bytes\n",
          disk_n, fmt(*disk).c_str());
    }
  }

  // ---- the summary table ----
  std::ostringstream md;
  md << "Machine: " << machine_text() << " (at the end of the run).\n\n";
  md << "| scenario | sotto | mosquitto | sotto ÷ mosquitto | redis (always) | sotto ÷ redis | "
        "target | |\n|---|---:|---:|---:|---:|---:|---|---|\n";
  auto figure = [](const Scenario& sc, const std::string& sys) -> std::optional<double> {
    auto it = sc.runs.find(sys);
    if (it == sc.runs.end() || it->second.empty()) return std::nullopt;
    std::vector<double> v;
    for (const auto& r : it->second) v.push_back(sc.latency ? r.p99_us / 1000.0 : r.msg_per_s);
    return median(v);
  };
  for (const auto& sc : scenarios) {
    const auto s = figure(sc, "sotto"), m = figure(sc, "mosquitto"), r = figure(sc, "redis");
    const int dec = sc.latency ? 2 : 0;
    auto cell = [&](std::optional<double> v) { return v ? fmt(*v, dec) : std::string("—"); };
    auto ratio = [&](std::optional<double> peer) {
      return s && peer && *peer > 0 ? fmt(*s / *peer, 2) + "×" : std::string("—");
    };
    std::string target = "—", verdict;
    if (sc.spec.pairs == 100 && !sc.latency) {
      target = "≥ 1.5× mosquitto, ≥ 1.0× redis";
      if (s && m && r) verdict = (*s >= 1.5 * *m && *s >= *r) ? "PASS" : "MISS";
    } else if (sc.spec.pairs == 1) {
      target = "≥ 1.0× redis";
      if (s && r) verdict = *s >= *r ? "PASS" : "MISS";
    } else if (sc.latency && sc.spec.pairs == 100) {
      target = "≤ 1.0× mosquitto";
      if (s && m) verdict = *s <= *m ? "PASS" : "MISS";
    }
    md << "| " << sc.title << " | " << cell(s) << " | " << cell(m) << " | " << ratio(m) << " | "
       << cell(r) << " | " << ratio(r) << " | " << target << " | " << verdict << " |\n";
  }
  if (!idle.empty()) {
    std::optional<double> s, m, r;
    for (const auto& i : idle) {
      if (i.system == "sotto") s = i.bytes_per_connection;
      if (i.system == "mosquitto") m = i.bytes_per_connection;
      if (i.system == "redis") r = i.bytes_per_connection;
    }
    auto cell = [](std::optional<double> v) { return v ? fmt(*v) : std::string("—"); };
    auto ratio = [&](std::optional<double> peer) {
      return s && peer && *peer > 0 ? fmt(*s / *peer, 2) + "×" : std::string("—");
    };
    md << "| memory per idle connection, " << fmt(static_cast<double>(idle_n))
       << " connections (bytes) | " << cell(s) << " | " << cell(m) << " | " << ratio(m) << " | "
       << cell(r) << " | " << ratio(r) << " | ≤ 2,048 B | "
       << (s ? (*s <= 2048 ? "PASS" : "MISS") : "") << " |\n";
  }
  if (disk)
    md << "| disk per queued 609-byte envelope (bytes) | " << fmt(*disk)
       << " | — | — | — | — | — | |\n";
  // The floors, when they ran: what the least relay of the same exchange
  // does under the same load, and how close Sotto and redis come to it.
  bool floors = false;
  for (const auto& sc : scenarios)
    floors = floors || figure(sc, "floor-tcp") || figure(sc, "floor-aead");
  if (floors) {
    md << "\nFloors in the same run (floor_wire.hpp: the same frames, nothing stored, no "
          "protobuf, no handshake; floor-aead seals every frame with ChaCha20-Poly1305 as "
          "Noise does):\n\n"
       << "| scenario | floor-tcp | floor-aead | sotto ÷ floor-aead | redis ÷ floor-aead |\n"
       << "|---|---:|---:|---:|---:|\n";
    for (const auto& sc : scenarios) {
      const auto s = figure(sc, "sotto"), r = figure(sc, "redis");
      const auto ft = figure(sc, "floor-tcp"), fa = figure(sc, "floor-aead");
      const int dec = sc.latency ? 2 : 0;
      auto cell = [&](std::optional<double> v) { return v ? fmt(*v, dec) : std::string("—"); };
      auto ratio = [&](std::optional<double> a) {
        return a && fa && *fa > 0 ? fmt(*a / *fa, 2) + "×" : std::string("—");
      };
      md << "| " << sc.title << " | " << cell(ft) << " | " << cell(fa) << " | " << ratio(s) << " | "
         << ratio(r) << " |\n";
    }
  }
  md << "\nEach figure is the median of " << rounds
     << " run(s); every run of every scenario, in order:\n\n"
     << "| scenario | system | msg/s | p50 ms | p99 ms | p99.9 ms | fsyncs/msg | server CPU "
        "µs/msg | client CPU µs/msg | server peak RSS MiB | errors |\n"
     << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& sc : scenarios)
    for (const auto& [sys, runs] : sc.runs)
      for (const auto& r : runs) {
        const double n = static_cast<double>(std::max<std::uint64_t>(r.delivered, 1));
        md << "| " << sc.title.substr(0, sc.title.find(':')) << " | " << sys << " | "
           << fmt(r.msg_per_s) << " | " << fmt(r.p50_us / 1e3, 2) << " | " << fmt(r.p99_us / 1e3, 2)
           << " | " << fmt(r.p999_us / 1e3, 2) << " | " << fmt(r.fsyncs_per_msg, 3) << " | "
           << fmt(r.server_cpu_s * 1e6 / n, 1) << " | " << fmt(r.client_cpu_s * 1e6 / n, 1) << " | "
           << fmt(static_cast<double>(r.server_hwm_kb) / 1024.0, 1) << " | " << r.errors << " |\n";
      }
  for (const auto& i : idle)
    md << "\nIdle connections, " << i.system << ": RSS " << fmt(static_cast<double>(i.rss_idle_kb))
       << " KiB idle, " << fmt(static_cast<double>(i.rss_loaded_kb)) << " KiB with "
       << fmt(static_cast<double>(i.connections)) << " connections (" << i.note << ").\n";
  std::printf("\n%s", md.str().c_str());
  if (!markdown.empty()) {
    std::error_code ec;
    fs::create_directories(fs::path(markdown).parent_path(), ec);
    std::ofstream(markdown) << md.str();
    std::printf("\nwritten to %s\n", markdown.c_str());
  }
  return failed ? 1 : 0;
}
