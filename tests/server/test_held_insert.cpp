// test_held_insert.cpp — held inserts (sqlite_store.hpp, "Held inserts"): the insert of
// an early envelope that a live connection took waits `hold` before it joins the writer's
// queue, so that the recipient's Ack cancels it and it is never written. An Ack within the
// hold: nothing written, the sender ACCEPTED at once; no Ack: committed after the hold,
// then ACCEPTED; an offline recipient (nothing taken) or a non-early envelope: queued at
// once; the memory bounds: beyond them, queued at once; other writes never wait for a
// held insert; shutdown (release_held, close) commits held inserts and answers them; a
// crash loses a held insert unanswered and never reuses its sequence; the quota counts
// held envelopes; delete_account releases held inserts first; a held insert that fails
// (full disk) answers busy.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "server/sqlite_store.hpp"
#include "store_fixtures.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using sotto::test::TempDir;
using namespace sotto::test::store;
using Clock = std::chrono::steady_clock;

// The relay's live connections as admit sees them: takes every envelope while online.
struct FakeLive final : LiveDelivery {
  bool online = true;
  std::vector<Sequence> pushed;
  bool admitted(const AccountId&, Sequence seq, const Bytes&) override {
    if (!online) return false;
    pushed.push_back(seq);
    return true;
  }
};

SqliteStoreOptions options_for(const TempDir& dir, std::chrono::milliseconds hold) {
  SqliteStoreOptions o;
  o.path = dir.file("relay.db");
  o.hold = hold;
  return o;
}

struct Admission {
  LiveEnvelope live;
  std::future<StoreResult<Admitted>> answer;  // what the sender is told
};

Admission admit(SqliteStore& store, std::uint8_t who, Bytes ct, LiveDelivery* live) {
  auto [done, future] = completion_future<Admitted>();
  auto r = store.admit(id_of(who), std::move(ct), 1000, std::move(done), live);
  REQUIRE(r.ok());
  return Admission{*r, std::move(future)};
}

bool ready(std::future<StoreResult<Admitted>>& f, std::chrono::milliseconds wait = 0ms) {
  return f.wait_for(wait) == std::future_status::ready;
}

// Registers `who` and commits (then acks) one envelope, so that a range of sequences is
// reserved on disk: the next admissions are early.
void prepare(SqliteStore& store, std::uint8_t who = 1) {
  REQUIRE(store.register_account(keys_for(who), 19'700).get().ok());
  FakeLive live;
  auto first = admit(store, who, envelope(who), &live);
  CHECK_FALSE(first.live.early);  // nothing reserved on disk yet ...
  CHECK(live.pushed.empty());     // ... so not pushed, and not held
  REQUIRE(first.answer.get().ok());
  REQUIRE(store.ack(id_of(who), {first.live.seq}).get()->deleted == 1);
}

}  // namespace

TEST_CASE("a held insert acknowledged within the hold is never written and ACCEPTED at the ack",
          "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 10s));
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  REQUIRE(a.live.early);
  CHECK(live.pushed == std::vector<Sequence>{a.live.seq});  // handed over inside admit
  CHECK_FALSE(ready(a.answer, 100ms));                      // held: not committed, not answered
  // While held it is what a reconnecting recipient is pushed.
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{a.live.seq});

  const auto before_ack = Clock::now();
  auto ack = store->ack(id_of(1), {a.live.seq}).get();
  REQUIRE(ack.ok());
  CHECK(ack->deleted == 1);
  CHECK(ack->before_commit == 1);
  REQUIRE(ready(a.answer));  // answered by the ack, not after the hold
  auto answered = a.answer.get();
  REQUIRE(answered.ok());
  CHECK(answered->seq == a.live.seq);
  CHECK(Clock::now() - before_ack < 5s);
  CHECK(store->fetch(id_of(1), 0, 10)->empty());
  CHECK(store->commit_stats().held_inserts == 1);
  CHECK(store->commit_stats().held_inserts_released == 0);

  store->close();  // the cancelled op still in the writer's delayed list: a no-op
  CHECK(stored_rows(dir) == 0);
  CHECK_FALSE(on_disk(dir, envelope(2)));  // not even in the log
}

