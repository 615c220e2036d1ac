// test_early_delivery.cpp — the store's in-memory half of the mailboxes
// (server/mailbox_book.hpp): a Send admitted at once (quota, sequence), its envelope
// fetchable before its insert commits when its sequence is reserved on disk, an ack that
// arrives while the insert is still queued cancels it (the sender is answered, nothing
// reaches the file), an ack after the writer took the insert deletes it after the
// commit, sequences never handed out twice across a crash (reserved ranges), order when
// stored and pending envelopes mix, quotas counting pending envelopes, and redelivery
// from the file to a recipient that did not acknowledge.
//
// A gate in the group-commit writer (GroupCommitOptions::before_commit_for_tests) holds
// a batch whose bodies ran, before its COMMIT, so that later operations wait in the
// queue: the moment the short circuit exists for.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "server/sqlite_store.hpp"
#include "store_fixtures.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;

namespace {

using sotto::test::TempDir;
using namespace sotto::test::store;

// Holds the writer thread before its next COMMIT, until released.
class Gate {
 public:
  void hook() {
    std::unique_lock lock(mu_);
    if (!armed_) return;
    armed_ = false;
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    held_ = false;
  }
  void arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
    open_ = false;
  }
  void wait_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool held_ = false;
  bool open_ = true;
};

SqliteStoreOptions options_for(const TempDir& dir, Gate* gate, std::uint64_t reservation = 1024) {
  SqliteStoreOptions o;
  o.path = dir.file("relay.db");
  o.sequence_reservation = reservation;
  if (gate != nullptr) o.group_commit.before_commit_for_tests = [gate] { gate->hook(); };
  return o;
}

struct Admission {
  LiveEnvelope live;
  std::future<StoreResult<Admitted>> answer;  // what the sender is told
};

Admission admit(SqliteStore& store, std::uint8_t who, Bytes ct) {
  auto [done, future] = completion_future<Admitted>();
  auto live = store.admit(id_of(who), std::move(ct), 1000, std::move(done));
  REQUIRE(live.ok());
  return Admission{*live, std::move(future)};
}

