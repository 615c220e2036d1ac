// test_client_crash.cpp — crash durability of the receiving client (issue 5,
// "Crash durability": "the same for the client killed while receiving"), at
// the library level, against the REAL sotto-relay.
//
// A forked child is the receiving device: it opens the encrypted profile
// store (client/profile_store.hpp), connects to the relay and, for every
// delivery, does what ARCHITECTURE.md asks of a client: open the envelope,
// then in ONE store transaction check the dedup record (a redelivered
// duplicate is committed nowhere and acknowledged silently) or append the
// message and mark the envelope seen; only after the commit, ack to the relay.
// The parent kills the child with SIGKILL at a random point — a random time,
// or right after its k-th delivery (before the commit), k-th commit (before
// the ack) or k-th ack — chosen by a seeded RNG; the child reports each step
// on a pipe so the parent can strike between them. Each cycle the parent
// first sends a few more sealed envelopes (all ACCEPTED: the relay is not
// killed here; test_relay_crash.cpp does that).
//
// After every kill: profile.db passes PRAGMA integrity_check (read-only), and
// the history holds each message at most once, in send order, byte for byte
// as sent, with as many dedup records as messages. At the end a child runs
// until its mailbox is quiet, and the history holds every message exactly
// once; every delivery was acked (the relay's queue is empty).
//
// The store's own fork tests (tests/client/test_profile_store_atomicity.cpp)
// prove a transaction is all or nothing; this one adds the relay's redelivery
// and the commit-then-ack order on top. SOTTO_CRASH_CYCLES (default 50) and
// SOTTO_CRASH_SEED as for the relay test.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <map>
#include <thread>

#include "client/profile_store.hpp"
#include "common/envelope.hpp"
#include "integration/crash_harness.hpp"
#include "integration/db_check.hpp"
#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;
using client::ProfileStore;

namespace {

namespace fs = std::filesystem;

// Events the child reports on its pipe (one byte each).
constexpr char kDelivered = 'D';  // a delivery arrived, nothing stored yet
constexpr char kCommitted = 'C';  // its transaction committed, not acked yet
constexpr char kDuplicate = 'S';  // recognised as already stored: nothing written
constexpr char kAcked = 'A';      // the relay confirmed the ack

SecretBytes passphrase() {
  return SecretBytes::copy_of(label_bytes("crash test passphrase"));
}

client::ProfileStoreOptions fast_kdf() {
  client::ProfileStoreOptions o;
  o.kdf = client::KdfParams::minimum();
  return o;
}

Bytes u64_bytes(std::uint64_t v) {
  Bytes b;
  put_u64be(b, v);
  return b;
}

void report(int fd, char event) {
  while (::write(fd, &event, 1) < 0 && errno == EINTR) {
  }
}

// One delivery, as a client receives it: open, then one transaction (dedup
// check, message, dedup record), then ack. Exit codes name what went wrong.
void receive_one(ProfileStore& store, RelayClient& c, const Device& me,
                 const RelayClient::Delivery& d, int events) {
  report(events, kDelivered);
  auto opened = open_envelope(me.identity, d.envelope);
  if (!opened) ::_exit(20);
  auto key = parse_crash_payload(opened->payload);
  if (!key) ::_exit(21);
  bool duplicate = false;
  auto tx = store.transaction([&]() -> client::StoreResult<void> {
    SOTTO_TRY(bool seen, store.envelope_seen(d.envelope));
    if (seen) {
      duplicate = true;
      return {};
    }
    client::StoredMessage m;
    m.direction = client::Direction::kIncoming;
    m.time = unix_now();
    m.message_id = u64_bytes(key->second);
    m.text = SecretBytes::copy_of(opened->payload);
    SOTTO_TRY(std::uint64_t seq, store.append_message(opened->sender, m));
    (void)seq;
    return store.mark_envelope_seen(d.envelope, m.time);
  });
  if (!tx) ::_exit(22);
  report(events, duplicate ? kDuplicate : kCommitted);
  // Only now may the relay forget it.
  auto acked = c.ack({d.sequence});
  if (!acked) ::_exit(23);
  report(events, kAcked);
}

// The child: receives until killed, or (drain) until nothing arrived for a while.
[[noreturn]] void child_main(const fs::path& profile, Device& me, const RelayAddress& address,
                             int events, bool drain) {
  auto store = ProfileStore::open(profile, passphrase(), fast_kdf());
  if (!store) ::_exit(10);
  auto c = RelayClient::connect(address, me.id(), copy_key(me.transport), me.device_id, me.rng,
                                kTimeout);
  if (!c) ::_exit(11);
  for (;;) {
    auto d = c->wait_delivery(drain ? 1500ms : 200ms);
    if (!d) {
      if (d.error().kind != ClientErrorKind::kTimeout) ::_exit(12);
      if (drain) ::_exit(0);
      continue;
    }
    receive_one(**store, *c, me, *d, events);
  }
}

// Forks the child; returns its pid and the read end of its event pipe.
std::pair<pid_t, int> spawn_child(const fs::path& profile, Device& me, const RelayAddress& address,
                                  bool drain) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    child_main(profile, me, address, fds[1], drain);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads events until `count` of `event` were seen (true), the child closed
// the pipe or the timeout passed (false).
bool wait_events(int fd, char event, std::uint32_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint32_t seen = 0;
  while (seen < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[64];
    const auto n = ::read(fd, buf, std::min<std::size_t>(sizeof buf, count - seen));
    if (n <= 0) return false;
    for (ssize_t i = 0; i < n; ++i)
      if (buf[i] == event) ++seen;
  }
  return true;
}

// What the profile holds from `peer`: counters in history order. Checks each
// text is the payload sent for its counter and the dedup records match.
std::vector<std::uint64_t> stored_counters(const fs::path& profile, const IdentityPublicKey& peer,
                                           const std::map<std::uint64_t, Bytes>& payloads) {
  auto integrity = check_sqlite_integrity(profile / client::kProfileFileName);
  INFO(integrity);
  REQUIRE(integrity.empty());
  auto store = ProfileStore::open(profile, passphrase(), fast_kdf());
  if (!store) FAIL(client::describe(store.error()));
  auto history = (*store)->history(peer);
  REQUIRE(history.ok());
  std::vector<std::uint64_t> out;
  std::size_t altered = 0;
  for (const auto& m : *history) {
    REQUIRE(m.message_id.size() == 8);
    std::uint64_t c = 0;
    for (auto b : m.message_id) c = (c << 8) | b;
    auto sent = payloads.find(c);
    REQUIRE(sent != payloads.end());  // nothing stored that was never sent
    if (Bytes(m.text.view().begin(), m.text.view().end()) != sent->second) ++altered;
    out.push_back(c);
  }
  CHECK(altered == 0);  // each stored byte for byte as sent
  // One dedup record per stored message: written in the same transaction.
  CHECK((*store)->row_count(client::Table::kSeenEnvelopes).value() == out.size());
  return out;
}

}  // namespace