TEST_CASE("a held insert not acknowledged is committed after the hold, then ACCEPTED",
          "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 300ms));
  prepare(*store);
  FakeLive live;
  const auto start = Clock::now();
  auto a = admit(*store, 1, envelope(2), &live);
  auto b = admit(*store, 1, envelope(3), &live);
  CHECK(live.pushed == std::vector<Sequence>{a.live.seq, b.live.seq});
  CHECK_FALSE(ready(a.answer, 50ms));
  auto ra = a.answer.get();
  auto rb = b.answer.get();
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  CHECK(Clock::now() - start >= 300ms);  // never before the hold
  CHECK(ra->seq == a.live.seq);
  CHECK(rb->seq == b.live.seq);
  CHECK(store->commit_stats().held_inserts == 2);
  CHECK(store->commit_stats().held_inserts_released == 2);
  // Committed: an ack now is an ordinary deletion.
  auto ack = store->ack(id_of(1), {a.live.seq}).get();
  REQUIRE(ack.ok());
  CHECK(ack->deleted == 1);
  CHECK(ack->before_commit == 0);
  store->close();
  CHECK(stored_rows(dir) == 1);
  CHECK(on_disk(dir, envelope(3)));
}

TEST_CASE("an envelope no live connection took is queued at once", "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 10s));
  prepare(*store);
  SECTION("offline recipient") {
    FakeLive offline;
    offline.online = false;
    auto a = admit(*store, 1, envelope(2), &offline);
    CHECK(a.live.early);
    REQUIRE(ready(a.answer, 5s));  // committed as fast as without holds
    CHECK(a.answer.get().ok());
  }
  SECTION("no live delivery at all (enqueue, tools)") {
    auto a = admit(*store, 1, envelope(2), nullptr);
    REQUIRE(ready(a.answer, 5s));
    CHECK(a.answer.get().ok());
  }
  store->close();
  CHECK(stored_rows(dir) == 1);
}

TEST_CASE("with hold 0 nothing is held", "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 0ms));
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  CHECK(live.pushed == std::vector<Sequence>{a.live.seq});  // still pushed from memory
  REQUIRE(ready(a.answer, 5s));
  CHECK(a.answer.get().ok());
}

TEST_CASE("past the memory bounds, inserts are queued at once", "[store][hold]") {
  TempDir dir;
  auto o = options_for(dir, 10s);
  SECTION("envelopes") {
    o.hold_max_envelopes = 2;
  }
  SECTION("bytes") {
    o.hold_max_bytes = 450;  // two envelopes of 200 bytes, not three
  }
  auto store = open_store(o);
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  auto b = admit(*store, 1, envelope(3), &live);
  auto c = admit(*store, 1, envelope(4), &live);  // over the bound: not held
  CHECK(live.pushed.size() == 3);
  REQUIRE(ready(c.answer, 5s));
  CHECK(c.answer.get().ok());
  CHECK_FALSE(ready(a.answer));
  CHECK_FALSE(ready(b.answer));
  // A cancelled held envelope frees its place in the bounds at once.
  REQUIRE(store->ack(id_of(1), {a.live.seq}).get()->before_commit == 1);
  auto d = admit(*store, 1, envelope(5), &live);
  CHECK_FALSE(ready(d.answer, 100ms));  // held again
  store->close();                       // commits b and d
  CHECK(b.answer.get().ok());
  CHECK(d.answer.get().ok());
  CHECK(stored_rows(dir) == 3);  // b, c, d
}

