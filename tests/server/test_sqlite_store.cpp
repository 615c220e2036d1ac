// test_sqlite_store.cpp — the relay's SQLite store on real files in a temporary
// directory: accounts, prekeys (exactly-once consumption under concurrency), the
// mailbox (order, own-acks only, quotas, retention with a FakeClock), durability across
// reopen, group commit, migrations, pragmas, the stored schema, disclose, secure
// deletion on disk, and a full disk (max_page_count) answering busy without loss.
#include <catch2/catch.hpp>

#include <limits>

#include "support/temp_dir.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "server/sqlite_migrations.hpp"
#include "server/sqlite_store.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;

namespace {

using sotto::test::TempDir;

SqliteStoreOptions options_for(const TempDir& dir) {
  SqliteStoreOptions o;
  o.path = dir.file("relay.db");
  return o;
}

std::unique_ptr<SqliteStore> open_store(const SqliteStoreOptions& o) {
  auto r = SqliteStore::open(o);
  if (!r) FAIL("open failed: " << r.error().detail);
  return std::move(r).value();
}

AccountKeys keys_for(std::uint8_t who, std::uint8_t version = 1) {
  AccountKeys k;
  k.identity_key.fill(who);
  k.transport_key.fill(static_cast<std::uint8_t>(0x40 + version));
  k.transport_signature.fill(static_cast<std::uint8_t>(0x80 + version));
  k.device_id = 7u + version;
  k.signed_prekey.id = 100u + version;
  k.signed_prekey.encoded = Bytes(33, static_cast<std::uint8_t>(0xC0 + version));
  return k;
}

AccountId id_of(std::uint8_t who) {
  return keys_for(who).identity_key;
}

std::vector<OneTimePrekeyRecord> prekeys(std::uint32_t first, std::uint32_t n) {
  std::vector<OneTimePrekeyRecord> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    out.push_back({first + i, Bytes(32, static_cast<std::uint8_t>(first + i))});
  }
  return out;
}

Bytes message(std::size_t size, std::uint8_t fill) {
  return Bytes(size, fill);
}

constexpr UnixDay kToday = 19'700;

// A plain SQLite connection the test uses to look at the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    REQUIRE(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const unsigned char* t = sqlite3_column_text(s, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    CHECK(rc == SQLITE_DONE);
    sqlite3_finalize(s);
    return out;
  }
  std::int64_t integer(const std::string& sql) { return std::stoll(rows(sql).at(0).at(0)); }

 private:
  sqlite3* db_ = nullptr;
};

Bytes file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool contains(const Bytes& hay, const Bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST_CASE("accounts: register, duplicate, replace keys, touch, delete", "[store][accounts]") {
  TempDir dir;
  auto store = open_store(options_for(dir));

  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  auto dup = store->register_account(keys_for(1, 2), kToday + 1).get();
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error() == StoreError::kAlreadyExists);

  auto got = store->get_account(id_of(1));
  REQUIRE(got.ok());
  CHECK(got->keys == keys_for(1));  // the duplicate changed nothing
  CHECK(got->created_day == kToday);
  CHECK(got->last_seen_day == kToday);

  // Replacing keys: new transport key, certificate and signed prekey; days kept.
  auto missing = store->replace_keys(keys_for(9, 2), false).get();
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error() == StoreError::kNotFound);
  REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(1, 3)).get().ok());
  REQUIRE(store->replace_keys(keys_for(1, 2), false).get().ok());
  CHECK(store->get_account(id_of(1))->keys == keys_for(1, 2));
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 3);
  REQUIRE(store->replace_keys(keys_for(1, 3), true).get().ok());
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 0);
  CHECK(store->get_account(id_of(1))->created_day == kToday);

  // Last seen moves forward only.
  REQUIRE(store->touch_account(id_of(1), kToday + 5).get().ok());
  REQUIRE(store->touch_account(id_of(1), kToday + 2).get().ok());
  CHECK(store->get_account(id_of(1))->last_seen_day == kToday + 5);
  CHECK(store->touch_account(id_of(7), kToday).get().error() == StoreError::kNotFound);

  // Delete removes the account with its prekeys, mailbox and messages.
  REQUIRE(store->register_account(keys_for(2), kToday).get().ok());
  REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(10, 2)).get().ok());
  REQUIRE(store->enqueue(id_of(1), message(50, 0xAA), 1).get().ok());
  REQUIRE(store->enqueue(id_of(2), message(50, 0xBB), 1).get().ok());
  REQUIRE(store->delete_account(id_of(1)).get().ok());
  CHECK(store->get_account(id_of(1)).error() == StoreError::kNotFound);
  CHECK(store->delete_account(id_of(1)).get().error() == StoreError::kNotFound);
  CHECK(store->enqueue(id_of(1), message(5, 1), 1).get().error() == StoreError::kNotFound);
  CHECK(store->fetch(id_of(1), 0, 10).error() == StoreError::kNotFound);
  auto st = store->stats(0);
  REQUIRE(st.ok());
  CHECK(st->accounts == 1);
  CHECK(st->queued_messages == 1);  // only account 2's
  CHECK(st->one_time_prekeys == 0);
  store->close();

  RawDb raw(dir.file("relay.db"));
  CHECK(raw.integer("SELECT count(*) FROM one_time_prekeys") == 0);
  CHECK(raw.integer("SELECT count(*) FROM mailboxes") == 1);
  const AccountId gone = id_of(1);
  CHECK(raw.integer("SELECT count(*) FROM messages WHERE recipient = x'" + to_hex(ByteView(gone)) +
                    "'") == 0);
  CHECK(raw.integer("SELECT count(*) FROM messages") == 1);
}

