// load_common.hpp — what the relay load benchmark (relay_load.cpp) shares
// between the systems it drives (sotto-relay, mosquitto, redis): the load
// description, the message stamp, the measuring loop, process figures from
// /proc, the fsync counter and a child-process handle for the brokers.
//
// The load: `pairs` sender->receiver pairs; each message carries a stamp
// (pair, sequence, send time) in its first bytes and filler after it. In the
// closed-loop mode a pair keeps `window` messages in flight (sent and not yet
// received by its receiver); in the fixed-rate mode (`rate` > 0) every pair
// sends on a schedule of rate/pairs messages per second and the stamp carries
// the *scheduled* time, so a system that falls behind is charged for the
// queueing it causes (no coordinated omission), with at most
// `max_outstanding` messages per pair handed to the system at once.
//
// A LoadTarget is one system's clients: send(pair, payload) hands a message to
// pair's sender; poll() runs the clients' I/O for at most the given time and
// calls on_receive for every message a receiver got. run_load() drives a
// target: warm-up, then a measured window, while sampling the server process
// (CPU time from /proc/PID/stat, VmHWM from /proc/PID/status) and the fsync
// counter at the window's edges.
//
// What fails: run_load returns an error when the target reports one, or when
// nothing at all is delivered in the window. Ownership: callers own targets,
// processes and counters; everything is single-threaded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace sotto::bench {

std::int64_t now_ns();  // steady clock

struct LoadSpec {
  std::size_t pairs = 100;
  std::size_t payload = 609;         // bytes per message (a valid envelope size for sotto)
  std::size_t window = 16;           // closed loop: messages in flight per pair
  double rate = 0;                   // fixed rate, messages/s over all pairs; 0 = closed loop
  std::size_t max_outstanding = 32;  // fixed rate: messages per pair handed over at once
  double warmup_s = 2;
  double measure_s = 8;
};

// The stamp in a message's first kStampBytes: 0x01 (the envelope version
// byte), pair u32be, sequence u64be, send time u64be (steady ns).
inline constexpr std::size_t kStampBytes = 1 + 4 + 8 + 8;
struct Stamp {
  std::uint32_t pair = 0;
  std::uint64_t seq = 0;
  std::int64_t sent_ns = 0;
};
// A message of `size` bytes (>= kStampBytes) carrying `s`, filler after it.
Bytes make_message(std::size_t size, const Stamp& s);
std::optional<Stamp> read_stamp(ByteView message);

class LoadTarget {
 public:
  virtual ~LoadTarget() = default;
  // Hands a message to pair `pair`'s sender; false if it cannot take one now.
  virtual bool send(std::size_t pair, Bytes message) = 0;
  // Runs the clients' I/O for at most `max_wait` (returns early once something happened).
  virtual void poll(std::chrono::milliseconds max_wait) = 0;
  // A fatal error of the clients (connection lost), if any.
  virtual std::optional<std::string> failure() const = 0;
  // Requests the system refused or errored (retried by the target).
  virtual std::uint64_t errors() const = 0;
  std::function<void(ByteView message)> on_receive;
};

struct ProcessSample {
  double cpu_s = 0;          // utime + stime
  std::uint64_t rss_kb = 0;  // VmRSS
  std::uint64_t hwm_kb = 0;  // VmHWM (peak)
};
Result<ProcessSample, std::string> sample_process(pid_t pid);
double self_cpu_s();  // this process (the load clients), user + system

// A counter file for fsync_counter.so (SOTTO_FSYNC_COUNTER).
class FsyncCounter {
 public:
  static Result<FsyncCounter, std::string> create(const std::filesystem::path& file);
  FsyncCounter(FsyncCounter&&) noexcept;
  FsyncCounter& operator=(FsyncCounter&&) = delete;
  ~FsyncCounter();
  std::uint64_t read() const;
  // The environment that makes a child count into this file (LD_PRELOAD too).
  std::map<std::string, std::string> env() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  FsyncCounter() = default;
  std::filesystem::path path_;
  std::uint64_t* mapped_ = nullptr;
};
// The preload library built beside the benchmark (SOTTO_FSYNC_SHIM).
std::string fsync_shim_path();

struct LoadResult {
  std::string system;
  std::uint64_t delivered = 0;  // in the measured window
  double seconds = 0;
  double msg_per_s = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::uint64_t fsyncs = 0;
  double fsyncs_per_msg = 0;
  double server_cpu_s = 0;  // in the window
  double client_cpu_s = 0;  // this process, in the window
  std::uint64_t server_hwm_kb = 0;
  std::uint64_t errors = 0;
  std::string note;
};

// Hooks run_load calls at the edges of the measured window (e.g. to scrape
// the relay's metrics); both optional.
struct WindowHooks {
  std::function<void()> begin;
  std::function<void()> end;
};

Result<LoadResult, std::string> run_load(LoadTarget& target, const LoadSpec& spec, pid_t server,
                                         const FsyncCounter* fsync, WindowHooks hooks = {});

// A broker child process (mosquitto, redis-server): started with its output
// appended to a log, stopped with SIGTERM (SIGKILL after a grace period).
class ChildProcess {
 public:
  static Result<ChildProcess, std::string> spawn(const std::vector<std::string>& argv,
                                                 const std::filesystem::path& log,
                                                 const std::map<std::string, std::string>& env);
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  bool exited();
  void stop();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
};

// Waits until 127.0.0.1:port accepts a TCP connection (false on timeout or
// when `child` exits first).
bool wait_for_port(std::uint16_t port, ChildProcess& child, std::chrono::milliseconds timeout);

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();

}  // namespace sotto::bench
