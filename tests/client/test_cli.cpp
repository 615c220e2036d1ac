// test_cli.cpp — the `sotto` program's command line, run as a real process
// (SOTTO_CLIENT_BIN): --help, usage errors (exit 2), the profile directory
// rules, and the passphrase sources (--passphrase-file first line, CRLF,
// SOTTO_PASSPHRASE, no terminal) with their clear errors (exit 1). Commands
// that need a relay are covered by tests/integration/.
//
// Every run is in a new session (setsid: no controlling terminal, so the
// passphrase prompt cannot block) with a clean environment.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/profile_store.hpp"

namespace fs = std::filesystem;
using namespace sotto;

namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sotto-cli-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const fs::path& path() const { return root_; }
  fs::path operator/(const std::string& s) const { return root_ / s; }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(root_ / name, std::ios::binary) << content;
    return root_ / name;
  }

 private:
  fs::path root_;
};

// Runs sotto with `args`, environment `env` (plus PATH), stdin from `input`.
Run run_sotto(const TempDir& dir, std::vector<std::string> args,
              std::map<std::string, std::string> env = {}, const std::string& input = "") {
  const fs::path in = dir.write(".stdin", input);
  const fs::path out = dir / ".stdout";
  const fs::path err = dir / ".stderr";
  std::vector<std::string> argv_s{SOTTO_CLIENT_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  env.emplace("PATH", "/usr/bin:/bin");
  if (!env.count("HOME")) env.emplace("HOME", (dir / "home").string());
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::setsid();  // no controlling terminal: /dev/tty cannot be opened
    const int i = ::open(in.c_str(), O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(i, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Run r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// A bare profile store (no keys): opening it with the right passphrase gets
// past the passphrase check and then fails on the missing identity, which
// tells the passphrase sources' right and wrong answers apart.
void make_bare_profile(const fs::path& dir, const std::string& passphrase) {
  client::ProfileStoreOptions o;
  o.kdf = client::KdfParams::minimum();
  auto s = client::ProfileStore::create(dir, SecretBytes::copy_of(label_bytes(passphrase)), o);
  REQUIRE(s.ok());
}

}  // namespace

TEST_CASE("--help lists the commands and exits 0", "[cli]") {
  TempDir dir;
  auto r = run_sotto(dir, {"--help"});
  CHECK(r.status == 0);
  for (const char* cmd : {"init", "id", "contact", "send", "recv", "chat", "history", "verify",
                          "passwd", "--profile", "--json", "--passphrase-file", "Exit codes"})
    CHECK_THAT(r.out, Catch::Contains(cmd));
  auto sub = run_sotto(dir, {"recv", "--help"});
  CHECK(sub.status == 0);
  CHECK_THAT(sub.out, Catch::Contains("--follow"));
  CHECK_THAT(sub.out, Catch::Contains("--timeout"));
}

TEST_CASE("usage errors exit 2 with one line and no trace", "[cli]") {
  TempDir dir;
  const std::vector<std::vector<std::string>> bad{
      {},                                          // no command
      {"frobnicate"},                              // unknown command
      {"send", "bob"},                             // missing TEXT
      {"init"},                                    // missing --relay
      {"contact"},                                 // missing contact subcommand
      {"contact", "add", "bob"},                   // missing ID
      {"recv", "--timeout", "soon"},               // not a number
      {"history", "bob", "--limit", "-3"},         // not a count
      {"--no-such-option", "id"},                  // unknown option
      {"init", "--relay", "x", "--kdf", "cheap"},  // not a KDF profile
  };
  for (const auto& args : bad) {
    auto r = run_sotto(dir, args);
    INFO("args: " << Catch::Detail::stringify(args));
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("sotto: "));
    CHECK_THAT(r.err, Catch::Contains("--help"));
    CHECK(r.out.empty());
  }
}

TEST_CASE("no profile: the error says to run sotto init, without asking a passphrase", "[cli]") {
  TempDir dir;
  for (const char* cmd : {"id", "recv"}) {
    auto r = run_sotto(dir, {"--profile", (dir / "none").string(), cmd});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("no profile in"));
    CHECK_THAT(r.err, Catch::Contains("sotto init"));
  }
  // The profile directory comes from SOTTO_PROFILE, then XDG_DATA_HOME, then HOME.
  auto env = run_sotto(dir, {"id"}, {{"SOTTO_PROFILE", (dir / "from-env").string()}});
  CHECK_THAT(env.err, Catch::Contains((dir / "from-env").string()));
  auto xdg = run_sotto(dir, {"id"}, {{"XDG_DATA_HOME", (dir / "xdg").string()}});
  CHECK_THAT(xdg.err, Catch::Contains((dir / "xdg" / "sotto").string()));
  auto home = run_sotto(dir, {"id"});
  CHECK_THAT(home.err, Catch::Contains((dir / "home" / ".local" / "share" / "sotto").string()));
}

TEST_CASE("init refuses a bad relay address and an existing profile", "[cli]") {
  TempDir dir;
  auto bad = run_sotto(dir, {"--profile", (dir / "p").string(), "init", "--relay", "http://x"},
                       {{"SOTTO_PASSPHRASE", "pw"}});
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Catch::Contains("sotto://HOST:PORT/"));
  CHECK_FALSE(fs::exists(dir / "p"));
  make_bare_profile(dir / "exists", "pw");
  auto again = run_sotto(dir,
                         {"--profile", (dir / "exists").string(), "init", "--relay",
                          "sotto://127.0.0.1:1/" + std::string(64, 'a')},
                         {{"SOTTO_PASSPHRASE", "pw"}});
  CHECK(again.status == 1);
  CHECK_THAT(again.err, Catch::Contains("already exists"));
}

