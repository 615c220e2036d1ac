// test_client_errors.cpp — the failures a user meets, each with its clear error
// on stderr and a non-zero exit code, never a stack trace:
//   - a wrong passphrase (from a file and from SOTTO_PASSPHRASE);
//   - a tampered store: bytes flipped in profile.db itself (inside a sealed
//     record, inside the wrapped store key);
//   - a relay key mismatch ("does not match"): an address whose key is not the relay's (at
//     init), and another relay answering at the pinned address (afterwards);
//   - an unknown contact, an unreachable relay.
#include "integration/client_helpers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

extern char** environ;

using namespace sotto;
using namespace sotto::test;
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A failed command: non-zero, not killed, a message on stderr containing every
// one of `needles` (case-insensitive), no stack trace.
void check_clear_error(const SottoRun& r, std::initializer_list<const char*> needles) {
  INFO(r.describe());
  check_no_crash(r);
  CHECK(r.status != 0);
  const std::string err = lower(r.err);
  for (const char* n : needles) {
    INFO("stderr should say: " << n);
    CHECK(err.find(n) != std::string::npos);
  }
}

// Every `col` blob of `table` in the profile database (read-only).
std::vector<std::string> blobs(const fs::path& db_path, const std::string& table,
                               const std::string& col) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  const std::string sql = "SELECT " + col + " FROM " + table;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      const void* p = sqlite3_column_blob(st, 0);
      const int n = sqlite3_column_bytes(st, 0);
      if (p && n > 0) out.emplace_back(static_cast<const char*>(p), static_cast<std::size_t>(n));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Flips one byte in the middle of every occurrence of each blob in the
// profile's files (profile.db and, if any, its WAL), as a thief with a hex
// editor would. Returns how many bytes were flipped.
int flip_in_files(const fs::path& profile_dir, const std::vector<std::string>& needles) {
  int flipped = 0;
  for (const char* name : {"profile.db", "profile.db-wal"}) {
    const fs::path p = profile_dir / name;
    if (!fs::exists(p)) continue;
    std::string bytes = slurp(p);
    for (const auto& n : needles) {
      for (auto pos = bytes.find(n); pos != std::string::npos; pos = bytes.find(n, pos + 1)) {
        bytes[pos + n.size() / 2] = static_cast<char>(bytes[pos + n.size() / 2] ^ 0x01);
        ++flipped;
      }
    }
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }
  return flipped;
}

}  // namespace

TEST_CASE("client: a wrong passphrase is refused with its own error", "[client][integration]") {
  auto net = make_network({"alice"});
  auto& alice = net->client("alice");
  const fs::path wrong = alice.root() / "wrong-passphrase";
  std::ofstream(wrong) << "not the passphrase\n";

  auto r = alice.run_raw(
      {"--profile", alice.profile_dir().string(), "--passphrase-file", wrong.string(), "id"});
  check_clear_error(r, {"wrong passphrase"});
  CHECK(r.out.find("sotto1") == std::string::npos);  // nothing of the profile is printed

  // The same through the environment variable (the weaker, documented option).
  auto env = alice.run_raw({"--profile", alice.profile_dir().string(), "id"},
                           {{"SOTTO_PASSPHRASE", "also wrong"}});
  check_clear_error(env, {"wrong passphrase"});
  // And the right one through the environment works.
  auto right = alice.run_raw({"--profile", alice.profile_dir().string(), "id"},
                             {{"SOTTO_PASSPHRASE", alice.passphrase()}});
  INFO(right.describe());
  CHECK(right.status == 0);
  CHECK(right.out.find(alice.account_id()) != std::string::npos);

  // The profile is unharmed by the failed attempts.
  auto again = alice.run({"id"});
  CHECK(again.status == 0);
}

