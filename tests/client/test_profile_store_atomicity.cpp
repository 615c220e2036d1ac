// test_profile_store_atomicity.cpp — receiving is one transaction: the ratchet
// state, the stored message and the dedup record are written together or not at
// all. A body that fails, throws or is dropped uncommitted leaves nothing; a child
// process killed (SIGKILL) before its commit leaves nothing; a child killed at a
// random moment while receiving in a loop leaves a store where the three tables
// agree exactly on how many messages were received.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "tests/client/store_test_helpers.hpp"

using namespace store_test;

namespace {

const IdentityPublicKey kPeer = peer_id(0x42);

Bytes envelope(std::uint64_t i) {
  Bytes e(64, 0xee);
  Bytes n;
  put_u64be(n, i);
  std::copy(n.begin(), n.end(), e.begin());
  return e;
}

// One received message: new ratchet state + stored message + dedup record.
StoreResult<void> receive(ProfileStore& s, std::uint64_t i) {
  SessionRecord rec;
  rec.ratchet_state = pass("state " + std::to_string(i));
  SOTTO_TRY_VOID(s.put_session(kPeer, rec));
  StoredMessage m;
  m.time = i;
  m.text = pass("message " + std::to_string(i));
  SOTTO_TRY(std::uint64_t seq, s.append_message(kPeer, m));
  (void)seq;
  return s.mark_envelope_seen(envelope(i), i);
}

// Checks that the store holds exactly messages 1..n, state n, and envelopes 1..n seen.
void require_consistent(ProfileStore& s, std::uint64_t n) {
  auto h = s.history(kPeer);
  REQUIRE(h.ok());
  REQUIRE(h->size() == n);
  for (std::uint64_t i = 1; i <= n; ++i)
    CHECK((*h)[i - 1].text.equals(pass("message " + std::to_string(i))));
  auto sess = s.session(kPeer);
  REQUIRE(sess.ok());
  if (n == 0) {
    CHECK_FALSE(sess->has_value());
  } else {
    REQUIRE(sess->has_value());
    CHECK((*sess)->ratchet_state.equals(pass("state " + std::to_string(n))));
  }
  CHECK(*s.row_count(Table::kSeenEnvelopes) == n);
  if (n > 0) CHECK(*s.envelope_seen(envelope(n)));
  CHECK_FALSE(*s.envelope_seen(envelope(n + 1)));
}

// Runs `child` in a forked process, which ends by being killed or by _exit.
template <class F>
pid_t spawn(F&& child) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    child();
    ::_exit(0);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("a committed transaction writes all three records", "[atomicity]") {
  TempDir t;
  {
    auto s = create_store(t);
    REQUIRE(s->transaction([&] { return receive(*s, 1); }).ok());
    CHECK_FALSE(s->in_transaction());
    require_consistent(*s, 1);
  }
  auto s = open_store(t);
  require_consistent(*s, 1);
}

TEST_CASE("a failing, throwing or dropped transaction writes nothing", "[atomicity]") {
  TempDir t;
  auto s = create_store(t);
  REQUIRE(s->transaction([&] { return receive(*s, 1); }).ok());

  SECTION("the body fails after writing") {
    auto r = s->transaction([&]() -> StoreResult<void> {
      SOTTO_TRY_VOID(receive(*s, 2));
      return store_fail(StoreError::kInternal, {}, "decryption failed after all");
    });
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().detail == "decryption failed after all");
  }
  SECTION("the body throws after writing") {
    CHECK_THROWS_AS(s->transaction([&]() -> StoreResult<void> {
      REQUIRE(receive(*s, 2).ok());
      throw std::runtime_error("edge failure");
    }),
                    std::runtime_error);
  }
  SECTION("the Transaction is dropped without commit") {
    auto tx = s->begin();
    REQUIRE(tx.ok());
    REQUIRE(receive(*s, 2).ok());
    CHECK(s->in_transaction());
    // Inside the transaction the writes are visible...
    CHECK(s->history(kPeer)->size() == 2);
  }
  SECTION("the Transaction is rolled back explicitly") {
    auto tx = s->begin();
    REQUIRE(tx.ok());
    REQUIRE(receive(*s, 2).ok());
    tx->rollback();
    CHECK(tx->commit().error().code == StoreError::kInvalidState);
  }
  CHECK_FALSE(s->in_transaction());
  require_consistent(*s, 1);
  // The store goes on working.
  REQUIRE(s->transaction([&] { return receive(*s, 2); }).ok());
  require_consistent(*s, 2);
}

TEST_CASE("transactions do not nest, change_passphrase is not allowed inside one", "[atomicity]") {
  TempDir t;
  auto s = create_store(t);
  auto tx = s->begin();
  REQUIRE(tx.ok());
  auto inner = s->begin();
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.error().code == StoreError::kInvalidState);
  CHECK(s->change_passphrase(pass("pw"), pass("new")).error().code == StoreError::kInvalidState);
  // Multi-statement writes join the open transaction instead of nesting.
  REQUIRE(s->add_contact({"alice", peer_id(1), false}).ok());
  REQUIRE(tx->commit().ok());
  CHECK(s->contact_by_name("alice")->has_value());
}

TEST_CASE("a process killed before its commit leaves nothing behind", "[atomicity][fork]") {
  TempDir t;
  {
    auto s = create_store(t);
    REQUIRE(s->transaction([&] { return receive(*s, 1); }).ok());
  }
  const pid_t pid = spawn([&] {
    auto s = ProfileStore::open(t.profile(), pass("pw"), fast());
    if (!s) ::_exit(3);
    auto tx = (*s)->begin();
    if (!tx) ::_exit(4);
    for (std::uint64_t i = 2; i < 50; ++i) {
      if (!receive(**s, i)) ::_exit(5);
    }
    ::raise(SIGKILL);  // before COMMIT
  });
  const int status = wait_for(pid);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  auto s = open_store(t);
  require_consistent(*s, 1);
}

TEST_CASE("a process killed at a random moment while receiving: all or nothing per message",
          "[atomicity][fork]") {
  TempDir t;
  create_store(t);
  SeededRng rng(77);
  std::uint64_t received = 0;
  for (int round = 0; round < 4; ++round) {
    const std::uint64_t start = received + 1;
    const pid_t pid = spawn([&] {
      auto s = ProfileStore::open(t.profile(), pass("pw"), fast());
      if (!s) ::_exit(3);
      for (std::uint64_t i = start;; ++i) {
        auto r = (*s)->transaction([&] { return receive(**s, i); });
        if (!r) ::_exit(4);
      }
    });
    // Let it commit a few, then kill it wherever it is (often inside a commit).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      std::int64_t n = 0;
      {
        RawDb raw(t.db());
        n = raw.integer("SELECT count(*) FROM messages");
      }
      if (static_cast<std::uint64_t>(n) >= start + 3) break;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng.uniform(20000)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    const int status = wait_for(pid);
    REQUIRE(WIFSIGNALED(status));

    auto s = open_store(t);
    const std::uint64_t n = s->history(kPeer)->size();
    INFO("round " << round << ": " << n << " messages");
    CHECK(n >= start + 2);
    require_consistent(*s, n);
    received = n;
  }
}