TEST_CASE("init with an unreachable relay says what was tried and leaves nothing", "[cli]") {
  TempDir dir;
  auto r = run_sotto(dir,
                     {"--profile", (dir / "p").string(), "init", "--kdf", "minimum", "--relay",
                      "sotto://127.0.0.1:1/" + std::string(64, 'a')},
                     {{"SOTTO_PASSPHRASE", "pw"}});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("127.0.0.1:1"));
  CHECK_THAT(r.err, Catch::Contains("no profile was created"));
  CHECK_FALSE(client::ProfileStore::exists(dir / "p"));
}

TEST_CASE("passphrase sources: file (first line, CRLF), environment, no terminal", "[cli]") {
  TempDir dir;
  const auto profile = (dir / "p").string();
  make_bare_profile(dir / "p", "correct horse");
  const std::string unlocked = "store corrupted or tampered: table identity";  // past the check

  // The file's first line, without its line ending; the rest is ignored.
  const auto lf = dir.write("lf.pass", "correct horse\nsecond line\n");
  auto a = run_sotto(dir, {"--profile", profile, "--passphrase-file", lf.string(), "id"});
  CHECK(a.status == 1);
  CHECK_THAT(a.err, Catch::Contains(unlocked));
  const auto crlf = dir.write("crlf.pass", "correct horse\r\n");
  CHECK_THAT(run_sotto(dir, {"--profile", profile, "--passphrase-file", crlf.string(), "id"}).err,
             Catch::Contains(unlocked));
  const auto no_newline = dir.write("plain.pass", "correct horse");
  CHECK_THAT(
      run_sotto(dir, {"--profile", profile, "--passphrase-file", no_newline.string(), "id"}).err,
      Catch::Contains(unlocked));
  // A trailing space is part of the passphrase.
  const auto spaced = dir.write("spaced.pass", "correct horse \n");
  auto wrong = run_sotto(dir, {"--profile", profile, "--passphrase-file", spaced.string(), "id"});
  CHECK(wrong.status == 1);
  CHECK(wrong.err == "sotto: wrong passphrase\n");
  // The file wins over the environment.
  CHECK_THAT(run_sotto(dir, {"--profile", profile, "--passphrase-file", lf.string(), "id"},
                       {{"SOTTO_PASSPHRASE", "something else"}})
                 .err,
             Catch::Contains(unlocked));

  // The environment variable.
  CHECK_THAT(
      run_sotto(dir, {"--profile", profile, "id"}, {{"SOTTO_PASSPHRASE", "correct horse"}}).err,
      Catch::Contains(unlocked));
  auto env_wrong = run_sotto(dir, {"--profile", profile, "id"}, {{"SOTTO_PASSPHRASE", "nope"}});
  CHECK(env_wrong.err == "sotto: wrong passphrase\n");
  auto env_empty = run_sotto(dir, {"--profile", profile, "id"}, {{"SOTTO_PASSPHRASE", ""}});
  CHECK(env_empty.status == 1);
  CHECK_THAT(env_empty.err, Catch::Contains("SOTTO_PASSPHRASE is set but empty"));

  // Nothing given and no terminal: say how to give one.
  auto none = run_sotto(dir, {"--profile", profile, "id"});
  CHECK(none.status == 1);
  CHECK_THAT(none.err, Catch::Contains("no terminal"));
  CHECK_THAT(none.err, Catch::Contains("--passphrase-file"));

  // Bad files.
  auto missing =
      run_sotto(dir, {"--profile", profile, "--passphrase-file", (dir / "missing").string(), "id"});
  CHECK(missing.status == 1);
  CHECK_THAT(missing.err, Catch::Contains("cannot open the passphrase file"));
  const auto empty = dir.write("empty.pass", "\nsecond\n");
  auto e = run_sotto(dir, {"--profile", profile, "--passphrase-file", empty.string(), "id"});
  CHECK(e.status == 1);
  CHECK_THAT(e.err, Catch::Contains("is empty"));
  // No error message ever repeats the passphrase.
  for (const auto& r : {a, wrong, env_wrong, none, missing, e})
    CHECK_THAT(r.err, !Catch::Contains("correct horse"));
}

