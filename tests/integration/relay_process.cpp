// relay_process.cpp — see relay_process.hpp.
#include "integration/relay_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sotto::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}


int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// Waits for `pid` up to `timeout`; the exit status, or nullopt if still running.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return status_code(st);
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

bool can_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Line-based edit of relay.toml: replaces `key = ...` inside [table].
Result<void, std::string> edit_config(const fs::path& path, const ConfigSetting& s) {
  std::istringstream in(read_file(path));
  std::ostringstream out;
  std::string line, table;
  bool done = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '[') {
      auto close = line.find(']');
      table = line.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (!done && table == s.table && line.rfind(s.key, 0) == 0) {
      auto rest = line.substr(s.key.size());
      auto first = rest.find_first_not_of(' ');
      if (first != std::string::npos && rest[first] == '=') {
        line = s.key + " = " + s.value;
        done = true;
      }
    }
    out << line << "\n";
  }
  if (!done) return fail("relay.toml has no key " + s.key + " in [" + s.table + "]");
  std::ofstream(path, std::ios::binary | std::ios::trunc) << out.str();
  return {};
}

}  // namespace

std::uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

Result<RelayProcess, std::string> RelayProcess::create(std::vector<ConfigSetting> settings) {
  RelayProcess p;
  std::string templ = (fs::temp_directory_path() / "sotto-it-XXXXXX").string();
  if (!::mkdtemp(templ.data())) return fail(std::string("mkdtemp: ") + std::strerror(errno));
  p.root_ = templ;
  p.data_dir_ = p.root_ / "relay";
  p.log_path_ = p.root_ / "relay.log";

  const std::uint16_t port = free_loopback_port();
  if (port == 0) return fail(std::string("no free loopback port"));
  auto init = p.command(
      {"init", "--data", p.data_dir_.string(), "--listen", "127.0.0.1:" + std::to_string(port)});
  if (init.status != 0)
    return fail("sotto-relay init failed with status " + std::to_string(init.status) + ":\n" +
                p.log());
  auto line = init.out.substr(0, init.out.find('\n'));
  auto address = parse_relay_address(line);
  if (!address) return fail("init printed \"" + line + "\": " + address.error());
  p.address_ = *address;

  settings.insert(settings.begin(), ConfigSetting{"metrics", "enabled", "false"});
  for (const auto& s : settings) SOTTO_TRY_VOID(p.set(s));
  SOTTO_TRY_VOID(p.start());
  return p;
}

RelayProcess::RelayProcess(RelayProcess&& o) noexcept
    : root_(std::move(o.root_)),
      data_dir_(std::move(o.data_dir_)),
      log_path_(std::move(o.log_path_)),
      address_(std::move(o.address_)),
      pid_(o.pid_) {
  o.pid_ = -1;
  o.root_.clear();
}

RelayProcess::~RelayProcess() {
  if (pid_ > 0) (void)stop();
  if (!root_.empty() && !std::getenv("SOTTO_KEEP_TEST_DIRS")) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

Result<void, std::string> RelayProcess::set(const ConfigSetting& setting) {
  return edit_config(data_dir_ / "relay.toml", setting);
}

Result<void, std::string> RelayProcess::start(std::map<std::string, std::string> env) {
  if (pid_ > 0) return fail(std::string("the relay is already running"));
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::string listen = "127.0.0.1:" + std::to_string(address_.port);
    pid_ = spawn_logged({SOTTO_RELAY_BIN, "run", "--data", data_dir_.string(), "--listen", listen},
                 log_path_, env);
    if (pid_ < 0) return fail(std::string("cannot spawn ") + SOTTO_RELAY_BIN);
    // Accepting once a TCP connect succeeds; a generous deadline for a loaded machine.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (can_connect(address_.port)) return {};
      if (auto exited = wait_exit(pid_, 0ms)) {
        pid_ = -1;
        if (log().find("cannot listen") == std::string::npos)
          return fail("sotto-relay run exited with status " + std::to_string(*exited) + ":\n" +
                      log());
        break;  // the port was taken meanwhile: another one
      }
      std::this_thread::sleep_for(10ms);
    }
    if (pid_ > 0) {
      (void)stop();
      return fail("sotto-relay did not accept connections within 30 s:\n" + log());
    }
    address_.port = free_loopback_port();
  }
  return fail("sotto-relay could not listen on a free port:\n" + log());
}

Result<int, std::string> RelayProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return fail(std::string("the relay is not running"));
  ::kill(pid_, SIGTERM);
  auto status = wait_exit(pid_, grace);
  if (!status) {
    ::kill(pid_, SIGKILL);
    status = wait_exit(pid_, 60s);
  }
  pid_ = -1;
  if (!status) return fail(std::string("the relay did not exit even after SIGKILL"));
  return *status;
}

Result<int, std::string> RelayProcess::kill() {
  if (pid_ <= 0) return fail(std::string("the relay is not running"));
  ::kill(pid_, SIGKILL);
  auto status = wait_exit(pid_, 60s);
  pid_ = -1;
  if (!status) return fail(std::string("the relay did not exit after SIGKILL"));
  return *status;
}

bool RelayProcess::alive() const {
  if (pid_ <= 0) return false;
  // Peeks without reaping, so stop() still collects the exit status.
  siginfo_t info{};
  info.si_pid = 0;
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return false;
  return info.si_pid == 0;
}

std::string RelayProcess::log() const {
  return read_file(log_path_);
}

bool RelayProcess::wait_for_log(const std::string& needle,
                                std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

RelayProcess::Output RelayProcess::command(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{SOTTO_RELAY_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const fs::path out = root_ / "command.out";
  std::error_code ec;
  fs::remove(out, ec);
  // stdout to `out`; stderr goes there too but the address/JSON is read from its start.
  Output o;
  pid_t pid = spawn_logged(argv, out, {});
  if (pid < 0) return o;
  auto status = wait_exit(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_exit(pid, 60s);
  }
  o.status = status.value_or(-1);
  o.out = read_file(out);
  // Keep the log of every command with the relay's.
  std::ofstream(log_path_, std::ios::app) << o.out;
  return o;
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string::npos && env.count(entry.substr(0, eq))) continue;
    out.push_back(std::move(entry));
  }
  for (const auto& [k, v] : env)
    if (!v.empty()) out.push_back(k + "=" + v);
  return out;
}

pid_t spawn_logged(const std::vector<std::string>& argv, const fs::path& log,
                   const std::map<std::string, std::string>& env, int* error) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings = environment_with(env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error) *error = rc;
  return rc == 0 ? pid : -1;
}

}  // namespace sotto::test