bool ready(std::future<StoreResult<Admitted>>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

// Registers account 1 and commits one envelope, so that a range of sequences is
// reserved on disk (the first admission of a mailbox reserves it) — then acks it.
void prepare(SqliteStore& store) {
  REQUIRE(store.register_account(keys_for(1), 19'700).get().ok());
  auto first = admit(store, 1, envelope(1));
  CHECK_FALSE(first.live.early);  // nothing reserved on disk yet
  REQUIRE(first.answer.get()->seq == 1);
  REQUIRE(store.ack(id_of(1), {1}).get()->deleted == 1);
}

}  // namespace

TEST_CASE("an ack before the insert is taken cancels it: ACCEPTED, nothing on disk",
          "[store][early]") {
  TempDir dir;
  Gate gate;
  auto store = open_store(options_for(dir, &gate));
  prepare(*store);

  gate.arm();
  auto held = admit(*store, 1, envelope(2));  // taken by the writer, held by the gate
  gate.wait_held();
  auto queued = admit(*store, 1, envelope(3));  // waits in the queue behind it
  REQUIRE(held.live.early);
  REQUIRE(queued.live.early);
  CHECK(held.live.seq == 2);
  CHECK(queued.live.seq == 3);
  CHECK(*queued.live.ciphertext == envelope(3));
  // Both are fetchable before they commit (what a reconnecting recipient is pushed).
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{2, 3});

  // The recipient acknowledges 3 while its insert is still queued: cancelled, and the
  // sender is answered at once with its sequence (ACCEPTED).
  auto ack = store->ack(id_of(1), {3}).get();
  REQUIRE(ack.ok());
  CHECK(ack->deleted == 1);
  CHECK(ack->before_commit == 1);
  REQUIRE(ready(queued.answer));
  auto answered = queued.answer.get();
  REQUIRE(answered.ok());
  CHECK(answered->seq == 3);
  CHECK_FALSE(ready(held.answer));  // not committed yet

  gate.release();
  REQUIRE(held.answer.get().ok());
  store->close();
  CHECK(stored_rows(dir) == 1);  // 2 only
  CHECK(on_disk(dir, envelope(2)));
  CHECK_FALSE(on_disk(dir, envelope(3)));  // never written, not even to the log
}

TEST_CASE("an ack after the writer took the insert deletes it once committed", "[store][early]") {
  TempDir dir;
  Gate gate;
  auto store = open_store(options_for(dir, &gate));
  prepare(*store);

  SECTION("taken but not committed: the deletion waits in the queue behind it") {
    gate.arm();
    auto held = admit(*store, 1, envelope(2));
    gate.wait_held();
    auto ack = store->ack(id_of(1), {2});  // too late to cancel: a stored deletion
    CHECK(ack.wait_for(std::chrono::milliseconds(50)) == std::future_status::timeout);
    gate.release();
    CHECK(held.answer.get()->seq == 2);
    CHECK(ack.get()->deleted == 1);
  }
  SECTION("committed: an ordinary deletion") {
    auto a = admit(*store, 1, envelope(2));
    CHECK(a.answer.get()->seq == 2);
    CHECK(store->ack(id_of(1), {2}).get()->deleted == 1);
    CHECK(store->ack(id_of(1), {2}).get()->unknown == 1);
  }
  CHECK(store->fetch(id_of(1), 0, 10)->empty());
  store->close();
  CHECK(stored_rows(dir) == 0);
}

TEST_CASE("sequences are never handed out twice across a crash (reserved ranges)",
          "[store][early][durability]") {
  TempDir dir;
  TempDir crash;
  Gate gate;
  auto store = open_store(options_for(dir, &gate, /*reservation=*/8));
  prepare(*store);  // seq 1, range reserved

  // Early envelopes seen by the recipient (fetched) whose inserts never commit.
  gate.arm();
  auto held = admit(*store, 1, envelope(2));
  gate.wait_held();
  auto a = admit(*store, 1, envelope(3));
  auto b = admit(*store, 1, envelope(4));
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{2, 3, 4});
  // The disk as a kill -9 leaves it now: nothing of 2..4 committed.
  for (const char* name : {"relay.db", "relay.db-wal"})
    if (fs::exists(dir.file(name))) fs::copy_file(dir.file(name), crash.file(name));
  CHECK(store->ack(id_of(1), {3}).get()->deleted == 1);
  gate.release();
  CHECK(held.answer.get().ok());
  CHECK(b.answer.get().ok());
  store->close();

  SECTION("after the crash, the relay resumes above every sequence it handed out") {
    auto after = open_store(options_for(crash, nullptr, 8));
    auto c = admit(*after, 1, envelope(5));
    CHECK(c.live.seq > 4);
    CHECK(c.answer.get()->seq == c.live.seq);
  }
  SECTION("after a clean restart too, and ranges keep being reserved") {
    auto after = open_store(options_for(dir, nullptr, 8));
    Sequence last = 4;
    for (std::uint8_t i = 0; i < 20; ++i) {
      auto c = admit(*after, 1, envelope(static_cast<std::uint8_t>(10 + i)));
      CHECK(c.live.seq > last);
      last = c.live.seq;
      CHECK(c.answer.get().ok());
    }
    // Past the first range of the restart, admissions are early again.
    auto d = admit(*after, 1, envelope(40));
    CHECK(d.live.early);
    CHECK(d.answer.get().ok());
  }
}