TEST_CASE("one-time prekeys: cap, duplicates, oldest first, then empty", "[store][prekeys]") {
  TempDir dir;
  auto o = options_for(dir);
  o.limits.max_one_time_prekeys = 5;
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());

  CHECK(store->add_one_time_prekeys(id_of(9), prekeys(1, 1)).get().error() ==
        StoreError::kNotFound);
  auto added = store->add_one_time_prekeys(id_of(1), prekeys(1, 3)).get();
  REQUIRE(added.ok());
  CHECK(*added == 3);
  // Past the cap: the whole batch is refused.
  CHECK(store->add_one_time_prekeys(id_of(1), prekeys(10, 3)).get().error() ==
        StoreError::kQuotaExceeded);
  // An id already held: refused, and nothing of the batch is kept.
  std::vector<OneTimePrekeyRecord> with_dup = prekeys(20, 1);
  with_dup.push_back(prekeys(2, 1)[0]);
  CHECK(store->add_one_time_prekeys(id_of(1), with_dup).get().error() ==
        StoreError::kAlreadyExists);
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 3);
  // The same id twice in one upload, or an empty encoding, is malformed.
  std::vector<OneTimePrekeyRecord> twice = prekeys(30, 1);
  twice.push_back(twice[0]);
  CHECK(store->add_one_time_prekeys(id_of(1), twice).get().error() == StoreError::kInvalidArgument);
  CHECK(store->add_one_time_prekeys(id_of(1), {{40, Bytes{}}}).get().error() ==
        StoreError::kInvalidArgument);
  REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(4, 2)).get().ok());
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 5);

  // Consumed in upload order, each exactly once; then none (the caller falls back).
  for (std::uint32_t want = 1; want <= 5; ++want) {
    auto taken = store->consume_one_time_prekey(id_of(1)).get();
    REQUIRE(taken.ok());
    REQUIRE(taken->has_value());
    CHECK((*taken)->id == want);
    CHECK((*taken)->encoded == prekeys(want, 1)[0].encoded);
  }
  auto none = store->consume_one_time_prekey(id_of(1)).get();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(store->consume_one_time_prekey(id_of(9)).get().error() == StoreError::kNotFound);

  // Rotating the signed prekey.
  SignedPrekeyRecord spk{777, Bytes(40, 0x77)};
  REQUIRE(store->rotate_signed_prekey(id_of(1), spk).get().ok());
  CHECK(store->get_account(id_of(1))->keys.signed_prekey == spk);
  CHECK(store->rotate_signed_prekey(id_of(9), spk).get().error() == StoreError::kNotFound);
  CHECK(store->rotate_signed_prekey(id_of(1), {1, Bytes(kMaxPrekeyEncodingBytes + 1, 1)})
            .get()
            .error() == StoreError::kInvalidArgument);
}

