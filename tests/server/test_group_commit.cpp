// test_group_commit.cpp — GroupCommitWriter and the SQLite wrapper on their own: an
// op that fails is rolled back alone, a transaction SQLite rolls back under a batch is
// re-run without the failing op, nothing is answered ok unless it committed, a locked
// database answers busy and the writer recovers, and the statement cache survives the
// same SQL being used twice at once.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "server/group_commit.hpp"
#include "server/sqlite_db.hpp"
#include "server/sqlite_store.hpp"

using namespace sotto;
using namespace sotto::relay;
using namespace sotto::relay::sqlite;
namespace fs = std::filesystem;

namespace {

using sotto::test::TempDir;

Connection open_with_table(const std::string& path) {
  auto c = Connection::open(path, true);
  REQUIRE(c.ok());
  Connection conn = std::move(c).value();
  REQUIRE(conn.exec("PRAGMA journal_mode = WAL").ok());
  REQUIRE(conn.exec("CREATE TABLE t (x INTEGER NOT NULL)").ok());
  return conn;
}

GroupCommitWriter::Body insert(std::int64_t x) {
  return [x](Connection& c) -> StoreResult<void> {
    SOTTO_TRY(Statement s, c.prepare("INSERT INTO t (x) VALUES (?1)"));
    SOTTO_TRY_VOID(s.bind(1, x));
    return s.run();
  };
}

std::vector<std::int64_t> values_in(const std::string& path) {
  auto c = Connection::open(path, false);
  REQUIRE(c.ok());
  auto s = c->prepare("SELECT x FROM t ORDER BY x");
  REQUIRE(s.ok());
  std::vector<std::int64_t> out;
  for (;;) {
    auto row = s->step();
    REQUIRE(row.ok());
    if (!*row) break;
    out.push_back(s->column_int(0));
  }
  return out;
}

// Submits `bodies` so that they all land in one batch: the writer is held inside the
// completion of a first op until every body is queued.
std::vector<StoreResult<void>> run_as_one_batch(GroupCommitWriter& w,
                                                std::vector<GroupCommitWriter::Body> bodies) {
  std::promise<void> held, release;
  auto release_f = release.get_future().share();
  w.submit(insert(0), [&](StoreResult<void> r) {
    CHECK(r.ok());
    held.set_value();
    release_f.wait();
  });
  held.get_future().wait();
  std::vector<std::future<StoreResult<void>>> futures;
  for (auto& b : bodies) {
    auto [done, f] = completion_future<void>();
    w.submit(std::move(b), std::move(done));
    futures.push_back(std::move(f));
  }
  release.set_value();
  std::vector<StoreResult<void>> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

}  // namespace

TEST_CASE("an op that fails is rolled back alone and the rest of its batch commits", "[commit]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  auto partial_then_fail = [](Connection& c) -> StoreResult<void> {
    SOTTO_TRY_VOID(insert(99)(c));  // a change that must not survive
    return fail(StoreError::kQuotaExceeded);
  };
  auto r = run_as_one_batch(w, {insert(1), partial_then_fail, insert(2)});
  CHECK(r[0].ok());
  REQUIRE_FALSE(r[1].ok());
  CHECK(r[1].error() == StoreError::kQuotaExceeded);
  CHECK(r[2].ok());
  w.shutdown();
  CHECK(values_in(path) == std::vector<std::int64_t>{0, 1, 2});
  CHECK(w.stats().failed_batches == 0);
  CHECK(w.stats().batches == 2);
}

TEST_CASE("a transaction rolled back under a batch is re-run without the failing op", "[commit]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  // What SQLite may do after SQLITE_FULL or an I/O error: roll back the whole
  // transaction, then report the error.
  auto kills_transaction = [](Connection& c) -> StoreResult<void> {
    SOTTO_TRY_VOID(insert(98)(c));
    SOTTO_TRY_VOID(c.exec("ROLLBACK"));
    return fail(StoreError::kBusy);
  };
  auto r = run_as_one_batch(w, {insert(1), kills_transaction, insert(2)});
  CHECK(r[0].ok());
  REQUIRE_FALSE(r[1].ok());
  CHECK(r[1].error() == StoreError::kBusy);
  CHECK(r[2].ok());
  w.shutdown();
  CHECK(values_in(path) == std::vector<std::int64_t>{0, 1, 2});  // 1 re-run, 98 gone
}