TEST_CASE("client killed with SIGKILL while receiving: every message stored exactly once",
          "[integration][crash][client]") {
  const std::uint64_t seed = crash_seed() ^ 0xC11E47;
  const std::uint64_t cycles = env_u64("SOTTO_CRASH_CYCLES", 50);
  WARN("client crash test: seed " << seed << ", " << cycles << " cycles");
  SeededRng rng(seed);

  auto relay = RelayProcess::create({
      {"rate_limits", "connections_per_minute_per_address", "1000000"},
      {"rate_limits", "request_burst_per_account", "1000000"},
      {"rate_limits", "request_burst_per_address", "1000000"},
  });
  REQUIRE(relay.ok());
  Device alice(0), bob(0);
  auto a = alice.connect_registered(*relay);
  bob.connect_registered(*relay);
  const fs::path profile = relay->data_dir().parent_path() / "bob-profile";
  {
    auto created = ProfileStore::create(profile, passphrase(), fast_kdf());
    if (!created) FAIL(client::describe(created.error()));
  }

  std::map<std::uint64_t, Bytes> payloads;  // counter -> payload sent
  std::uint64_t counter = 0;
  const char* kModes[] = {"at a random time", "after a delivery, before its commit",
                          "after a commit, before its ack", "after an ack"};
  const char kEvents[] = {0, kDelivered, kCommitted, kAcked};
  std::uint64_t per_mode[4] = {};
  for (std::uint64_t cycle = 1; cycle <= cycles; ++cycle) {
    INFO("seed " << seed << ", cycle " << cycle);
    const std::uint32_t batch = 1 + rng.uniform(12);
    for (std::uint32_t i = 0; i < batch; ++i) {
      auto payload = crash_payload(0, ++counter, rng.uniform(300), alice.rng);
      auto envelope =
          seal_envelope(alice.identity, bob.id(), kPayloadRatchetMessage, payload, alice.rng);
      REQUIRE(envelope.ok());
      payloads.emplace(counter, std::move(payload));
      must(a.send(bob.id(), *envelope));
    }

    const std::uint32_t mode = rng.uniform(4);
    ++per_mode[mode];
    auto [pid, events] = spawn_child(profile, bob, relay->address(), /*drain=*/false);
    if (mode == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng.uniform(150)));
    } else {
      // k-th event of its kind; if it never comes (fewer deliveries than k), kill anyway.
      (void)wait_events(events, kEvents[mode], 1 + rng.uniform(batch), 5s);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    ::close(events);
    INFO("killed " << kModes[mode] << "; child exit code "
                   << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    REQUIRE(WIFSIGNALED(status));

    auto stored = stored_counters(profile, alice.id(), payloads);
    for (std::size_t i = 1; i < stored.size(); ++i) REQUIRE(stored[i - 1] < stored[i]);
  }

  // A last child without a kill: it takes everything left, then goes quiet.
  auto [pid, events] = spawn_child(profile, bob, relay->address(), /*drain=*/true);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  ::close(events);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto stored = stored_counters(profile, alice.id(), payloads);
  REQUIRE(stored.size() == counter);
  for (std::uint64_t i = 0; i < counter; ++i) CHECK(stored[i] == i + 1);

  // Duplicates were acked too: nothing is left at the relay.
  a.close();
  auto stopped = relay->stop();
  REQUIRE(stopped.ok());
  auto stats = relay->command({"stats", "--json", "--data", relay->data_dir().string()});
  CHECK_THAT(stats.out, Catch::Contains("\"queued_messages\": 0"));
  std::cout << "client crash test: seed " << seed << ", " << cycles << " kills (" << per_mode[0]
            << " " << kModes[0] << ", " << per_mode[1] << " " << kModes[1] << ", " << per_mode[2]
            << " " << kModes[2] << ", " << per_mode[3] << " " << kModes[3] << "); " << counter
            << " messages stored exactly once\n";
}