TEST_CASE("client: a tampered store fails closed with a clear error", "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");
  send_ok(alice, "bob", "before the tampering");
  REQUIRE(receive(bob, 1).size() == 1);
  const fs::path db = alice.profile_dir() / "profile.db";
  REQUIRE(fs::exists(db));

  SECTION("a byte flipped inside sealed records") {
    std::vector<std::string> sealed = blobs(db, "settings", "sealed");
    for (auto& b : blobs(db, "identity", "sealed")) sealed.push_back(b);
    for (auto& b : blobs(db, "contacts", "sealed")) sealed.push_back(b);
    REQUIRE(sealed.size() >= 3);
    REQUIRE(flip_in_files(alice.profile_dir(), sealed) >= static_cast<int>(sealed.size()));
    check_clear_error(alice.run({"id"}), {"tampered"});
    check_clear_error(alice.run({"send", "bob", "after the tampering"}), {"tampered"});
    check_clear_error(alice.run({"recv", "--timeout", "1"}), {"tampered"});
    check_clear_error(alice.run({"contact", "list"}), {"tampered"});
  }
  SECTION("a byte flipped inside the wrapped store key") {
    auto wrapped = blobs(db, "header", "wrapped_key");
    REQUIRE(wrapped.size() == 1);
    REQUIRE(flip_in_files(alice.profile_dir(), wrapped) >= 1);
    check_clear_error(alice.run({"id"}), {"tampered"});
    check_clear_error(alice.run({"send", "bob", "after the tampering"}), {"tampered"});
  }
  SECTION("the file is not a database any more") {
    std::string bytes = slurp(db);
    REQUIRE(bytes.size() > 100);
    for (std::size_t i = 0; i < 16; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
    std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
    check_clear_error(alice.run({"id"}), {"tampered"});
  }
  // Nothing was sent from the broken profile.
  auto at_bob = bob.run_json({"recv", "--timeout", "2"});
  CHECK(messages_in(at_bob.out).empty());
}

TEST_CASE("client: a relay key mismatch is refused", "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto other = RelayProcess::create();
  REQUIRE(other);
  REQUIRE_FALSE(other->address().key == net->relay.address().key);

  // init: the address names the first relay's key, but the second relay answers.
  RelayAddress wrong = net->relay.address();
  wrong.port = other->address().port;
  auto carol = SottoProfile::create("carol");
  REQUIRE(carol);
  auto init = carol->run({"init", "--relay", wrong.to_string()});
  check_clear_error(init, {"key", "match"});
  CHECK(init.out.find("sotto1") == std::string::npos);  // no account was announced

  // Afterwards: another relay (another key) answers at Alice's pinned address.
  const auto pinned = net->relay.address();
  REQUIRE(net->relay.stop());
  REQUIRE(other->stop());
  const std::string listen = pinned.host + ":" + std::to_string(pinned.port);
  std::vector<std::string> argv{SOTTO_RELAY_BIN, "run", "--data", other->data_dir().string(),
                                "--listen",      listen};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t impostor = -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const fs::path log = alice.root() / "impostor.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  REQUIRE(posix_spawn(&impostor, args[0], &actions, nullptr, args.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  // Wait until it listens.
  bool listening = false;
  for (int i = 0; i < 3000 && !listening; ++i) {
    std::this_thread::sleep_for(10ms);
    listening = slurp(log).find("listening") != std::string::npos;
  }
  if (!listening) std::this_thread::sleep_for(2s);

  auto r = alice.run({"send", "bob", "to an impostor"});
  check_clear_error(r, {"key", "match"});
  auto recv = alice.run({"recv", "--timeout", "1"});
  check_clear_error(recv, {"key", "match"});

  ::kill(impostor, SIGTERM);
  int st = 0;
  ::waitpid(impostor, &st, 0);
  // The impostor learned nothing it could store: no account for Alice there.
  INFO(slurp(log));
  auto disclose = other->command({"disclose", "--data", other->data_dir().string(), "--account",
                                  id_hex(alice.account_id()), "--json"});
  CHECK(disclose.out.find("transport_key") == std::string::npos);
}

TEST_CASE("client: unknown contact and unreachable relay are clear errors",
          "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  check_clear_error(alice.run({"send", "nobody", "hello?"}), {"nobody"});

  const auto addr = net->relay.address();
  REQUIRE(net->relay.stop());
  auto r = alice.run({"send", "bob", "nobody listens"}, "", 120s);
  // The message says what was tried (the relay's host and port).
  // ("cannot reach" / "unreachable"), and the OS's reason.
  check_clear_error(r, {"reach", std::to_string(addr.port).c_str(), "refused"});
}