TEST_CASE("nothing is answered ok when the batch cannot commit", "[commit]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  // Every op kills the transaction: after kMaxAttempts nothing is left to re-run.
  auto killer = [](Connection& c) -> StoreResult<void> {
    SOTTO_TRY_VOID(c.exec("ROLLBACK"));
    return fail(StoreError::kBusy);
  };
  auto r = run_as_one_batch(w, {insert(1), killer, killer, killer, insert(2)});
  for (const auto& x : r) {
    REQUIRE_FALSE(x.ok());
    CHECK(x.error() == StoreError::kBusy);
  }
  w.shutdown();
  CHECK(w.stats().failed_batches == 1);
  CHECK(values_in(path) == std::vector<std::int64_t>{0});
}

TEST_CASE("a locked database answers busy, and the store works once it is released",
          "[commit][store]") {
  TempDir dir;
  SqliteStoreOptions o;
  o.path = dir.file("relay.db");
  o.busy_timeout = std::chrono::milliseconds(50);
  auto opened = SqliteStore::open(o);
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();
  AccountKeys k;
  k.identity_key.fill(1);
  k.signed_prekey.encoded = Bytes(33, 1);
  REQUIRE(store->register_account(k, 1).get().ok());
  REQUIRE(store->enqueue(k.identity_key, Bytes(10, 1), 1).get().ok());

  // Another process (say, a careless maintenance script) takes the write lock.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(o.path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto blocked = store->enqueue(k.identity_key, Bytes(10, 2), 1).get();
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.error() == StoreError::kBusy);
  CHECK(store->fetch(k.identity_key, 0, 10)->size() == 1);  // readers are not blocked
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_close(other) == SQLITE_OK);

  auto after = store->enqueue(k.identity_key, Bytes(10, 3), 1).get();
  REQUIRE(after.ok());
  // 2 went to the refused envelope (it may have been pushed early): a gap, never reused.
  CHECK(*after == 3);
  CHECK(store->commit_stats().failed_batches >= 1);
}

TEST_CASE("the statement cache hands out a separate statement for nested use of one SQL",
          "[sqlite]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  Connection c = open_with_table(path);
  for (std::int64_t x = 1; x <= 3; ++x) REQUIRE(insert(x)(c).ok());
  const char* sql = "SELECT x FROM t WHERE x >= ?1 ORDER BY x";
  auto outer = c.prepare(sql);
  REQUIRE(outer.ok());
  REQUIRE(outer->bind(1, std::int64_t{1}).ok());
  REQUIRE(*outer->step());
  CHECK(outer->column_int(0) == 1);
  {
    auto inner = c.prepare(sql);  // same SQL while the outer one is mid-iteration
    REQUIRE(inner.ok());
    REQUIRE(inner->bind(1, std::int64_t{3}).ok());
    REQUIRE(*inner->step());
    CHECK(inner->column_int(0) == 3);
  }
  REQUIRE(*outer->step());
  CHECK(outer->column_int(0) == 2);  // the outer iteration was not reset under it
  CHECK(map_sqlite_rc(SQLITE_FULL) == StoreError::kBusy);
  CHECK(map_sqlite_rc(SQLITE_IOERR_FSYNC) == StoreError::kBusy);
  CHECK(map_sqlite_rc(SQLITE_CORRUPT) == StoreError::kCorrupt);
  CHECK(map_sqlite_rc(SQLITE_NOTADB) == StoreError::kCorrupt);
}