TEST_CASE("one-time prekeys are handed out exactly once under concurrency", "[store][prekeys]") {
  TempDir dir;
  auto o = options_for(dir);
  o.limits.max_one_time_prekeys = 1000;
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  constexpr std::uint32_t kKeys = 200;
  REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(1, kKeys)).get().ok());

  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;  // 320 attempts for 200 keys
  std::mutex mu;
  std::multiset<std::uint32_t> handed_out;
  std::atomic<int> empty{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store->consume_one_time_prekey(id_of(1)).get();
        if (!r.ok()) {
          ++errors;
        } else if (!r->has_value()) {
          ++empty;
        } else {
          std::lock_guard lock(mu);
          handed_out.insert((*r)->id);
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  CHECK(errors == 0);
  CHECK(handed_out.size() == kKeys);
  std::set<std::uint32_t> distinct(handed_out.begin(), handed_out.end());
  CHECK(distinct.size() == kKeys);  // no key handed out twice
  CHECK(*distinct.begin() == 1);
  CHECK(*distinct.rbegin() == kKeys);
  CHECK(empty == kThreads * kPerThread - static_cast<int>(kKeys));
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 0);
}

TEST_CASE("ack of consecutive runs: each sequence counted once, deleted or unknown",
          "[store][mailbox]") {
  TempDir dir;
  auto store = open_store(options_for(dir));
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  for (std::uint8_t i = 1; i <= 8; ++i)
    REQUIRE(store->enqueue(id_of(1), message(10, i), 500).get().ok());
  // 2..5 is one run (4 deleted), 5 again is unknown, 7..9 deletes 7 and 8 (9 unknown),
  // the largest sequences are unknown and do not join a run past INT64_MAX.
  const Sequence top = static_cast<Sequence>(std::numeric_limits<std::int64_t>::max());
  auto ack = store->ack(id_of(1), {2, 3, 4, 5, 5, 7, 8, 9, top, top + 1, top + 2}).get();
  REQUIRE(ack.ok());
  CHECK(ack->deleted == 6);
  CHECK(ack->unknown == 5);
  auto left = store->fetch(id_of(1), 0, 100);
  REQUIRE(left.ok());
  REQUIRE(left->size() == 2);
  CHECK((*left)[0].seq == 1);
  CHECK((*left)[1].seq == 6);
  auto st = store->stats(500 * kArrivalBucketSeconds);
  REQUIRE(st.ok());
  CHECK(st->queued_messages == 2);
  CHECK(st->queued_bytes == 20);
}

TEST_CASE("mailbox: enqueue, fetch in order, ack only one's own", "[store][mailbox]") {
  TempDir dir;
  auto store = open_store(options_for(dir));
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());  // alice
  REQUIRE(store->register_account(keys_for(2), kToday).get().ok());  // bob

  for (std::uint8_t i = 1; i <= 3; ++i) {
    auto seq = store->enqueue(id_of(1), message(10 * i, i), 500 + i).get();
    REQUIRE(seq.ok());
    CHECK(*seq == i);  // per-mailbox sequence, from 1
  }
  CHECK(store->enqueue(id_of(9), message(5, 1), 1).get().error() == StoreError::kNotFound);
  CHECK(store->enqueue(id_of(1), Bytes{}, 1).get().error() == StoreError::kInvalidArgument);

  auto all = store->fetch(id_of(1), 0, 100);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto n = static_cast<std::uint8_t>(i + 1);
    CHECK((*all)[i].seq == n);
    CHECK((*all)[i].arrival_bucket == 500u + n);
    CHECK((*all)[i].ciphertext == message(10 * n, n));
  }
  auto page = store->fetch(id_of(1), 1, 1);
  REQUIRE(page.ok());
  REQUIRE(page->size() == 1);
  CHECK(page->front().seq == 2);
  CHECK(store->fetch(id_of(2), 0, 100)->empty());

  // Bob acknowledging alice's sequence numbers deletes nothing of hers.
  auto bob_ack = store->ack(id_of(2), {1, 2, 3}).get();
  REQUIRE(bob_ack.ok());
  CHECK(bob_ack->deleted == 0);
  CHECK(bob_ack->unknown == 3);
  CHECK(store->fetch(id_of(1), 0, 100)->size() == 3);
  CHECK(store->ack(id_of(9), {1}).get().error() == StoreError::kNotFound);

  auto alice_ack = store->ack(id_of(1), {1, 3, 3, 42}).get();
  REQUIRE(alice_ack.ok());
  CHECK(alice_ack->deleted == 2);
  CHECK(alice_ack->unknown == 2);
  auto left = store->fetch(id_of(1), 0, 100);
  REQUIRE(left->size() == 1);
  CHECK(left->front().seq == 2);

  // Sequences are never reused, even after acks emptied the tail.
  CHECK(*store->enqueue(id_of(1), message(7, 7), 600).get() == 4);
  auto st = store->stats(600 * kArrivalBucketSeconds);
  REQUIRE(st.ok());
  CHECK(st->queued_messages == 2);
  CHECK(st->queued_bytes == 20 + 7);
}

