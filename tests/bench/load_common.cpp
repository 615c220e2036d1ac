// load_common.cpp — see load_common.hpp.
#include "bench/load_common.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/relay_process.hpp"

namespace sotto::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---- the stamp ----

Bytes make_message(std::size_t size, const Stamp& s) {
  Bytes m;
  m.reserve(std::max(size, kStampBytes));
  m.push_back(0x01);
  put_u32be(m, s.pair);
  put_u64be(m, s.seq);
  put_u64be(m, static_cast<std::uint64_t>(s.sent_ns));
  // Filler that does not compress to nothing (the brokers might compress; none
  // do): a slice of a fixed pseudo-random block, at an offset that changes with
  // the sequence. Copied, not generated, so that making messages costs the one
  // client thread (shared by every system's clients) as little as possible.
  static const Bytes block = [] {
    Bytes b(128 * 1024);
    std::uint32_t x = 0x9e3779b9u;
    for (auto& byte : b) {
      x = x * 1664525u + 1013904223u;
      byte = static_cast<std::uint8_t>(x >> 24);
    }
    return b;
  }();
  const std::size_t filler = std::max(size, kStampBytes) - kStampBytes;
  const std::size_t span = block.size() / 2;
  const std::size_t at = static_cast<std::size_t>(s.seq * 97 % span);
  for (std::size_t done = 0; done < filler;) {  // one copy unless larger than half the block
    const std::size_t n = std::min(filler - done, span);
    m.insert(m.end(), block.begin() + static_cast<std::ptrdiff_t>(at),
             block.begin() + static_cast<std::ptrdiff_t>(at + n));
    done += n;
  }
  return m;
}

std::optional<Stamp> read_stamp(ByteView m) {
  if (m.size() < kStampBytes || m[0] != 0x01) return std::nullopt;
  Stamp s;
  s.pair = get_u32be(&m[1]);
  s.seq = get_u64be(&m[5]);
  s.sent_ns = static_cast<std::int64_t>(get_u64be(&m[13]));
  return s;
}

// ---- /proc ----

Result<ProcessSample, std::string> sample_process(pid_t pid) {
  ProcessSample out;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return fail("cannot read /proc/" + std::to_string(pid) + "/stat");
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return fail(std::string("unexpected /proc/PID/stat"));
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 13) return fail(std::string("short /proc/PID/stat"));
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.cpu_s = (std::stod(fields[11]) + std::stod(fields[12])) / tick;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    auto value = [&] { return std::stoull(line.substr(line.find(':') + 1)); };
    if (line.rfind("VmRSS:", 0) == 0) out.rss_kb = value();
    if (line.rfind("VmHWM:", 0) == 0) out.hwm_kb = value();
  }
  return out;
}

double self_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// ---- the fsync counter ----

Result<FsyncCounter, std::string> FsyncCounter::create(const fs::path& file) {
  FsyncCounter c;
  c.path_ = file;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create " + file.string() + ": " + std::strerror(errno));
  if (::ftruncate(fd, 4096) != 0) {
    ::close(fd);
    return fail("cannot size " + file.string());
  }
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return fail("cannot map " + file.string());
  c.mapped_ = static_cast<std::uint64_t*>(p);
  return c;
}

FsyncCounter::FsyncCounter(FsyncCounter&& o) noexcept
    : path_(std::move(o.path_)), mapped_(std::exchange(o.mapped_, nullptr)) {}

FsyncCounter::~FsyncCounter() {
  if (mapped_) ::munmap(mapped_, 4096);
}

std::uint64_t FsyncCounter::read() const {
  return __atomic_load_n(mapped_, __ATOMIC_RELAXED);
}

std::map<std::string, std::string> FsyncCounter::env() const {
  return {{"SOTTO_FSYNC_COUNTER", path_.string()}, {"LD_PRELOAD", fsync_shim_path()}};
}

std::string fsync_shim_path() {
  return SOTTO_FSYNC_SHIM;
}

// ---- the measuring loop ----

