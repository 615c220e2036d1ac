// test_relay_crash.cpp — crash durability of the relay (issue 5, "Crash
// durability"): senders and receivers run against the REAL sotto-relay while
// the test kills it with SIGKILL at random moments and restarts it on the same
// data directory, for SOTTO_CRASH_CYCLES cycles (50 by default; e.g.
// SOTTO_CRASH_CYCLES=500 for a long run; SOTTO_CRASH_SEED=N replays a seed).
//
// Traffic: kSenders devices each send numbered, sealed envelopes
// (crash_harness.hpp) to one of kReceivers devices, one send at a time; a send
// that fails for any reason is either retried with the same bytes or given up
// (its fate unknown: it may or may not be delivered). Receivers "store" each
// delivery in memory, then ack it (sometimes later, sometimes not at all, so
// that redelivery is exercised), and reconnect whenever their connection
// breaks, now and then on purpose too.
//
// Each cycle the killer picks where to strike (seeded): a random time after
// the restart (reconnects, handshakes), right after a few more sends were
// ACCEPTED (other sends are then inside a group commit), right after a few
// more acks were confirmed (deletes in flight), or right after a few more
// deliveries were pushed. Between kill and restart it opens relay.db READ-ONLY
// and runs PRAGMA integrity_check, foreign_key_check and the relay's counter
// invariants (db_check.hpp).
//
// After the last cycle the senders stop, every receiver drains its mailbox on
// a fresh connection and acks everything; then:
//  - every ACCEPTED message was stored by its recipient exactly once after
//    de-duplication, in each sender's order, and nothing never sent arrived
//    (Ledger's checks);
//  - the relay's queue is empty (`sotto-relay stats`), its database intact.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/envelope.hpp"
#include "integration/crash_harness.hpp"
#include "integration/db_check.hpp"
#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

constexpr std::uint32_t kSenders = 3;
constexpr std::uint32_t kReceivers = 2;
// Short: a broken connection is seen at once (RST or EOF); this only bounds a hang.
constexpr std::chrono::milliseconds kClientTimeout = 10s;

// The relay's address, which start() changes only if its port was taken.
class SharedAddress {
 public:
  explicit SharedAddress(RelayAddress a) : address_(std::move(a)) {}
  RelayAddress get() const {
    std::lock_guard lock(mu_);
    return address_;
  }
  void set(RelayAddress a) {
    std::lock_guard lock(mu_);
    address_ = std::move(a);
  }

 private:
  mutable std::mutex mu_;
  RelayAddress address_;
};