TEST_CASE("mailbox quotas in messages and bytes answer quota exceeded", "[store][mailbox]") {
  TempDir dir;
  auto o = options_for(dir);
  o.limits.mailbox_max_messages = 3;
  o.limits.mailbox_max_bytes = 100;
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  REQUIRE(store->register_account(keys_for(2), kToday).get().ok());

  for (int i = 0; i < 3; ++i) REQUIRE(store->enqueue(id_of(1), message(10, 1), 1).get().ok());
  auto full = store->enqueue(id_of(1), message(10, 1), 1).get();
  REQUIRE_FALSE(full.ok());
  CHECK(full.error() == StoreError::kQuotaExceeded);
  // Another mailbox is unaffected.
  CHECK(store->enqueue(id_of(2), message(10, 1), 1).get().ok());
  // Acknowledging makes room again.
  REQUIRE(store->ack(id_of(1), {1}).get()->deleted == 1);
  CHECK(store->enqueue(id_of(1), message(10, 1), 1).get().ok());

  // Bytes: 30 queued, 80 more would pass 100.
  REQUIRE(store->ack(id_of(2), {1}).get()->deleted == 1);
  REQUIRE(store->enqueue(id_of(2), message(30, 2), 1).get().ok());
  CHECK(store->enqueue(id_of(2), message(80, 2), 1).get().error() == StoreError::kQuotaExceeded);
  CHECK(store->enqueue(id_of(2), message(70, 2), 1).get().ok());  // exactly 100
  CHECK(store->enqueue(id_of(2), message(101, 2), 1).get().error() == StoreError::kQuotaExceeded);
  CHECK(store->disclose(id_of(2))->queued_bytes == 100);
}

TEST_CASE("expired messages are purged by retention with a fake clock", "[store][retention]") {
  TempDir dir;
  auto o = options_for(dir);
  o.limits.retention_seconds = 30 * kSecondsPerDay;
  o.limits.purge_batch_messages = 2;
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  FakeClock clock(1'700'000'000);

  for (int i = 0; i < 3; ++i) {
    REQUIRE(
        store->enqueue(id_of(1), message(10, 1), arrival_bucket_of(clock.now_unix())).get().ok());
  }
  clock.advance(2 * kArrivalBucketSeconds);
  REQUIRE(store->enqueue(id_of(1), message(20, 2), arrival_bucket_of(clock.now_unix())).get().ok());

  auto st = store->stats(clock.now_unix());
  REQUIRE(st->oldest_message_age_seconds.has_value());
  CHECK(*st->oldest_message_age_seconds >= 2 * kArrivalBucketSeconds);
  CHECK(*st->oldest_message_age_seconds < 3 * kArrivalBucketSeconds);

  clock.advance(29 * kSecondsPerDay);  // not yet 30 days for anyone
  auto nothing = store->purge_expired(clock.now_unix()).get();
  REQUIRE(nothing.ok());
  CHECK(nothing->messages == 0);

  clock.advance(kSecondsPerDay - kArrivalBucketSeconds);  // the first three are past 30 days + 1h
  auto first = store->purge_expired(clock.now_unix()).get();
  REQUIRE(first.ok());
  CHECK(first->messages == 2);  // batch limit
  CHECK(first->bytes == 20);
  CHECK(first->more);
  auto second = store->purge_expired(clock.now_unix()).get();
  REQUIRE(second.ok());
  CHECK(second->messages == 1);
  CHECK_FALSE(second->more);
  auto left = store->fetch(id_of(1), 0, 10);
  REQUIRE(left->size() == 1);
  CHECK(left->front().ciphertext == message(20, 2));

  clock.advance(3 * kArrivalBucketSeconds);
  CHECK(store->purge_expired(clock.now_unix()).get()->messages == 1);
  CHECK_FALSE(store->stats(clock.now_unix())->oldest_message_age_seconds.has_value());
}

TEST_CASE("accepted messages survive close and reopen", "[store][durability]") {
  TempDir dir;
  auto o = options_for(dir);
  {
    auto store = open_store(o);
    REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
    REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(1, 4)).get().ok());
    for (int i = 1; i <= 50; ++i) {
      REQUIRE(store->enqueue(id_of(1), message(static_cast<std::size_t>(i), 3), 77).get().ok());
    }
  }
  auto store = open_store(o);
  auto all = store->fetch(id_of(1), 0, 1000);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 50);
  for (std::size_t i = 0; i < 50; ++i) {
    CHECK((*all)[i].seq == i + 1);
    CHECK((*all)[i].ciphertext.size() == i + 1);
  }
  CHECK(*store->count_one_time_prekeys(id_of(1)) == 4);
  // Never a sequence handed out before the restart; the rest of the range reserved on
  // disk is skipped (mailbox_book.hpp), so the next one is at most a range further.
  const Sequence next = *store->enqueue(id_of(1), message(1, 1), 78).get();
  CHECK(next > 50);
  CHECK(next <= 51 + o.sequence_reservation + 1);
}

