// sotto_process.cpp — see sotto_process.hpp.
#include "integration/sotto_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/relay_process.hpp"

namespace sotto::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

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

// The environment for a child: the test's, with `env` applied (a value ""
// removes the variable), SOTTO_PASSPHRASE / SOTTO_PROFILE removed unless
// given, and XDG_DATA_HOME set to `xdg`.
std::vector<std::string> child_env(const std::map<std::string, std::string>& env,
                                   const fs::path& xdg) {
  std::map<std::string, std::string> set = env;
  if (!set.count("SOTTO_PASSPHRASE")) set["SOTTO_PASSPHRASE"] = "";
  if (!set.count("SOTTO_PROFILE")) set["SOTTO_PROFILE"] = "";
  if (!set.count("XDG_DATA_HOME")) set["XDG_DATA_HOME"] = xdg.string();
  // Profiles made by the tests use the cheapest Argon2id (a test-only cost);
  // opening always uses the file's own parameters.
  if (!set.count("SOTTO_KDF")) set["SOTTO_KDF"] = "minimum";
  return environment_with(set);
}

// Spawns argv; stdin from `in_path` (a file) or from the read end `in_fd` of a
// pipe; stdout/stderr to files. Returns the pid or -1.
pid_t spawn(const std::vector<std::string>& argv, std::vector<std::string> env,
            const fs::path& in_path, int in_fd, const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_fd >= 0)
    posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

}  // namespace

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<nlohmann::json> SottoRun::json() const {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) j = nlohmann::json{{"unparsed", line}};
    lines.push_back(std::move(j));
  }
  return lines;
}

std::string SottoRun::describe() const {
  return "status " + std::to_string(status) + (timed_out ? " (timed out)" : "") +
         "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
}

std::string json_account_id(const nlohmann::json& j) {
  for (const char* k : {"id", "account_id", "account"})
    if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
  return {};
}

// ---- SottoBackground ----

SottoBackground::SottoBackground(SottoBackground&& o) noexcept {
  *this = std::move(o);
}

SottoBackground& SottoBackground::operator=(SottoBackground&& o) noexcept {
  if (this == &o) return *this;
  pid_ = o.pid_;
  stdin_fd_ = o.stdin_fd_;
  out_path_ = std::move(o.out_path_);
  err_path_ = std::move(o.err_path_);
  status_ = o.status_;
  o.pid_ = -1;
  o.stdin_fd_ = -1;
  return *this;
}

SottoBackground::~SottoBackground() {
  if (pid_ > 0 && !status_) (void)kill(SIGKILL);
  close_stdin();
}

bool SottoBackground::running() {
  if (pid_ <= 0 || status_) return false;
  status_ = wait_exit(pid_, 0ms);
  return !status_;
}

std::string SottoBackground::out() const {
  return slurp(out_path_);
}
std::string SottoBackground::err() const {
  return slurp(err_path_);
}