TEST_CASE("other writes never wait behind a held insert", "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 10s));
  prepare(*store, 1);
  prepare(*store, 2);
  FakeLive live;
  auto held = admit(*store, 1, envelope(3), &live);
  FakeLive offline;
  offline.online = false;
  // A send to another (offline) mailbox, a later send to the same mailbox that was not
  // taken, an ack, a registration and a prekey upload all commit meanwhile.
  auto other = admit(*store, 2, envelope(4), &offline);
  auto later = admit(*store, 1, envelope(5), &offline);
  REQUIRE(ready(other.answer, 5s));
  REQUIRE(ready(later.answer, 5s));
  CHECK(later.answer.get()->seq > held.live.seq);
  CHECK(store->ack(id_of(2), {other.live.seq}).wait_for(5s) == std::future_status::ready);
  CHECK(store->register_account(keys_for(3), 19'700).wait_for(5s) == std::future_status::ready);
  CHECK_FALSE(ready(held.answer));
  // Order for a recipient that reconnects: the held one (memory) before the stored one.
  CHECK(seqs_of(*store->fetch(id_of(1), 0, 10)) ==
        std::vector<Sequence>{held.live.seq, later.live.seq});
  CHECK(seqs_of(*store->fetch(id_of(1), held.live.seq, 10)) ==
        std::vector<Sequence>{later.live.seq});
  store->close();
  CHECK(held.answer.get().ok());
}

TEST_CASE("shutdown commits held inserts and answers their senders", "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 1h));
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  CHECK_FALSE(ready(a.answer, 50ms));
  SECTION("release_held (the relay's stop_all): written now, not after the hold") {
    store->release_held();
    REQUIRE(ready(a.answer, 5s));
    CHECK(a.answer.get()->seq == a.live.seq);
    // From now on nothing is held: a send admitted while the relay drains is not delayed.
    auto late = admit(*store, 1, envelope(3), &live);
    CHECK(live.pushed.back() == late.live.seq);
    REQUIRE(ready(late.answer, 5s));
    CHECK(late.answer.get().ok());
    CHECK(store->ack(id_of(1), {late.live.seq}).get()->before_commit == 0);  // was written
    store->close();
  }
  SECTION("close") {
    store->close();
    REQUIRE(ready(a.answer));
    CHECK(a.answer.get()->seq == a.live.seq);
  }
  CHECK(stored_rows(dir) == 1);
  CHECK(on_disk(dir, envelope(2)));
  auto reopened = open_store(options_for(dir, 0ms));
  CHECK(seqs_of(*reopened->fetch(id_of(1), 0, 10)) == std::vector<Sequence>{a.live.seq});
}

TEST_CASE("a crash loses a held insert unanswered, and its sequence is never reused",
          "[store][hold][durability]") {
  TempDir dir;
  TempDir crash;
  auto store = open_store(options_for(dir, 1h));
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  auto b = admit(*store, 1, envelope(3), &live);
  // The disk as a kill -9 leaves it now: the sender of a/b was not answered, so resends.
  for (const char* name : {"relay.db", "relay.db-wal"})
    if (fs::exists(dir.file(name))) fs::copy_file(dir.file(name), crash.file(name));
  CHECK_FALSE(ready(a.answer));
  CHECK_FALSE(ready(b.answer));
  store->close();

  auto after = open_store(options_for(crash, 0ms));
  CHECK(after->fetch(id_of(1), 0, 10)->empty());  // nothing of them was written
  auto c = admit(*after, 1, envelope(4), nullptr);
  CHECK(c.live.seq > b.live.seq);  // the pushed sequences are skipped, not reused
  CHECK(c.answer.get()->seq == c.live.seq);
}

TEST_CASE("deleting an account writes its held inserts first and registering again starts afresh",
          "[store][hold]") {
  TempDir dir;
  auto store = open_store(options_for(dir, 1h));
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  REQUIRE(store->delete_account(id_of(1)).get().ok());
  // Committed before the deletion (then deleted with the mailbox): answered, not lost.
  REQUIRE(ready(a.answer));
  CHECK(a.answer.get().ok());
  REQUIRE(store->register_account(keys_for(1), 19'700).get().ok());
  auto b = admit(*store, 1, envelope(3), nullptr);
  CHECK(b.live.seq == 1);
  REQUIRE(b.answer.get().ok());  // no stale row in the new mailbox's way
  store->close();
  CHECK(stored_rows(dir) == 1);
}

TEST_CASE("a held insert that fails (full disk) answers busy after the hold",
          "[store][hold][full]") {
  TempDir dir;
  auto o = options_for(dir, 100ms);
  o.max_page_count = 40;  // stands in for a full disk
  auto store = open_store(o);
  prepare(*store);
  // Fill the file until an insert fails.
  for (int i = 0;; ++i) {
    REQUIRE(i < 1000);
    auto r = store->enqueue(id_of(1), envelope(static_cast<std::uint8_t>(10 + i % 200), 2000), 1000)
                 .get();
    if (!r.ok()) {
      CHECK(r.error() == StoreError::kBusy);
      break;
    }
  }
  FakeLive live;
  auto a = admit(*store, 1, envelope(7, 2000), &live);
  REQUIRE(a.live.early);
  CHECK(live.pushed.size() == 1);  // pushed, then held
  auto r = a.answer.get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == StoreError::kBusy);  // the sender sends it again (SERVER_BUSY)
  // No longer pending: not fetched again, not counted against the quota.
  auto left = store->fetch(id_of(1), 0, 10'000);
  REQUIRE(left.ok());
  for (const auto& e : *left) CHECK(e.seq != a.live.seq);
}

TEST_CASE("the quota counts held envelopes", "[store][hold][quota]") {
  TempDir dir;
  auto o = options_for(dir, 1h);
  o.limits.mailbox_max_messages = 3;
  auto store = open_store(o);
  prepare(*store);
  FakeLive live;
  auto a = admit(*store, 1, envelope(2), &live);
  auto b = admit(*store, 1, envelope(3), &live);
  auto c = admit(*store, 1, envelope(4), &live);
  CHECK(live.pushed.size() == 3);
  // Three held: a fourth is refused before it is pushed or queued.
  auto refused = store->admit(
      id_of(1), envelope(5), 1000, [](StoreResult<Admitted>) {}, &live);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == StoreError::kQuotaExceeded);
  CHECK(live.pushed.size() == 3);
  // An acknowledged (cancelled) one frees its place at once.
  REQUIRE(store->ack(id_of(1), {b.live.seq}).get()->before_commit == 1);
  auto d = admit(*store, 1, envelope(6), &live);
  CHECK(d.live.seq > c.live.seq);
  store->close();
  CHECK(a.answer.get().ok());
  CHECK(c.answer.get().ok());
  CHECK(d.answer.get().ok());
  CHECK(stored_rows(dir) == 3);
}

TEST_CASE("acks racing the end of the hold: every sender answered once, nothing left held",
          "[store][hold][race]") {
  TempDir dir;
  auto o = options_for(dir, 1ms);  // holds end while acks arrive: both outcomes, often
  o.group_commit.delayed_grouping = 0ms;
  auto store = open_store(o);
  prepare(*store);
  FakeLive live;
  constexpr std::size_t kCount = 3000;
  std::vector<Admission> sent;
  std::vector<std::future<StoreResult<AckOutcome>>> acks;
  std::vector<std::vector<std::size_t>> ack_at(kCount + 8);  // step -> envelopes to ack
  sent.reserve(kCount);
  for (std::size_t i = 0; i < kCount + 8; ++i) {
    if (i < kCount) {
      sent.push_back(admit(*store, 1, envelope(static_cast<std::uint8_t>(i % 200)), &live));
      ack_at[i + (i % 8)].push_back(i);  // acknowledged 0..7 admissions later
    }
    for (std::size_t k : ack_at[i]) acks.push_back(store->ack(id_of(1), {sent[k].live.seq}));
  }
  std::uint64_t deleted = 0;
  for (auto& a : acks) {
    auto r = a.get();
    REQUIRE(r.ok());
    deleted += r->deleted;
  }
  for (auto& s : sent) {
    auto r = s.answer.get();  // exactly once (a second call would throw)
    REQUIRE(r.ok());
    CHECK(r->seq == s.live.seq);
  }
  CHECK(deleted == acks.size());  // each acknowledged envelope gone, cancelled or deleted
  const auto before = store->commit_stats();
  CHECK(before.held_inserts == live.pushed.size());  // every envelope pushed was held
  CHECK(before.held_inserts >= 1000);
  INFO("held " << before.held_inserts << ", written after the hold "
               << before.held_inserts_released);
  CHECK(before.held_inserts_released < before.held_inserts);  // most acks were in time
  // Every answer is in, so nothing is counted as held any more: the whole bound is free.
  FakeLive again;
  std::vector<Admission> more;
  for (int i = 0; i < 64; ++i) more.push_back(admit(*store, 1, envelope(7), &again));
  const auto early = static_cast<std::uint64_t>(again.pushed.size());
  CHECK(store->commit_stats().held_inserts - before.held_inserts == early);
  store->close();
  for (auto& m : more) CHECK(m.answer.get().ok());
}
