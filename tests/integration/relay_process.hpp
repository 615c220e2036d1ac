// relay_process.hpp — the integration tests' fixture: the REAL sotto-relay
// binary (SOTTO_RELAY_BIN), run as a child process on 127.0.0.1.
//
//   auto relay = RelayProcess::create({{"quotas", "mailbox_messages", "2"}});
//   REQUIRE(relay);                        // init + relay.toml edits + run + accepting
//   relay->address();                      // sotto://127.0.0.1:PORT/<key>, key from `init`
//   relay->stop();                         // SIGTERM, wait; SIGKILL after a timeout
//   relay->start();                        // `run` again on the same data directory
//   relay->kill();                         // SIGKILL at once (a crash), wait
//
// create() makes a fresh temporary directory, runs `sotto-relay init --data
// DIR/relay --listen 127.0.0.1:PORT` with a port found free by binding port 0,
// applies the requested relay.toml settings (metrics are always disabled, so
// relays of tests running in parallel do not compete for the metrics port),
// then start(). start() runs `sotto-relay run --data DIR/relay --listen
// 127.0.0.1:PORT` with stdout and stderr appended to DIR/relay.log, and waits
// until a TCP connect succeeds; if the relay exits first because the port was
// taken meanwhile, it picks another port and tries again (the address changes).
//
// Every process started is stopped: stop() is called by the destructor, which
// also removes the directory (kept when SOTTO_KEEP_TEST_DIRS is set, for
// debugging). What fails: every step returns a message that includes the
// relay's log, so a failing test shows why.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/relay_address.hpp"
#include "common/result.hpp"

namespace sotto::test {

struct ConfigSetting {
  std::string table;  // "" for the top level
  std::string key;
  std::string value;  // TOML text: 2, "full", true
};

class RelayProcess {
 public:
  [[nodiscard]] static Result<RelayProcess, std::string> create(
      std::vector<ConfigSetting> settings = {});

  RelayProcess(RelayProcess&& other) noexcept;
  RelayProcess& operator=(RelayProcess&&) = delete;
  RelayProcess(const RelayProcess&) = delete;
  ~RelayProcess();

  // Runs the relay (extra environment variables for this run only) and waits
  // until it accepts connections.
  [[nodiscard]] Result<void, std::string> start(std::map<std::string, std::string> env = {});
  // SIGTERM, then waits up to `grace`; SIGKILL after that. Returns the exit
  // status (128 + signal when killed by one).
  [[nodiscard]] Result<int, std::string> stop(
      std::chrono::milliseconds grace = std::chrono::seconds(20));
  // SIGKILL at once, as a crash would, and waits. Returns the exit status
  // (137 when the signal was what ended it). start() runs it again on the same
  // data directory and port (another port only if that one is taken).
  [[nodiscard]] Result<int, std::string> kill();
  bool running() const { return pid_ > 0; }
  // The relay's process id (-1 when stopped), e.g. for /proc/<pid>/status.
  pid_t pid() const { return pid_; }
  // True while the started process has not exited (false after a crash).
  bool alive() const;

  const RelayAddress& address() const { return address_; }
  std::string address_text() const { return address_.to_string(); }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Everything the relay wrote to stdout and stderr so far.
  std::string log() const;
  // Waits until the log contains `needle` (true) or the timeout passes.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Runs `sotto-relay <args>` (not `run`) and returns its exit status and stdout.
  struct Output {
    int status = -1;
    std::string out;
  };
  Output command(const std::vector<std::string>& args) const;
  // Changes one relay.toml setting (takes effect at the next start()).
  [[nodiscard]] Result<void, std::string> set(const ConfigSetting& setting);

 private:
  RelayProcess() = default;
  std::filesystem::path root_;
  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  RelayAddress address_;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t free_loopback_port();

// Child processes of the tests and benchmarks (one implementation for all).
// The test's own environment with `env` applied: a key replaces the inherited
// variable of that name; an empty value removes it.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& env);
// Starts argv (argv[0] searched in PATH unless it names a path) with stdin from
// /dev/null, stdout and stderr appended to `log` and environment_with(env).
// Returns the pid, or -1 with posix_spawn's error code in `*error` if given.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                   const std::map<std::string, std::string>& env, int* error = nullptr);

}  // namespace sotto::test