// Connects (IK) until it works or `stop` is set; the relay may be down for a while.
std::optional<RelayClient> connect_retrying(Device& d, const SharedAddress& address,
                                            const std::atomic<bool>& stop) {
  while (!stop) {
    auto c = RelayClient::connect(address.get(), d.id(), copy_key(d.transport), d.device_id, d.rng,
                                  kClientTimeout);
    if (c) return std::move(*c);
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

bool connection_lost(const client::ClientError& e) {
  return e.kind != ClientErrorKind::kRejected && e.kind != ClientErrorKind::kTimeout;
}

// A sender: message after message, each to a receiver picked by `choice`.
void run_sender(std::uint32_t index, Device& me, const std::vector<IdentityPublicKey>& receivers,
                const SharedAddress& address, Ledger& ledger, std::uint64_t seed,
                const std::atomic<bool>& stop) {
  SeededRng choice(seed);
  std::uint64_t counter = 0;
  struct Pending {
    MessageKey key;
    std::uint32_t recipient;
    Bytes envelope;
  };
  std::optional<Pending> pending;
  while (!stop) {
    auto c = connect_retrying(me, address, stop);
    if (!c) break;
    while (!stop) {
      if (!pending) {
        const std::uint32_t r = choice.uniform(kReceivers);
        const MessageKey key{index, ++counter};
        auto payload = crash_payload(index, counter, choice.uniform(700), me.rng);
        auto sealed =
            seal_envelope(me.identity, receivers[r], kPayloadRatchetMessage, payload, me.rng);
        if (!sealed) return;  // cannot happen: the payload is small
        ledger.handed_over(key, r, *sealed);
        pending = Pending{key, r, std::move(*sealed)};
      }
      auto sent = c->send(receivers[pending->recipient], pending->envelope);
      if (sent) {
        ledger.accepted(pending->key);
        pending.reset();
        std::this_thread::sleep_for(std::chrono::microseconds(choice.uniform(3000)));
        continue;
      }
      // Not acknowledged: maybe stored, maybe not. Retry the same bytes, or give up on it.
      if (choice.uniform(2) == 0) pending.reset();
      if (sent.error().retry_after_ms)
        std::this_thread::sleep_for(std::chrono::milliseconds(*sent.error().retry_after_ms));
      if (connection_lost(sent.error())) break;
    }
  }
}

// A receiver: takes what is pushed, checks and stores it, then acks (or not).
// Returns when `stop` is set, or — when `drain` — once nothing arrived for a while.
void run_receiver(std::uint32_t index, Device& me, const SharedAddress& address, Ledger& ledger,
                  std::uint64_t seed, const std::atomic<bool>& stop, bool drain = false) {
  SeededRng choice(seed);
  while (!stop) {
    auto c = connect_retrying(me, address, stop);
    if (!c) break;
    bool lost = false;
    while (!stop && !lost) {
      auto first = c->wait_delivery(drain ? 1500ms : 100ms);
      if (!first) {
        if (connection_lost(first.error())) break;
        if (drain) return;  // quiet: everything was delivered
        continue;
      }
      std::vector<RelayClient::Delivery> batch{std::move(*first)};
      if (auto more = c->take_deliveries()) {
        for (auto& d : *more) batch.push_back(std::move(d));
      } else {
        lost = true;
      }
      std::vector<std::uint64_t> sequences;
      for (const auto& d : batch) {
        ledger.receive(index, me.identity, d.sequence, d.envelope);  // "stored"
        sequences.push_back(d.sequence);
      }
      // Usually ack at once; sometimes leave it for a redelivery (never while draining).
      if (lost || (!drain && choice.uniform(10) == 0)) continue;
      auto acked = c->ack(sequences);
      if (acked) {
        ledger.acked(index, sequences);
      } else if (connection_lost(acked.error())) {
        break;
      }
      if (!drain && choice.uniform(40) == 0) break;  // reconnect on purpose
    }
  }
}

}  // namespace

TEST_CASE("relay killed with SIGKILL at random moments: nothing accepted is lost or duplicated",
          "[integration][crash]") {
  const std::uint64_t seed = crash_seed();
  const std::uint64_t cycles = env_u64("SOTTO_CRASH_CYCLES", 50);
  WARN("crash test: seed " << seed << ", " << cycles
                           << " cycles (SOTTO_CRASH_SEED / SOTTO_CRASH_CYCLES to change)");
  SeededRng killer(seed);

  // Limits out of the way: the test reconnects and sends far more than a person would.
  auto relay = RelayProcess::create({
      {"rate_limits", "requests_per_second_per_account", "1000000"},
      {"rate_limits", "request_burst_per_account", "1000000"},
      {"rate_limits", "requests_per_second_per_address", "1000000"},
      {"rate_limits", "request_burst_per_address", "1000000"},
      {"rate_limits", "connections_per_minute_per_address", "1000000"},
      {"limits", "max_connections_per_address", "1000"},
  });
  REQUIRE(relay.ok());
  const auto db_path = relay->data_dir() / "relay.db";

  std::vector<std::unique_ptr<Device>> senders, receivers;
  std::vector<IdentityPublicKey> sender_ids, receiver_ids;
  for (std::uint32_t i = 0; i < kSenders; ++i) {
    senders.push_back(std::make_unique<Device>(0));
    sender_ids.push_back(senders.back()->id());
    senders.back()->connect_registered(*relay);
  }
  for (std::uint32_t i = 0; i < kReceivers; ++i) {
    receivers.push_back(std::make_unique<Device>(0));
    receiver_ids.push_back(receivers.back()->id());
    receivers.back()->connect_registered(*relay);
  }

  Ledger ledger(sender_ids);
  SharedAddress address(relay->address());
  std::atomic<bool> stop_senders{false}, stop_receivers{false};
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < kSenders; ++i)
    threads.emplace_back([&, i] {
      run_sender(i, *senders[i], receiver_ids, address, ledger, seed + 1 + i, stop_senders);
    });
  for (std::uint32_t i = 0; i < kReceivers; ++i)
    threads.emplace_back([&, i] {
      run_receiver(i, *receivers[i], address, ledger, seed + 101 + i, stop_receivers);
    });
  auto stop_all = [&] {
    stop_senders = true;
    stop_receivers = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  };

  const char* kModes[] = {"at a random time", "after more sends were ACCEPTED",
                          "after more acks were confirmed", "after more deliveries"};
  std::uint64_t per_mode[4] = {};
  std::string failure;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t cycle = 1; cycle <= cycles && failure.empty(); ++cycle) {
    // Strike: at a random time, or as soon as a counter moved on by a random step.
    const std::uint32_t mode = killer.uniform(4);
    ++per_mode[mode];
    const std::atomic<std::uint64_t>* counter = mode == 1   ? &ledger.accepted_count
                                                : mode == 2 ? &ledger.acks_count
                                                : mode == 3 ? &ledger.deliveries_count
                                                            : nullptr;
    if (counter == nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(killer.uniform(250)));
    } else {
      const std::uint64_t target = counter->load() + 1 + killer.uniform(mode == 2 ? 8 : 25);
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (counter->load() < target && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (counter->load() < target) {
        failure = "cycle " + std::to_string(cycle) + ": no progress for 30 s " + kModes[mode];
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(killer.uniform(3000)));
    }
    auto killed = relay->kill();
    if (!killed || *killed != 128 + SIGKILL) {
      failure = "cycle " + std::to_string(cycle) + ": the relay had exited by itself (status " +
                (killed ? std::to_string(*killed) : killed.error()) + ")";
      break;
    }
    if (auto bad = check_relay_db(db_path); !bad.empty()) {
      failure = "cycle " + std::to_string(cycle) + " (killed " + kModes[mode] +
                "): relay.db damaged:\n" + bad;
      break;
    }
    if (auto restarted = relay->start(); !restarted) {
      failure =
          "cycle " + std::to_string(cycle) + ": the relay did not restart: " + restarted.error();
      break;
    }
    address.set(relay->address());
    if (auto v = ledger.violations(); !v.empty()) failure = "cycle " + std::to_string(cycle);
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  stop_all();
  INFO("seed " << seed);
  for (const auto& v : ledger.violations()) UNSCOPED_INFO(v);
  if (!failure.empty()) {
    const auto log = relay->log();
    FAIL(failure << "\nrelay log (tail):\n"
                 << log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  }
  REQUIRE(ledger.violations().empty());

  // Drain: each receiver, on a fresh connection, takes and acks everything left.
  std::atomic<bool> never{false};
  for (std::uint32_t i = 0; i < kReceivers; ++i) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    do {
      run_receiver(i, *receivers[i], address, ledger, seed + 201 + i, never, /*drain=*/true);
    } while (!ledger.has_all_accepted(i) && std::chrono::steady_clock::now() < deadline);
  }
  for (const auto& v : ledger.violations()) UNSCOPED_INFO(v);
  CHECK(ledger.violations().empty());
  const auto missing = ledger.missing_accepted();
  for (const auto& m : missing) UNSCOPED_INFO("ACCEPTED but never delivered: " << m);
  CHECK(missing.empty());

  // Everything delivered was acked: the relay holds nothing, and its files are intact.
  auto stopped = relay->stop();
  REQUIRE(stopped.ok());
  CHECK(*stopped == 0);
  CHECK(check_relay_db(db_path) == "");
  auto stats = relay->command({"stats", "--json", "--data", relay->data_dir().string()});
  CHECK(stats.status == 0);
  CHECK_THAT(stats.out, Catch::Contains("\"queued_messages\": 0"));

  const auto [unconfirmed, unconfirmed_delivered] = ledger.unconfirmed();
  std::cout << "crash test: seed " << seed << ", " << cycles << " kills in " << elapsed.count()
            << " s (" << per_mode[0] << " " << kModes[0] << ", " << per_mode[1] << " " << kModes[1]
            << ", " << per_mode[2] << " " << kModes[2] << ", " << per_mode[3] << " " << kModes[3]
            << "); " << ledger.accepted_size() << " ACCEPTED, all delivered once; " << unconfirmed
            << " sent without an answer, " << unconfirmed_delivered << " of them delivered; "
            << ledger.duplicates() << " duplicate copies dropped\n";
  CHECK(ledger.accepted_size() > 0);
}

