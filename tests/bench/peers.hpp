// peers.hpp — the brokers the relay load benchmark compares Sotto with, each
// started by the benchmark on a free loopback port in its own temporary
// directory with its own configuration, and stopped after the run:
//
//   mosquitto     MQTT 3.1.1, QoS 1, `persistence true` (a snapshot written
//                 every `autosave_interval` seconds and at shutdown: a PUBACK
//                 means "in the broker's memory", not "on disk"); receivers
//                 hold persistent sessions (clean_session = false).
//   redis-server  `appendonly yes`, `appendfsync always` (the AOF is fsynced
//                 before replies leave the event loop: a reply to LPUSH means
//                 "on disk"), used as a mailbox: LPUSH by the sender, BRPOP by
//                 the receiver (BRPOP's removal is written to the AOF too).
//
// The drivers (LoadTargets) are built only when libmosquitto / hiredis were
// found (SOTTO_BENCH_HAVE_MOSQUITTO, SOTTO_BENCH_HAVE_HIREDIS); the brokers'
// binaries are looked up on PATH at run time. Without them the benchmark
// measures the relay alone.
//
// What fails: a broker that does not start or does not accept connections
// within 30 s (the message includes its log); a client that cannot connect.
// Ownership: a Broker owns its process (stopped by the destructor); the
// temporary directory is the caller's.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/load_common.hpp"

namespace sotto::bench {

struct Broker {
  ChildProcess process;
  std::uint16_t port = 0;
  std::string name;
  std::filesystem::path log;
};

// True when `program` is an executable on PATH.
bool on_path(const std::string& program);

Result<Broker, std::string> start_mosquitto(const std::filesystem::path& dir,
                                            const FsyncCounter& fsync);
Result<Broker, std::string> start_redis(const std::filesystem::path& dir,
                                        const FsyncCounter& fsync);

// `n` plain TCP connections to 127.0.0.1:port that each send hello(i) and
// read a reply of reply_size bytes starting with `expect` (MQTT CONNECT ->
// CONNACK; redis PING -> +PONG). The file descriptors stay open until
// close_all(); the connections are then idle.
class RawConnections {
 public:
  RawConnections() = default;
  ~RawConnections();
  RawConnections(const RawConnections&) = delete;
  RawConnections& operator=(const RawConnections&) = delete;
  Result<void, std::string> open(std::uint16_t port, std::size_t n,
                                 const std::function<Bytes(std::size_t)>& hello,
                                 std::size_t reply_size, const Bytes& expect);
  void close_all();
  std::size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};
Bytes mqtt_connect_packet(const std::string& client_id);
inline const Bytes kMqttConnackOk{0x20, 0x02, 0x00, 0x00};

// The floor relay (floor_relay.cpp, built beside the benchmark) and its
// clients (peer_floor.cpp): `aead` seals every frame as Noise does.
std::string floor_relay_path();
Result<Broker, std::string> start_floor(const std::filesystem::path& dir, bool aead,
                                        const FsyncCounter& fsync);
Result<std::unique_ptr<LoadTarget>, std::string> make_floor_target(std::uint16_t port,
                                                                   std::size_t pairs, bool aead);

#if SOTTO_BENCH_HAVE_MOSQUITTO
// `pairs` publishers and `pairs` subscribers (topic b/<pair>, QoS 1).
Result<std::unique_ptr<LoadTarget>, std::string> make_mosquitto_target(std::uint16_t port,
                                                                       std::size_t pairs);
#endif
#if SOTTO_BENCH_HAVE_HIREDIS
// `pairs` LPUSH clients and `pairs` BRPOP clients (list m/<pair>); each
// receiver keeps `receive_window` BRPOPs pipelined.
Result<std::unique_ptr<LoadTarget>, std::string> make_redis_target(std::uint16_t port,
                                                                   std::size_t pairs,
                                                                   std::size_t receive_window);
#endif

}  // namespace sotto::bench
