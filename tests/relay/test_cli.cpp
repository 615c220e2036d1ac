// test_cli.cpp — the real sotto-relay binary: `init` creates a private data
// directory with a 0600 key and prints an address that `address` repeats;
// unknown flags, bad values and a second init are errors with non-zero status.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>

#include "server/data_lock.hpp"

namespace fs = std::filesystem;

namespace {

struct Run {
  int status = -1;
  std::string out;
};

// Runs sotto-relay with `args` (stderr discarded), capturing stdout.
Run relay(const std::string& args) {
  std::string cmd = std::string(SOTTO_RELAY_BIN) + " " + args + " 2>/dev/null";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) r.out += buf.data();
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("sotto-relay-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

}  // namespace

TEST_CASE("init creates a 0600 key and prints an address that address repeats", "[cli]") {
  auto dir = fresh_dir("init");
  auto init = relay("init --data " + dir.string() + " --listen 127.0.0.1:7999");
  REQUIRE(init.status == 0);
  CHECK(std::regex_match(init.out, std::regex("sotto://127\\.0\\.0\\.1:7999/[0-9a-f]{64}\n")));

  struct stat st {};
  REQUIRE(::stat((dir / "relay.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 32);
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  CHECK(fs::exists(dir / "relay.toml"));
  CHECK(fs::exists(dir / "relay.db"));

  auto address = relay("address --data " + dir.string());
  CHECK(address.status == 0);
  CHECK(address.out == init.out);

  // A second init never overwrites the key.
  CHECK(relay("init --data " + dir.string()).status == 1);
  CHECK(relay("address --data " + dir.string()).out == init.out);

  // A key readable by others is refused.
  fs::permissions(dir / "relay.key", fs::perms::group_read, fs::perm_options::add);
  CHECK(relay("address --data " + dir.string()).status == 1);
  fs::remove_all(dir);
}

TEST_CASE("two relays get different keys", "[cli]") {
  auto a = fresh_dir("a"), b = fresh_dir("b");
  auto ra = relay("init --data " + a.string());
  auto rb = relay("init --data " + b.string());
  REQUIRE(ra.status == 0);
  REQUIRE(rb.status == 0);
  CHECK(ra.out != rb.out);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("usage errors exit with status 2", "[cli]") {
  CHECK(relay("").status == 2);
  CHECK(relay("init").status == 2);                              // --data missing
  CHECK(relay("init --data /tmp/x --bogus").status == 2);        // unknown flag
  CHECK(relay("init --data /tmp/x --listen nope").status == 2);  // bad value
  CHECK(relay("run --data /tmp/x --log-level loud").status == 2);
  CHECK(relay("frobnicate").status == 2);
  CHECK(relay("--help").status == 0);
  CHECK(relay("init --help").status == 0);
}

TEST_CASE("run refuses a data directory another relay holds", "[cli][lock]") {
  auto dir = fresh_dir("locked");
  REQUIRE(relay("init --data " + dir.string() + " --listen 127.0.0.1:7998").status == 0);
  {
    auto held = sotto::relay::DataDirLock::acquire(dir);
    REQUIRE(held.ok());
    std::string cmd =
        std::string(SOTTO_RELAY_BIN) + " run --data " + dir.string() + " 2>&1 >/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string err;
    std::array<char, 512> buf{};
    while (std::fgets(buf.data(), buf.size(), p)) err += buf.data();
    int st = ::pclose(p);
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 1));
    CHECK(err.find("in use by another sotto-relay") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("commands on a directory that is not a relay fail with status 1", "[cli]") {
  auto dir = fresh_dir("none");
  CHECK(relay("address --data " + dir.string()).status == 1);
  CHECK(relay("stats --data " + dir.string()).status == 1);
}

TEST_CASE("stats and disclose on a fresh relay report nothing held", "[cli]") {
  auto dir = fresh_dir("stats");
  REQUIRE(relay("init --data " + dir.string()).status == 0);
  auto stats = relay("stats --json --data " + dir.string());
  CHECK(stats.status == 0);
  CHECK(stats.out.find("\"accounts\": 0") != std::string::npos);
  auto d = relay("disclose --data " + dir.string() + " --account " + std::string(64, 'a'));
  CHECK(d.status == 0);
  CHECK(d.out.find("holds nothing") != std::string::npos);
  CHECK(relay("disclose --data " + dir.string() + " --account zz").status == 1);
  fs::remove_all(dir);
}
