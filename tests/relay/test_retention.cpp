// test_retention.cpp — the retention purge loops until the store has nothing
// more to purge and counts what it deleted; retention_seconds overrides
// retention_days; last-seen is written at most once per account per day; the
// data-directory lock keeps a second relay out.
#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <future>

#include "server/config.hpp"
#include "server/data_lock.hpp"
#include "server/retention.hpp"
#include "server/sqlite_store.hpp"
#include "server/store_open.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;

namespace {

using sotto::test::TempDir;

AccountKeys keys_for(std::uint8_t who) {
  AccountKeys k;
  k.identity_key.fill(who);
  k.transport_key.fill(0x40);
  k.transport_signature.fill(0x80);
  k.signed_prekey = {1, Bytes(116, 3)};
  return k;
}

}  // namespace

TEST_CASE("the purge loops while the store has more, then reports the total", "[retention]") {
  TempDir dir;
  SqliteStoreOptions o;
  o.path = (dir.path() / "relay.db").string();
  o.limits.retention_seconds = 60;
  o.limits.purge_batch_messages = 2;
  auto store = std::move(SqliteStore::open(o)).value();
  const AccountId alice = keys_for(1).identity_key;
  REQUIRE(store->register_account(keys_for(1), 0).get().ok());
  const ArrivalBucket old_hour = 10, new_hour = 12;
  for (int i = 0; i < 5; ++i) REQUIRE(store->enqueue(alice, Bytes(10 + i, 1), old_hour).get().ok());
  REQUIRE(store->enqueue(alice, Bytes(99, 2), new_hour).get().ok());

  // Bucket 10 expires once (10 + 1) * 3600 + 60 <= now.
  const std::uint64_t now = 11 * 3600 + 60;
  std::promise<StoreResult<PurgeOutcome>> p;
  int posts = 0;
  purge_until_done(
      *store, now,
      [&posts](std::function<void()> f) {
        ++posts;
        f();
      },
      [&p](StoreResult<PurgeOutcome> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  REQUIRE(r.ok());
  CHECK(r->messages == 5);
  CHECK(r->bytes == 10 + 11 + 12 + 13 + 14);
  CHECK_FALSE(r->more);
  CHECK(posts == 3);  // 2 + 2 + 1: three passes
  auto left = store->fetch(alice, 0, 10);
  REQUIRE(left->size() == 1);
  CHECK(left->front().arrival_bucket == new_hour);

  // Nothing left to purge: one pass, zero messages.
  std::promise<StoreResult<PurgeOutcome>> again;
  purge_until_done(
      *store, now, [](std::function<void()> f) { f(); },
      [&again](StoreResult<PurgeOutcome> r2) { again.set_value(std::move(r2)); });
  CHECK(again.get_future().get()->messages == 0);
}

TEST_CASE("retention_seconds overrides retention_days", "[retention][config]") {
  auto days = parse_config("[store]\nretention_days = 2\n");
  REQUIRE(days.ok());
  CHECK(days->store.retention() == 2 * 86'400);
  CHECK(store_limits_from(*days).retention_seconds == 2 * 86'400);
  auto seconds = parse_config("[store]\nretention_days = 2\nretention_seconds = 5\n");
  REQUIRE(seconds.ok());
  CHECK(seconds->store.retention() == 5);
  CHECK(store_limits_from(*seconds).retention_seconds == 5);
  CHECK(parse_config("[store]\npurge_interval_seconds = 1\n")->store.purge_interval_seconds == 1);
  CHECK_FALSE(parse_config("[store]\npurge_interval_seconds = 0\n").ok());
  CHECK(RelayConfig{}.store.retention() == 30 * 86'400);
}

TEST_CASE("last seen is written at most once per account per day", "[retention][last-seen]") {
  LastSeen ls;
  AccountId a{}, b{};
  b[0] = 1;
  CHECK(ls.should_touch(a, 99, 100));
  CHECK_FALSE(ls.should_touch(a, 99, 100));   // already written today
  CHECK_FALSE(ls.should_touch(b, 100, 100));  // the store already says today
  CHECK(ls.should_touch(b, 98, 100));
  CHECK(ls.remembered() == 2);
  CHECK(ls.should_touch(a, 100, 101));  // a new day
  CHECK(ls.remembered() == 1);          // yesterday's accounts forgotten
}

TEST_CASE("a data directory can be locked by one relay only", "[lock]") {
  TempDir dir;
  {
    auto first = DataDirLock::acquire(dir.path());
    REQUIRE(first.ok());
    auto second = DataDirLock::acquire(dir.path());
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().find("in use by another sotto-relay") != std::string::npos);
    CHECK(fs::exists(dir.path() / "lock"));
  }
  // Released with its holder.
  CHECK(DataDirLock::acquire(dir.path()).ok());
  CHECK_FALSE(DataDirLock::acquire(dir.path() / "missing").ok());
}
