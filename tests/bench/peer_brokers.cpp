// peer_brokers.cpp — starting mosquitto and redis-server for the relay load
// benchmark, and plain idle connections to them (see peers.hpp).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bench/peers.hpp"
#include "integration/relay_process.hpp"

namespace sotto::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && ::access((fs::path(d) / program).c_str(), X_OK) == 0) return true;
  return false;
}

namespace {

std::string read_log(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<Broker, std::string> start(const std::string& name, std::vector<std::string> argv,
                                  const fs::path& log, std::uint16_t port,
                                  const FsyncCounter& fsync) {
  SOTTO_TRY(auto child, ChildProcess::spawn(argv, log, fsync.env()));
  Broker b{std::move(child), port, name, log};
  if (!wait_for_port(port, b.process, 30s))
    return fail(name + " did not accept connections on port " + std::to_string(port) + ":\n" +
                read_log(log));
  return b;
}

}  // namespace

Result<Broker, std::string> start_floor(const fs::path& dir, bool aead, const FsyncCounter& fsync) {
  const std::uint16_t port = test::free_loopback_port();
  const std::string name = aead ? "floor-aead" : "floor-tcp";
  return start(name, {floor_relay_path(), std::to_string(port), aead ? "aead" : "tcp"},
               dir / (name + ".log"), port, fsync);
}

Result<Broker, std::string> start_mosquitto(const fs::path& dir, const FsyncCounter& fsync) {
  const std::uint16_t port = test::free_loopback_port();
  const fs::path conf = dir / "mosquitto.conf";
  std::ofstream(conf) << "# relay_load: mosquitto with QoS 1 persistence (docs/performance.md)\n"
                      << "listener " << port << " 127.0.0.1\n"
                      << "allow_anonymous true\n"
                      << "user root\n"  // stay the user that started it (the temp dir's owner)
                      << "persistence true\n"
                      << "persistence_location " << dir.string() << "/\n"
                      << "autosave_interval 1800\n"       // the default, stated
                      << "max_inflight_messages 0\n"      // no broker-side cap on QoS 1 in flight
                      << "max_queued_messages 1000000\n"  // never drop for a slow receiver
                      << "max_connections -1\n"
                      << "set_tcp_nodelay true\n"  // as the relay's clients and redis do
                      << "log_dest stdout\n"
                      << "log_type error\nlog_type warning\n";
  return start("mosquitto", {"mosquitto", "-c", conf.string()}, dir / "mosquitto.log", port, fsync);
}

Result<Broker, std::string> start_redis(const fs::path& dir, const FsyncCounter& fsync) {
  const std::uint16_t port = test::free_loopback_port();
  const fs::path conf = dir / "redis.conf";
  std::ofstream(conf) << "# relay_load: redis as a durable mailbox (docs/performance.md)\n"
                      << "port " << port << "\n"
                      << "bind 127.0.0.1\n"
                      << "protected-mode no\n"
                      << "daemonize no\n"
                      << "dir " << dir.string() << "\n"
                      << "appendonly yes\n"
                      << "appendfsync always\n"
                      << "save \"\"\n"  // no RDB snapshots besides the AOF
                      << "maxclients 19000\n"
                      << "logfile \"\"\n"
                      << "loglevel warning\n";
  return start("redis", {"redis-server", conf.string()}, dir / "redis.log", port, fsync);
}

// ---- plain idle connections ----

Bytes mqtt_connect_packet(const std::string& client_id) {
  // CONNECT (MQTT 3.1.1): protocol name "MQTT", level 4, clean session,
  // keep-alive 0 (none: the connection may stay idle), client id.
  Bytes variable{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00};
  put_u16be(variable, static_cast<std::uint16_t>(client_id.size()));
  variable.insert(variable.end(), client_id.begin(), client_id.end());
  Bytes p;
  p.reserve(2 + variable.size());
  p.push_back(0x10);
  p.push_back(static_cast<std::uint8_t>(variable.size()));  // < 128 bytes: one length byte
  p.insert(p.end(), variable.begin(), variable.end());
  return p;
}

RawConnections::~RawConnections() {
  close_all();
}

void RawConnections::close_all() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

Result<void, std::string> RawConnections::open(std::uint16_t port, std::size_t n,
                                               const std::function<Bytes(std::size_t)>& hello,
                                               std::size_t reply_size, const Bytes& expect) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket: " + std::string(std::strerror(errno)));
    fds_.push_back(fd);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      return fail("connection " + std::to_string(i) + ": " + std::strerror(errno));
    const Bytes h = hello(i);
    if (::write(fd, h.data(), h.size()) != static_cast<ssize_t>(h.size()))
      return fail("connection " + std::to_string(i) + ": short write");
    Bytes reply(reply_size);
    std::size_t got = 0;
    while (got < reply_size) {
      const ssize_t k = ::read(fd, reply.data() + got, reply_size - got);
      if (k <= 0) return fail("connection " + std::to_string(i) + ": no reply");
      got += static_cast<std::size_t>(k);
    }
    if (!std::equal(expect.begin(), expect.end(), reply.begin()))
      return fail("connection " + std::to_string(i) + ": unexpected reply");
  }
  return {};
}

}  // namespace sotto::bench