TEST_CASE("the checks run between kill and restart see a damaged relay.db",
          "[integration][crash]") {
  namespace fs = std::filesystem;
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice(0), bob(0);
  bob.connect_registered(*relay);
  auto a = alice.connect_registered(*relay);
  for (int i = 0; i < 3; ++i) must(a.send(bob.id(), bytes_of("queued " + std::to_string(i))));
  a.close();
  REQUIRE(relay->kill().ok());
  const auto db = relay->data_dir() / "relay.db";
  CHECK(check_relay_db(db) == "");  // healthy right after a SIGKILL

  // A copy whose WAL is folded in (the relay's own files stay as the crash left them).
  const auto copy = relay->data_dir().parent_path() / "copy.db";
  auto make_copy = [&] {
    fs::remove(copy);
    sqlite3* src = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    const std::string vacuum = "VACUUM INTO '" + copy.string() + "'";
    CHECK(sqlite3_exec(src, vacuum.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(src);
    CHECK(check_relay_db(copy) == "");
  };
  auto exec = [&](const char* sql) {
    sqlite3* c = nullptr;
    REQUIRE(sqlite3_open_v2(copy.c_str(), &c, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    CHECK(sqlite3_exec(c, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(c);
  };

  SECTION("a mailbox counter that disagrees with its rows") {
    make_copy();
    exec("UPDATE mailboxes SET queued_messages = queued_messages + 1");
    CHECK_THAT(check_relay_db(copy), Catch::Contains("queued_messages"));
  }
  SECTION("a next sequence that would hand out a stored one again") {
    make_copy();
    exec("UPDATE mailboxes SET next_seq = 1");
    CHECK_THAT(check_relay_db(copy), Catch::Contains("next_seq"));
  }
  SECTION("a page overwritten with garbage") {
    make_copy();
    const auto size = fs::file_size(copy);
    REQUIRE(size > 3 * 4096);
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(2 * 4096);
    const std::string garbage(4096, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    f.close();
    CHECK(check_relay_db(copy) != "");
  }
  CHECK(relay->start().ok());  // the relay itself is untouched by all this
}