TEST_CASE("a file that is not a database is refused as corrupt", "[sqlite][store]") {
  TempDir dir;
  SqliteStoreOptions o;
  o.path = dir.file("junk.db");
  {
    std::FILE* f = std::fopen(o.path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const std::string junk(8192, 'j');
    REQUIRE(std::fwrite(junk.data(), 1, junk.size(), f) == junk.size());
    REQUIRE(std::fclose(f) == 0);
  }
  auto r = SqliteStore::open(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == StoreError::kCorrupt);
}

TEST_CASE("a delayed op runs only when due, and nothing queued waits for it", "[commit][hold]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto [late_done, late] = completion_future<void>();
  w.submit_after(start + std::chrono::milliseconds(300), insert(7), std::move(late_done));
  // Submitted after it, committed before it: the queue does not wait for a delayed op.
  auto [now_done, now] = completion_future<void>();
  w.submit(insert(1), std::move(now_done));
  REQUIRE(now.get().ok());
  CHECK(values_in(path) == std::vector<std::int64_t>{1});
  CHECK(late.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  REQUIRE(late.get().ok());
  CHECK(clock::now() - start >= std::chrono::milliseconds(300));  // not before its time
  CHECK(values_in(path) == std::vector<std::int64_t>{1, 7});
  w.shutdown();
}

TEST_CASE("delayed ops are released at once on request and committed at shutdown",
          "[commit][hold]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  auto [a_done, a] = completion_future<void>();
  auto [b_done, b] = completion_future<void>();
  w.submit_after(far, insert(2), std::move(a_done));
  w.submit_after(far - std::chrono::minutes(1), insert(1), std::move(b_done));  // earlier: first
  SECTION("release_delayed: they join the queue now, in due order") {
    w.release_delayed();
    REQUIRE(a.get().ok());
    REQUIRE(b.get().ok());
    CHECK(values_in(path) == std::vector<std::int64_t>{1, 2});
    w.shutdown();
  }
  SECTION("shutdown commits them and answers them") {
    w.shutdown();
    REQUIRE(a.get().ok());
    REQUIRE(b.get().ok());
    CHECK(values_in(path) == std::vector<std::int64_t>{1, 2});
    // Refused once shut down.
    auto [c_done, c] = completion_future<void>();
    w.submit_after(far, insert(3), std::move(c_done));
    CHECK(c.get().error() == StoreError::kClosed);
  }
}

TEST_CASE("a delayed op with nothing left to do when due is answered without any batch",
          "[commit][hold]") {
  TempDir dir;
  const std::string path = dir.file("t.db");
  GroupCommitWriter w(open_with_table(path), {});
  const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  std::atomic<bool> wanted_a{false}, wanted_b{true};
  auto [a_done, a] = completion_future<void>();
  auto [b_done, b] = completion_future<void>();
  w.submit_after(due, insert(1), std::move(a_done), [&] { return wanted_a.load(); });
  w.submit_after(due, insert(2), std::move(b_done), [&] { return wanted_b.load(); });
  REQUIRE(a.get().ok());  // answered ok: its body never ran
  REQUIRE(b.get().ok());
  CHECK(values_in(path) == std::vector<std::int64_t>{2});
  CHECK(w.stats().ops == 1);  // only the needed op entered a batch
  // Alone and unneeded: no batch at all (no BEGIN, no COMMIT).
  const auto batches = w.stats().batches;
  auto [c_done, c] = completion_future<void>();
  w.submit_after(std::chrono::steady_clock::now(), insert(3), std::move(c_done),
                 [] { return false; });
  REQUIRE(c.get().ok());
  CHECK(w.stats().batches == batches);
  CHECK(values_in(path) == std::vector<std::int64_t>{2});
  // Released on request or at shutdown, it is still only answered.
  auto [d_done, d] = completion_future<void>();
  w.submit_after(std::chrono::steady_clock::now() + std::chrono::hours(1), insert(4),
                 std::move(d_done), [] { return false; });
  w.shutdown();
  REQUIRE(d.get().ok());
  CHECK(values_in(path) == std::vector<std::int64_t>{2});
}