TEST_CASE("passwd changes the passphrase from files", "[cli]") {
  TempDir dir;
  const auto profile = (dir / "p").string();
  make_bare_profile(dir / "p", "old one");
  const std::string unlocked = "store corrupted or tampered: table identity";  // past the check
  const auto old_file = dir.write("old.pass", "old one\n");
  const auto new_file = dir.write("new.pass", "new one\n");
  auto r = run_sotto(dir, {"--profile", profile, "--passphrase-file", old_file.string(), "passwd",
                           "--kdf", "minimum", "--new-passphrase-file", new_file.string()});
  CHECK(r.status == 0);
  CHECK(r.out == "passphrase changed\n");
  CHECK(run_sotto(dir, {"--profile", profile, "--passphrase-file", old_file.string(), "id"}).err ==
        "sotto: wrong passphrase\n");
  CHECK_THAT(
      run_sotto(dir, {"--profile", profile, "--passphrase-file", new_file.string(), "id"}).err,
      Catch::Contains(unlocked));
  // The new passphrase from the environment; a wrong current one is refused.
  auto env = run_sotto(
      dir,
      {"--profile", profile, "--passphrase-file", new_file.string(), "passwd", "--kdf", "minimum"},
      {{"SOTTO_NEW_PASSPHRASE", "third"}});
  CHECK(env.status == 0);
  CHECK_THAT(run_sotto(dir, {"--profile", profile, "id"}, {{"SOTTO_PASSPHRASE", "third"}}).err,
             Catch::Contains(unlocked));
  auto wrong = run_sotto(dir, {"--profile", profile, "--passphrase-file", old_file.string(),
                               "passwd", "--new-passphrase-file", new_file.string()});
  CHECK(wrong.status == 1);
  CHECK(wrong.err == "sotto: wrong passphrase\n");
  // No terminal to ask for the new one twice.
  auto none = run_sotto(dir, {"--profile", profile, "passwd"}, {{"SOTTO_PASSPHRASE", "third"}});
  CHECK(none.status == 1);
  CHECK_THAT(none.err, Catch::Contains("no terminal"));
}