Result<LoadResult, std::string> run_load(LoadTarget& target, const LoadSpec& spec, pid_t server,
                                         const FsyncCounter* fsync, WindowHooks hooks) {
  struct Pair {
    std::uint64_t next_seq = 0;
    std::size_t in_flight = 0;  // sent, not yet received
    std::int64_t next_due = 0;  // fixed rate: the next scheduled send
  };
  std::vector<Pair> pairs(spec.pairs);
  std::vector<std::int64_t> latencies;
  latencies.reserve(1 << 20);
  bool measuring = false;
  std::uint64_t delivered = 0, foreign = 0;
  target.on_receive = [&](ByteView m) {
    auto s = read_stamp(m);
    if (!s || s->pair >= pairs.size()) {
      ++foreign;
      return;
    }
    auto& p = pairs[s->pair];
    if (p.in_flight > 0) --p.in_flight;
    if (measuring) {
      latencies.push_back(now_ns() - s->sent_ns);
      ++delivered;
    }
  };

  const std::int64_t start = now_ns();
  const double interval_ns =
      spec.rate > 0 ? 1e9 * static_cast<double>(spec.pairs) / spec.rate : 0.0;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    pairs[i].next_due = start + static_cast<std::int64_t>(interval_ns * static_cast<double>(i) /
                                                          static_cast<double>(pairs.size()));
  const auto warmup_end = start + static_cast<std::int64_t>(spec.warmup_s * 1e9);
  const auto measure_end = warmup_end + static_cast<std::int64_t>(spec.measure_s * 1e9);

  LoadResult r;
  ProcessSample s0;
  std::uint64_t fsync0 = 0, errors0 = 0;
  double self0 = 0;
  std::int64_t t0 = 0;
  double carry_ns = 0;  // fixed rate: fractional nanoseconds of the interval
  for (;;) {
    const std::int64_t now = now_ns();
    if (!measuring && now >= warmup_end) {
      if (hooks.begin) hooks.begin();
      SOTTO_TRY(s0, sample_process(server));
      fsync0 = fsync ? fsync->read() : 0;
      errors0 = target.errors();
      self0 = self_cpu_s();
      t0 = now_ns();
      measuring = true;
    } else if (measuring && now >= measure_end) {
      const std::int64_t t1 = now_ns();
      SOTTO_TRY(auto s1, sample_process(server));
      r.fsyncs = fsync ? fsync->read() - fsync0 : 0;
      r.client_cpu_s = self_cpu_s() - self0;
      r.server_cpu_s = s1.cpu_s - s0.cpu_s;
      r.server_hwm_kb = s1.hwm_kb;
      r.errors = target.errors() - errors0;
      r.seconds = static_cast<double>(t1 - t0) / 1e9;
      if (hooks.end) hooks.end();
      break;
    }
    if (spec.rate <= 0) {
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto& p = pairs[i];
        while (p.in_flight < spec.window) {
          Stamp st{static_cast<std::uint32_t>(i), p.next_seq, now_ns()};
          if (!target.send(i, make_message(spec.payload, st))) break;
          ++p.next_seq;
          ++p.in_flight;
        }
      }
    } else {
      for (std::size_t i = 0; i < pairs.size(); ++i) {
        auto& p = pairs[i];
        while (p.next_due <= now && p.in_flight < spec.max_outstanding) {
          Stamp st{static_cast<std::uint32_t>(i), p.next_seq, p.next_due};
          if (!target.send(i, make_message(spec.payload, st))) break;
          ++p.next_seq;
          ++p.in_flight;
          carry_ns += interval_ns;
          const auto whole = static_cast<std::int64_t>(carry_ns);
          carry_ns -= static_cast<double>(whole);
          p.next_due += whole;
        }
      }
    }
    target.poll(1ms);
    if (auto f = target.failure()) return fail(*f);
  }

  r.delivered = delivered;
  r.msg_per_s = r.seconds > 0 ? static_cast<double>(delivered) / r.seconds : 0;
  r.fsyncs_per_msg = delivered ? static_cast<double>(r.fsyncs) / static_cast<double>(delivered) : 0;
  if (delivered == 0) return fail(std::string("nothing was delivered in the measured window"));
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double q) {
    const auto n = latencies.size();
    auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    idx = std::min(n - 1, idx == 0 ? 0 : idx - 1);
    return static_cast<double>(latencies[idx]) / 1e3;
  };
  r.p50_us = pct(0.50);
  r.p99_us = pct(0.99);
  r.p999_us = pct(0.999);
  r.max_us = static_cast<double>(latencies.back()) / 1e3;
  if (foreign > 0) r.note += std::to_string(foreign) + " messages without a valid stamp; ";
  return r;
}

// ---- child processes ----

Result<ChildProcess, std::string> ChildProcess::spawn(
    const std::vector<std::string>& argv, const fs::path& log,
    const std::map<std::string, std::string>& env) {
  ChildProcess c;
  int rc = 0;
  c.pid_ = test::spawn_logged(argv, log, env, &rc);
  if (c.pid_ < 0) {
    return fail("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return c;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}

ChildProcess::~ChildProcess() {
  stop();
}

bool ChildProcess::exited() {
  if (pid_ <= 0) return true;
  int st = 0;
  if (::waitpid(pid_, &st, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!exited()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(5ms);
  }
}

bool wait_for_port(std::uint16_t port, ChildProcess& child, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    if (ok) return true;
    if (child.exited()) return false;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TempDir::TempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(templ.data())) path_ = templ;
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("SOTTO_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::uint64_t raise_fd_limit() {
  rlimit l{};
  ::getrlimit(RLIMIT_NOFILE, &l);
  l.rlim_cur = l.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &l);
  ::getrlimit(RLIMIT_NOFILE, &l);
  return l.rlim_cur;
}

}  // namespace sotto::bench