TEST_CASE("stored and early envelopes are fetched together in sequence order", "[store][early]") {
  TempDir dir;
  Gate gate;
  auto store = open_store(options_for(dir, &gate));
  prepare(*store);
  for (std::uint8_t i = 2; i <= 4; ++i) REQUIRE(admit(*store, 1, envelope(i)).answer.get().ok());

  gate.arm();
  auto held = admit(*store, 1, envelope(5));
  gate.wait_held();
  std::vector<Admission> pending;
  for (std::uint8_t i = 6; i <= 8; ++i) pending.push_back(admit(*store, 1, envelope(i)));

  auto all = store->fetch(id_of(1), 0, 100);
  CHECK(seqs_of(*all) == std::vector<Sequence>{2, 3, 4, 5, 6, 7, 8});
  CHECK(all->at(3).ciphertext == envelope(5));
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 4)) == std::vector<Sequence>{2, 3, 4, 5});
  CHECK(seqs_of(*store->fetch(id_of(1), 3, 3)) == std::vector<Sequence>{4, 5, 6});
  CHECK(seqs_of(*store->fetch(id_of(1), 6, 10)) == std::vector<Sequence>{7, 8});

  gate.release();
  for (auto& p : pending) REQUIRE(p.answer.get().ok());
  REQUIRE(held.answer.get().ok());
  // Committed meanwhile: the same list, now from the file alone.
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 100)) == std::vector<Sequence>{2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("the quota counts envelopes whose insert is still queued", "[store][early][quota]") {
  TempDir dir;
  Gate gate;
  auto o = options_for(dir, &gate);
  o.limits.mailbox_max_messages = 3;
  auto store = open_store(o);
  prepare(*store);

  gate.arm();
  auto held = admit(*store, 1, envelope(2));
  gate.wait_held();
  auto a = admit(*store, 1, envelope(3));
  auto b = admit(*store, 1, envelope(4));
  // Three held (one taken, two queued): a fourth is refused before anything is queued.
  bool called = false;
  auto refused = store->admit(id_of(1), envelope(5), 1000,
                              [&called](StoreResult<Admitted>) { called = true; });
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == StoreError::kQuotaExceeded);
  CHECK_FALSE(called);  // refused at once: the sender's answer is the returned error
  CHECK(store->enqueue(id_of(1), envelope(5), 1000).get().error() == StoreError::kQuotaExceeded);

  // Acknowledged (cancelled) envelopes free their place at once.
  CHECK(store->ack(id_of(1), {3}).get()->deleted == 1);
  auto c = admit(*store, 1, envelope(6));
  gate.release();
  CHECK(c.answer.get().ok());
  CHECK(held.answer.get().ok());
  CHECK(b.answer.get().ok());
  CHECK(store->enqueue(id_of(1), envelope(7), 1000).get().error() == StoreError::kQuotaExceeded);
  // A stored deletion frees one too.
  CHECK(store->ack(id_of(1), {held.live.seq}).get()->deleted == 1);
  CHECK(store->enqueue(id_of(1), envelope(7), 1000).get().ok());
}

TEST_CASE("an early envelope the recipient did not acknowledge is fetched again from the file",
          "[store][early]") {
  TempDir dir;
  Gate gate;
  auto store = open_store(options_for(dir, &gate));
  prepare(*store);

  gate.arm();
  auto held = admit(*store, 1, envelope(2));
  gate.wait_held();
  auto a = admit(*store, 1, envelope(3));
  // The recipient's connection is pushed both, then drops without acknowledging.
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{2, 3});
  gate.release();
  CHECK(a.answer.get()->seq == 3);
  CHECK(held.answer.get()->seq == 2);
  // A new connection starts from the lowest unacknowledged sequence: both, from disk.
  auto again = store->fetch(id_of(1), 0, 10);
  CHECK(seqs_of(*again) == std::vector<Sequence>{2, 3});
  CHECK(again->at(1).ciphertext == envelope(3));
  store->close();
  CHECK(stored_rows(dir) == 2);
  auto reopened = open_store(options_for(dir, nullptr));
  CHECK(seqs_of(*reopened->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{2, 3});
}

TEST_CASE("deleting an account forgets its mailbox and registering again starts afresh",
          "[store][early]") {
  TempDir dir;
  auto store = open_store(options_for(dir, nullptr));
  prepare(*store);
  REQUIRE(admit(*store, 1, envelope(2)).answer.get().ok());
  REQUIRE(store->delete_account(id_of(1)).get().ok());
  auto [done, future] = completion_future<Admitted>();
  auto refused = store->admit(id_of(1), envelope(3), 1000, std::move(done));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == StoreError::kNotFound);
  REQUIRE(store->register_account(keys_for(1), 19'700).get().ok());
  CHECK(admit(*store, 1, envelope(4)).answer.get()->seq == 1);
}