TEST_CASE("close commits every write already queued and then refuses new ones",
          "[store][durability]") {
  TempDir dir;
  auto o = options_for(dir);
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  std::vector<std::future<StoreResult<Sequence>>> pending;
  for (int i = 0; i < 100; ++i) pending.push_back(store->enqueue(id_of(1), message(16, 5), 1));
  store->close();
  for (auto& f : pending) CHECK(f.get().ok());
  CHECK(store->enqueue(id_of(1), message(16, 5), 1).get().error() == StoreError::kClosed);
  CHECK(store->fetch(id_of(1), 0, 1).error() == StoreError::kClosed);
  store.reset();
  CHECK(open_store(o)->fetch(id_of(1), 0, 1000)->size() == 100);
}

TEST_CASE("group commit carries many concurrent writes in fewer transactions", "[store][commit]") {
  TempDir dir;
  auto store = open_store(options_for(dir));
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  const CommitStats before = store->commit_stats();

  // Hold the writer inside the first completion while eight threads submit; when it is
  // released it finds their writes queued together.
  std::promise<void> writer_held, release;
  auto release_f = release.get_future().share();
  std::promise<StoreResult<Sequence>> first;
  store->enqueue(id_of(1), message(8, 0), 1, [&](StoreResult<Sequence> r) {
    writer_held.set_value();
    release_f.wait();
    first.set_value(std::move(r));
  });
  writer_held.get_future().wait();

  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::vector<std::future<StoreResult<Sequence>>> results;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto f = store->enqueue(id_of(1), message(8, static_cast<std::uint8_t>(t)), 1);
        std::lock_guard lock(mu);
        results.push_back(std::move(f));
      }
    });
  }
  for (auto& th : threads) th.join();
  release.set_value();

  std::set<Sequence> seqs;
  REQUIRE(first.get_future().get().ok());
  for (auto& f : results) {
    auto r = f.get();
    REQUIRE(r.ok());
    seqs.insert(*r);
  }
  CHECK(seqs.size() == kThreads * kPerThread);

  const CommitStats after = store->commit_stats();
  const std::uint64_t ops = after.ops - before.ops;
  const std::uint64_t batches = after.batches - before.batches;
  CHECK(ops == kThreads * kPerThread + 2);  // + the first op, + one sequence reservation
  CHECK(batches < ops);
  CHECK(batches <= 3);  // the first op alone, then everything queued behind it
  CHECK(after.max_batch_ops >= 100);
  std::uint64_t in_histogram = 0;
  for (auto n : after.batch_size_histogram) in_histogram += n;
  CHECK(in_histogram == after.batches);
  CHECK(after.commit_latency_us_total >= after.commit_latency_us_max);
  CHECK(after.failed_batches == 0);
}