bool SottoBackground::wait_for_output(const std::string& needle,
                                      std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (out().find(needle) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool SottoBackground::write_stdin(const std::string& text) {
  if (stdin_fd_ < 0) return false;
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(stdin_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void SottoBackground::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

int SottoBackground::kill(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (status_) return *status_;
  ::kill(pid_, sig);
  status_ = wait_exit(pid_, timeout);
  if (!status_) {
    ::kill(pid_, SIGKILL);
    status_ = wait_exit(pid_, 30s);
  }
  return status_.value_or(-1);
}

std::optional<int> SottoBackground::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!status_) status_ = wait_exit(pid_, timeout);
  return status_;
}

// ---- SottoProfile ----

Result<SottoProfile, std::string> SottoProfile::create(const std::string& name) {
  SottoProfile p;
  p.name_ = name;
  std::string templ = (fs::temp_directory_path() / ("sotto-cli-" + name + "-XXXXXX")).string();
  if (!::mkdtemp(templ.data())) return fail(std::string("mkdtemp: ") + std::strerror(errno));
  p.root_ = templ;
  p.profile_dir_ = p.root_ / "profile";
  p.passphrase_file_ = p.root_ / "passphrase";
  {
    std::ofstream f(p.passphrase_file_, std::ios::binary);
    f << p.passphrase() << "\n";
  }
  ::chmod(p.passphrase_file_.c_str(), 0600);
  fs::create_directories(p.root_ / "xdg");
  return p;
}

SottoProfile::~SottoProfile() {
  if (!root_.empty() && !std::getenv("SOTTO_KEEP_TEST_DIRS")) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

std::vector<std::string> SottoProfile::base_args(bool json) const {
  std::vector<std::string> a{SOTTO_CLI_BIN, "--profile", profile_dir_.string(), "--passphrase-file",
                             passphrase_file_.string()};
  if (json) a.push_back("--json");
  return a;
}

SottoRun SottoProfile::run(const std::vector<std::string>& args, const std::string& stdin_text,
                           std::chrono::milliseconds timeout) const {
  auto argv = base_args(false);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.erase(argv.begin());
  return run_raw(argv, {}, stdin_text, timeout);
}

SottoRun SottoProfile::run_json(const std::vector<std::string>& args, const std::string& stdin_text,
                                std::chrono::milliseconds timeout) const {
  auto argv = base_args(true);
  argv.insert(argv.end(), args.begin(), args.end());
  argv.erase(argv.begin());
  return run_raw(argv, {}, stdin_text, timeout);
}

SottoRun SottoProfile::run_raw(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env,
                               const std::string& stdin_text,
                               std::chrono::milliseconds timeout) const {
  const int n = ++*run_counter_;
  const fs::path in = root_ / ("run" + std::to_string(n) + ".in");
  const fs::path out = root_ / ("run" + std::to_string(n) + ".out");
  const fs::path err = root_ / ("run" + std::to_string(n) + ".err");
  std::ofstream(in, std::ios::binary) << stdin_text;
  std::vector<std::string> argv{SOTTO_CLI_BIN};
  argv.insert(argv.end(), args.begin(), args.end());

  SottoRun r;
  pid_t pid = spawn(argv, child_env(env, root_ / "xdg"), in, -1, out, err);
  if (pid < 0) {
    r.err = std::string("cannot spawn ") + SOTTO_CLI_BIN;
    return r;
  }
  auto status = wait_exit(pid, timeout);
  if (!status) {
    r.timed_out = true;
    ::kill(pid, SIGKILL);
    (void)wait_exit(pid, 30s);
    status = -1;
  }
  r.status = *status;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

SottoBackground SottoProfile::start(const std::vector<std::string>& args, bool json) const {
  const int n = ++*run_counter_;
  SottoBackground bg;
  bg.out_path_ = root_ / ("bg" + std::to_string(n) + ".out");
  bg.err_path_ = root_ / ("bg" + std::to_string(n) + ".err");
  auto argv = base_args(json);
  argv.insert(argv.end(), args.begin(), args.end());
  ::signal(SIGPIPE, SIG_IGN);  // write_stdin() to a process that exited fails, not kills
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return bg;
  bg.pid_ = spawn(argv, child_env({}, root_ / "xdg"), {}, fds[0], bg.out_path_, bg.err_path_);
  ::close(fds[0]);
  bg.stdin_fd_ = fds[1];
  return bg;
}

Result<void, std::string> SottoProfile::init(const std::string& relay_address) {
  auto r = run({"init", "--relay", relay_address});
  if (r.status != 0) return fail("sotto init (" + name_ + ") failed: " + r.describe());
  auto id = run_json({"id"});
  if (id.status != 0) return fail("sotto id (" + name_ + ") failed: " + id.describe());
  for (const auto& j : id.json()) {
    auto text = json_account_id(j);
    if (!text.empty()) account_id_ = text;
  }
  if (account_id_.empty()) return fail("sotto --json id printed no id: " + id.describe());
  return {};
}

}  // namespace sotto::test
