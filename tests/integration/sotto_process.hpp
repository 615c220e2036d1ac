// sotto_process.hpp — the client integration tests' fixture: the REAL `sotto`
// binary (SOTTO_CLI_BIN) run as a child process with its own profile.
//
//   auto alice = SottoProfile::create("alice");     // temp dir, passphrase file
//   auto r = alice->run({"init", "--relay", relay->address_text()});
//   REQUIRE(r.status == 0);  r.out; r.err; r.json();  // --json lines, parsed
//   auto follow = alice->start({"recv", "--follow"}); // in the background
//   follow.wait_for_output("hello", 15s);  follow.kill(SIGKILL);
//
// Every run passes `--profile DIR --passphrase-file FILE` (and `--json` with
// run_json) before the subcommand; stdin is the given text (or /dev/null),
// stdout and stderr are captured separately. The environment is the test's,
// minus SOTTO_PASSPHRASE / SOTTO_PROFILE unless given, with XDG_DATA_HOME
// pointing into the temporary directory so no real profile is ever touched,
// and SOTTO_KDF=minimum (the test-only Argon2id cost: the tests are not about
// the KDF, and hundreds of `sotto` runs at 256 MiB each would be slow).
//
// What fails: a run that does not finish within its timeout is killed
// (SIGKILL) and reported with status -1 and timed_out set; spawn failures are
// status -1 with the reason in `err`. Every process started is stopped by its
// owner's destructor; the temporary directory is removed unless
// SOTTO_KEEP_TEST_DIRS is set.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace sotto::test {

struct SottoRun {
  int status = -1;  // exit code; 128 + signal when killed; -1 if it could not run
  bool timed_out = false;
  std::string out;
  std::string err;
  // stdout parsed as one JSON object per non-empty line (a line that does not
  // parse becomes {"unparsed": line}).
  std::vector<nlohmann::json> json() const;
  // For failure messages: status, stdout and stderr.
  std::string describe() const;
};

// A `sotto` running in the background (recv --follow, chat), stdout and
// stderr to files, stdin from a pipe that stays open until close_stdin().
class SottoBackground {
 public:
  SottoBackground() = default;
  SottoBackground(SottoBackground&& o) noexcept;
  SottoBackground& operator=(SottoBackground&& o) noexcept;
  SottoBackground(const SottoBackground&) = delete;
  ~SottoBackground();

  bool running();
  std::string out() const;
  std::string err() const;
  // Waits until stdout contains `needle` (true) or the timeout passes.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout) const;
  // Writes to the process's stdin.
  bool write_stdin(const std::string& text);
  void close_stdin();
  // Sends `sig` and waits for the exit; returns its status (128 + signal).
  int kill(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for the exit (nullopt after the timeout).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  friend class SottoProfile;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::filesystem::path out_path_, err_path_;
  std::optional<int> status_;
};

class SottoProfile {
 public:
  // A fresh temporary directory holding `DIR/profile` (not created: `init`
  // does that) and `DIR/passphrase` (mode 0600, "correct horse <name>").
  [[nodiscard]] static Result<SottoProfile, std::string> create(const std::string& name);

  SottoProfile(SottoProfile&&) noexcept = default;
  SottoProfile& operator=(SottoProfile&&) noexcept = default;
  SottoProfile(const SottoProfile&) = delete;
  ~SottoProfile();

  // `sotto --profile P --passphrase-file F <args>`.
  SottoRun run(const std::vector<std::string>& args, const std::string& stdin_text = "",
               std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;
  // The same with --json.
  SottoRun run_json(const std::vector<std::string>& args, const std::string& stdin_text = "",
                    std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;
  // Any command line after the binary (the test chooses every option), with
  // `env` added to the environment (a value "" removes the variable).
  SottoRun run_raw(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env = {},
                   const std::string& stdin_text = "",
                   std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;
  // In the background, with the profile options (and --json when asked).
  SottoBackground start(const std::vector<std::string>& args, bool json = false) const;

  // `init --relay ADDRESS` then `id --json`: remembers the account id text.
  [[nodiscard]] Result<void, std::string> init(const std::string& relay_address);

  const std::string& name() const { return name_; }
  const std::string& account_id() const { return account_id_; }  // after init()
  const std::filesystem::path& profile_dir() const { return profile_dir_; }
  const std::filesystem::path& passphrase_file() const { return passphrase_file_; }
  const std::filesystem::path& root() const { return root_; }
  std::string passphrase() const { return "correct horse " + name_; }

 private:
  SottoProfile() = default;
  std::vector<std::string> base_args(bool json) const;
  std::string name_;
  std::string account_id_;
  std::filesystem::path root_, profile_dir_, passphrase_file_;
  std::unique_ptr<int> run_counter_ = std::make_unique<int>(0);
};

// The `id` field of a JSON object, whichever of the usual names the CLI uses
// for an account id ("id", "account_id", "account").
std::string json_account_id(const nlohmann::json& j);

// Reads a whole file (binary).
std::string slurp(const std::filesystem::path& p);

}  // namespace sotto::test