TEST_CASE("migrations: a fresh file gets the current version, a newer one is refused",
          "[store][schema]") {
  TempDir dir;
  auto o = options_for(dir);
  open_store(o)->close();
  {
    RawDb raw(o.path);
    CHECK(raw.integer("PRAGMA user_version") == sqlite::kSchemaVersion);
    CHECK(raw.rows("PRAGMA journal_mode").at(0).at(0) == "wal");
  }
  open_store(o)->close();  // reopening at the current version is a no-op

  SqliteStoreOptions future = options_for(dir);
  future.path = dir.file("future.db");
  {
    RawDb raw(future.path);
    raw.exec("PRAGMA user_version = " + std::to_string(sqlite::kSchemaVersion + 1));
  }
  auto refused = SqliteStore::open(future);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == StoreError::kSchemaTooNew);
  CHECK(refused.error().detail.find("newer") != std::string::npos);
  RawDb raw(future.path);
  CHECK(raw.integer("PRAGMA user_version") == sqlite::kSchemaVersion + 1);  // untouched
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master") == 0);
}

TEST_CASE("pragmas are really set on the store's connections", "[store][schema]") {
  TempDir dir;
  auto o = options_for(dir);
  {
    auto store = open_store(o);
    CHECK(*store->writer_pragma("synchronous") == 2);  // FULL
    CHECK(*store->writer_pragma("secure_delete") == 1);
    CHECK(*store->writer_pragma("foreign_keys") == 1);
    CHECK(*store->reader_pragma("synchronous") == 2);
    CHECK(*store->reader_pragma("secure_delete") == 1);
    CHECK(*store->reader_pragma("query_only") == 1);
    CHECK(store->writer_pragma("synchronous; DROP TABLE accounts").error() ==
          StoreError::kInvalidArgument);
  }
  o.durability = Durability::kNormal;
  auto store = open_store(o);
  CHECK(*store->writer_pragma("synchronous") == 1);  // NORMAL, the operator's choice
  CHECK(*store->writer_pragma("secure_delete") == 1);
}

TEST_CASE("the database holds exactly the listed columns and nothing else", "[store][privacy]") {
  TempDir dir;
  auto o = options_for(dir);
  open_store(o)->close();
  RawDb raw(o.path);
  std::map<std::string, std::vector<std::string>> schema;
  for (const auto& t :
       raw.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    for (const auto& col : raw.rows("SELECT name FROM pragma_table_info('" + t[0] + "')")) {
      schema[t[0]].push_back(col[0]);
    }
  }
  const std::map<std::string, std::vector<std::string>> expected = {
      {"accounts",
       {"identity_key", "device_id", "transport_key", "transport_key_signature", "signed_prekey_id",
        "signed_prekey", "created_day", "last_seen_day"}},
      {"one_time_prekeys", {"position", "account", "prekey_id", "prekey"}},
      {"mailboxes", {"account", "next_seq", "queued_messages", "queued_bytes"}},
      {"messages", {"recipient", "seq", "arrival_bucket", "ciphertext"}},
  };
  CHECK(schema == expected);  // no sender, no address, no exact time
}

TEST_CASE("disclose returns the account's record and message metadata only", "[store][privacy]") {
  TempDir dir;
  auto store = open_store(options_for(dir));
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
  REQUIRE(store->register_account(keys_for(2), kToday).get().ok());
  REQUIRE(store->touch_account(id_of(1), kToday + 3).get().ok());
  REQUIRE(store->add_one_time_prekeys(id_of(1), prekeys(5, 3)).get().ok());
  REQUIRE(store->consume_one_time_prekey(id_of(1)).get().ok());
  REQUIRE(store->enqueue(id_of(1), message(100, 1), 1000).get().ok());
  REQUIRE(store->enqueue(id_of(1), message(200, 2), 1001).get().ok());
  REQUIRE(store->enqueue(id_of(2), message(300, 3), 1002).get().ok());  // bob's: not alice's
  REQUIRE(store->ack(id_of(1), {1}).get()->deleted == 1);

  auto d = store->disclose(id_of(1));
  REQUIRE(d.ok());
  CHECK(d->account.keys == keys_for(1));
  CHECK(d->account.created_day == kToday);
  CHECK(d->account.last_seen_day == kToday + 3);
  CHECK(d->one_time_prekey_ids == std::vector<std::uint32_t>{6, 7});
  CHECK(d->next_sequence == 3);  // handed out 1 and 2 (the file's counter runs ahead)
  CHECK(d->queued_bytes == 200);
  CHECK(d->queued == std::vector<QueuedMessageInfo>{{2, 200, 1001}});
  CHECK(store->disclose(id_of(9)).error() == StoreError::kNotFound);
}

TEST_CASE("deleted ciphertext and keys are overwritten in the file (secure_delete)",
          "[store][privacy]") {
  TempDir dir;
  auto o = options_for(dir);
  const Bytes marker = [] {
    Bytes m;
    for (int i = 0; i < 96; ++i) m.push_back(static_cast<std::uint8_t>(0x5A ^ (i * 7)));
    return m;
  }();
  const Bytes kept = message(96, 0x33);
  {
    auto store = open_store(o);
    REQUIRE(store->register_account(keys_for(1), kToday).get().ok());
    REQUIRE(store->register_account(keys_for(0xE7), kToday).get().ok());
    REQUIRE(store->enqueue(id_of(1), marker, 1).get().ok());
    REQUIRE(store->enqueue(id_of(1), kept, 1).get().ok());
    REQUIRE(store->enqueue(id_of(0xE7), kept, 1).get().ok());
  }
  // The marker really is in the file while it is queued.
  CHECK(contains(file_bytes(o.path), marker));
  {
    auto store = open_store(o);
    REQUIRE(store->ack(id_of(1), {1}).get()->deleted == 1);
    REQUIRE(store->delete_account(id_of(0xE7)).get().ok());
  }  // the last close checkpoints the WAL into the file and removes it
  const Bytes on_disk = file_bytes(o.path);
  CHECK_FALSE(fs::exists(o.path + "-wal"));
  CHECK(contains(on_disk, kept));
  CHECK_FALSE(contains(on_disk, marker));
  const AccountId gone = id_of(0xE7);
  CHECK_FALSE(contains(on_disk, Bytes(gone.begin(), gone.end())));
}

TEST_CASE("a full disk answers busy, loses nothing accepted, and recovers", "[store][full]") {
  TempDir dir;
  auto o = options_for(dir);
  o.max_page_count = 40;  // 40 pages of 4 KiB: stands in for a full disk
  auto store = open_store(o);
  REQUIRE(store->register_account(keys_for(1), kToday).get().ok());

  std::vector<Sequence> accepted;
  StoreError refusal = StoreError::kInternal;
  for (int i = 0; i < 1000; ++i) {
    auto r = store->enqueue(id_of(1), message(2000, static_cast<std::uint8_t>(i)), 1).get();
    if (!r.ok()) {
      refusal = r.error();
      break;
    }
    accepted.push_back(*r);
  }
  REQUIRE(!accepted.empty());
  CHECK(refusal == StoreError::kBusy);
  CHECK(store->commit_stats().failed_batches == 0);  // the op alone was rolled back

  // Everything accepted is still there, byte for byte.
  auto held = store->fetch(id_of(1), 0, 10'000);
  REQUIRE(held.ok());
  REQUIRE(held->size() == accepted.size());
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    CHECK((*held)[i].seq == accepted[i]);
    CHECK((*held)[i].ciphertext == message(2000, static_cast<std::uint8_t>(i)));
  }
  // Other writes still work while full (acks free space) ...
  std::vector<Sequence> first_half(accepted.begin(),
                                   accepted.begin() + static_cast<long>(accepted.size() / 2));
  auto acked = store->ack(id_of(1), first_half).get();
  REQUIRE(acked.ok());
  CHECK(acked->deleted == first_half.size());
  // ... and once space is freed, sends are accepted again.
  auto again = store->enqueue(id_of(1), message(2000, 0xEE), 1).get();
  REQUIRE(again.ok());
  CHECK(*again > accepted.back());
  store->close();
  store.reset();

  o.max_page_count = 0;
  auto reopened = open_store(o);
  auto after = reopened->fetch(id_of(1), 0, 10'000);
  REQUIRE(after.ok());
  CHECK(after->size() == accepted.size() - first_half.size() + 1);
  CHECK(after->back().ciphertext == message(2000, 0xEE));
}
