// test_messenger.cpp — the client's messenger (client/messenger.hpp): two and
// three profiles in one process talking through the REAL sotto-relay on
// loopback. First contact (X3DH from a fetched bundle), replies, an offline
// recipient, redelivered duplicates acknowledged silently, one-time prekeys
// replenished, the signed prekey rotated on a fake clock (and a first message
// for the replaced one still accepted in its grace period), a tampered
// envelope reported without a crash, the outbox, reconnecting in run_follow.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/device_keys.hpp"
#include "client/messenger.hpp"
#include "client/outbox.hpp"
#include "common/session.hpp"
#include "integration/relay_process.hpp"
#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::client;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::time(nullptr));
}

SecretBytes secret(const std::string& s) {
  return SecretBytes::copy_of(label_bytes(s));
}

std::string text(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sotto-messenger-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!std::getenv("SOTTO_KEEP_TEST_DIRS")) fs::remove_all(root_, ec);
  }
  fs::path operator/(const std::string& s) const { return root_ / s; }

 private:
  fs::path root_;
};

MessengerOptions fast_options() {
  MessengerOptions o;
  o.store.kdf = KdfParams::minimum();
  o.relay_timeout = 15s;
  o.initial_prekeys = 10;
  o.prekey_low_water = 5;
  o.prekey_target = 10;
  o.backoff_initial = 50ms;
  o.backoff_max = 400ms;
  return o;
}

// A profile: its own RNG and clock (the fake clock starts at the real time:
// the relay checks signed prekey windows against its own clock).
struct Profile {
  SystemRng rng;
  FakeClock clock{unix_now()};
  std::unique_ptr<Messenger> m;
  std::vector<std::string> notices;

  Profile(const fs::path& dir, const test::RelayProcess& relay,
          MessengerOptions o = fast_options()) {
    auto r = Messenger::init(dir, secret("pass " + dir.filename().string()), relay.address_text(),
                             rng, clock, o);
    if (!r) FAIL("init: " << r.error().message << "\n" << relay.log());
    m = std::move(*r);
    m->set_notice_handler([this](std::string_view n) { notices.emplace_back(n); });
  }
  std::string id() const { return m->account_id().to_text(); }
};

struct Received {
  std::string from;  // contact name or account id
  std::string text;
  bool undecryptable = false;
};

std::vector<Received> receive(Messenger& m, std::chrono::milliseconds wait = 0ms) {
  std::vector<Received> out;
  auto r = m.receive(
      [&](const ReceivedMessage& msg) {
        Received x;
        x.from = msg.contact ? *msg.contact
                             : (msg.sender ? AccountId(*msg.sender).to_text() : std::string("?"));
        x.undecryptable = msg.kind == ReceivedMessage::Kind::kUndecryptable;
        x.text = x.undecryptable ? msg.problem : text(msg.text);
        out.push_back(std::move(x));
      },
      ReceiveOptions{wait});
  if (!r) FAIL("receive: " << r.error().message);
  CHECK(*r == out.size());
  return out;
}

void must(const MessengerResult<void>& r) {
  if (!r) FAIL(r.error().message);
}

// An envelope alice's messenger would send to bob next, sealed from a copy of
// her session (her stored state is left as it is).
Bytes seal_copy(Profile& alice, const IdentityPublicKey& bob, const std::string& plaintext) {
  auto ik = load_identity(alice.m->store());
  REQUIRE(ik.ok());
  auto session = alice.m->store().session(bob);
  REQUIRE(session.ok());
  REQUIRE(session->has_value());
  auto state = ratchet::State::restore((*session)->ratchet_state);
  REQUIRE(state.ok());
  std::optional<X3dhHeader> header;
  if ((*session)->pending_header) header = *decode_x3dh_header(*(*session)->pending_header);
  auto env = seal_message(*ik, bob, *state, header, label_bytes(plaintext), alice.rng);
  REQUIRE(env.ok());
  return *env;
}

void befriend(Profile& a, const std::string& a_name, Profile& b, const std::string& b_name) {
  must(a.m->add_contact(b_name, b.id()));
  must(b.m->add_contact(a_name, a.id()));
}

}  // namespace

TEST_CASE("first contact, replies both ways, history", "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");

  must(alice.m->send("bob", secret("hello bob")));
  must(alice.m->send("bob", secret("second before any reply")));
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 2);
  CHECK(got[0].from == "alice");
  CHECK(got[0].text == "hello bob");
  CHECK(got[1].text == "second before any reply");

  must(bob.m->send("alice", secret("hi alice")));
  auto back = receive(*alice.m, 10s);
  REQUIRE(back.size() == 1);
  CHECK(back[0].from == "bob");
  CHECK(back[0].text == "hi alice");

  // After the reply alice sends plain ratchet messages (no pending header).
  auto session = alice.m->store().session(bob.m->account_id().key());
  REQUIRE(session.ok());
  REQUIRE(session->has_value());
  CHECK_FALSE((*session)->pending_header.has_value());
  for (int i = 0; i < 3; ++i) must(alice.m->send("bob", secret("more " + std::to_string(i))));
  auto more = receive(*bob.m, 10s);
  REQUIRE(more.size() == 3);
  CHECK(more[2].text == "more 2");
  // Nothing is left: a second receive returns nothing.
  CHECK(receive(*bob.m).empty());

  auto history = bob.m->history("alice");
  REQUIRE(history.ok());
  REQUIRE(history->size() == 6);
  CHECK((*history)[0].direction == Direction::kIncoming);
  CHECK(text((*history)[0].text) == "hello bob");
  CHECK((*history)[2].direction == Direction::kOutgoing);
  CHECK(text((*history)[2].text) == "hi alice");
  auto last2 = bob.m->history("alice", 2);
  REQUIRE(last2.ok());
  REQUIRE(last2->size() == 2);
  CHECK(text((*last2)[1].text) == "more 2");
}

TEST_CASE("offline recipient, non-contact sender, three profiles", "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay), carol(dir / "carol", *relay);
  bob.m->disconnect();
  must(alice.m->add_contact("bob", bob.id()));
  must(carol.m->add_contact("bob", bob.id()));
  must(alice.m->send("bob", secret("from alice while bob is away")));
  must(carol.m->send("bob", secret("from carol while bob is away")));
  // The longest text fits a first message; one byte more is refused before
  // anything is encrypted or stored.
  const std::string longest(max_text_bytes(), 'x');
  must(alice.m->send("bob", secret(longest)));
  auto too_long = alice.m->send("bob", secret(longest + "x"));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().kind == MessengerErrorKind::kInvalidArgument);
  // bob knows neither: both are shown with their ids.
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 3);
  CHECK(got[0].from == alice.id());
  CHECK(got[0].text == "from alice while bob is away");
  CHECK(got[1].from == carol.id());
  CHECK(got[2].text == longest);
  // ... and can answer once they are contacts; the history was kept.
  must(bob.m->add_contact("carol", carol.id()));
  auto h = bob.m->history("carol");
  REQUIRE(h.ok());
  CHECK(h->size() == 1);
  must(bob.m->send("carol", secret("hello carol")));
  auto c = receive(*carol.m, 10s);
  REQUIRE(c.size() == 1);
  CHECK(c[0].from == "bob");
}

TEST_CASE("a redelivered envelope is acknowledged silently, a tampered one reported",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");
  must(alice.m->send("bob", secret("start")));
  REQUIRE(receive(*bob.m, 10s).size() == 1);

  // The same envelope twice (what a relay redelivering, or a sender resending
  // after a lost ACCEPTED, looks like), then a tampered copy: the relay does not
  // know who sends (sealed sender), so any registered device can post them.
  const Bytes env = seal_copy(alice, bob.m->account_id().key(), "exactly once");
  Bytes tampered = env;
  tampered[tampered.size() / 2] ^= 0x01;
  test::Device poster;
  auto c = poster.connect_registered(*relay);
  test::must(c.send(bob.m->account_id().key(), env));
  test::must(c.send(bob.m->account_id().key(), env));
  test::must(c.send(bob.m->account_id().key(), tampered));
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 2);
  CHECK(got[0].text == "exactly once");
  CHECK_FALSE(got[0].undecryptable);
  CHECK(got[1].undecryptable);  // reported, sender unknown (the envelope did not open)
  CHECK_THAT(got[1].text, Catch::Contains("cannot be opened"));
  // Everything was acknowledged: nothing comes back on a new connection.
  bob.m->disconnect();
  CHECK(receive(*bob.m).empty());
  // And the session still works both ways.
  must(bob.m->send("alice", secret("still fine")));
  auto back = receive(*alice.m, 10s);
  REQUIRE(back.size() == 1);
  CHECK(back[0].text == "still fine");
}

TEST_CASE("one-time prekeys are topped up when the relay runs low", "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile bob(dir / "bob", *relay);
  const auto before = bob.m->store().one_time_prekey_count();
  REQUIRE(before.ok());
  CHECK(*before == 10);
  // Strangers drain bob's one-time prekeys (an anonymous fetch takes one each).
  SystemRng rng;
  auto anon = RelayClient::connect_anonymous(relay->address(), rng, 15s);
  REQUIRE(anon.ok());
  for (int i = 0; i < 7; ++i) REQUIRE(anon->fetch_bundle(bob.m->account_id().key()).ok());
  must(bob.m->maintain_prekeys());  // 3 left < 5: top up to 10
  const auto after = bob.m->store().one_time_prekey_count();
  REQUIRE(after.ok());
  CHECK(*after == 17);  // 7 new; the 7 handed out stay until a first message uses them
  int with_opk = 0;
  for (int i = 0; i < 12; ++i) {
    auto b = anon->fetch_bundle(bob.m->account_id().key());
    REQUIRE(b.ok());
    with_opk += b->bundle.one_time_prekey.has_value() ? 1 : 0;
  }
  CHECK(with_opk == 10);
}

TEST_CASE("signed prekey rotation keeps the replaced key for its grace period",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");
  bob.m->disconnect();
  // alice's first message uses bob's signed prekey #1 ...
  must(alice.m->send("bob", secret("sent before the rotation")));
  // ... bob rotates a week later (the upkeep of his next connection) ...
  bob.clock.advance(8 * kSecondsPerDay);
  must(bob.m->maintain_prekeys());
  auto ids = bob.m->store().signed_prekey_ids();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::uint32_t>{1, 2});
  auto current = load_current_signed_prekey(bob.m->store());
  REQUIRE(current.ok());
  CHECK(current->pair.public_key.id == 2);
  // ... and still reads the message made for #1.
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "sent before the rotation");
  // New first contacts get #2.
  Profile carol(dir / "carol", *relay);
  must(carol.m->add_contact("bob", bob.id()));
  must(carol.m->send("bob", secret("hello from carol")));
  auto from_carol = receive(*bob.m, 10s);
  REQUIRE(from_carol.size() == 1);
  CHECK(from_carol[0].text == "hello from carol");

  // Past the grace period the replaced key is forgotten (and #2 replaced too).
  bob.clock.advance(31 * kSecondsPerDay);
  must(bob.m->maintain_prekeys());
  ids = bob.m->store().signed_prekey_ids();
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::uint32_t>{2, 3});
}

TEST_CASE("a first message for a forgotten signed prekey is reported, not fatal",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");
  bob.m->disconnect();
  must(alice.m->send("bob", secret("too late")));
  // bob forgets signed prekey #1 (as if it had been replaced long ago).
  StoredSignedPreKey fresh{
      generate_signed_prekey(*load_identity(bob.m->store()), 9, bob.clock.now_unix(), bob.rng), 0};
  REQUIRE(store_signed_prekey(bob.m->store(), fresh).ok());
  REQUIRE(set_current_signed_prekey(bob.m->store(), 9).ok());
  auto removed = bob.m->store().remove_signed_prekey(1);
  REQUIRE(removed.ok());
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].undecryptable);
  CHECK(got[0].from == "alice");
  CHECK_THAT(got[0].text, Catch::Contains("signed prekey 1"));
  auto h = bob.m->history("alice");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 1);
  CHECK((*h)[0].undecryptable);
}

TEST_CASE("a send the relay refuses names the reason and the outbox is flushed later",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create({{"quotas", "mailbox_messages", "1"}});
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");
  bob.m->disconnect();
  must(alice.m->send("bob", secret("fits")));
  auto refused = alice.m->send("bob", secret("does not fit"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == MessengerErrorKind::kRejected);
  CHECK_THAT(refused.error().message, Catch::Contains("QUOTA_EXCEEDED"));
  CHECK(alice.m->outbox_size() == 0);
  CHECK(receive(*bob.m, 10s).size() == 1);

  // An envelope committed but never confirmed (a crash before the answer) is
  // sent by the next command that connects.
  const Bytes env = seal_copy(alice, bob.m->account_id().key(), "from the outbox");
  REQUIRE(save_outbox(alice.m->store(), {OutboxEntry{bob.m->account_id().key(), env}}).ok());
  alice.m->disconnect();
  must(alice.m->connect());
  CHECK(alice.m->outbox_size() == 0);
  auto got = receive(*bob.m, 10s);
  REQUIRE(got.size() == 1);
  CHECK(got[0].text == "from the outbox");
}

TEST_CASE("run_follow receives as messages arrive, sends meanwhile, survives a relay restart",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");

  std::mutex mu;
  std::vector<std::string> got;
  auto count = [&] {
    std::lock_guard lock(mu);
    return got.size();
  };
  auto wait_for = [&](std::size_t n) {
    for (int i = 0; i < 300 && count() < n; ++i) std::this_thread::sleep_for(100ms);
    return count() >= n;
  };
  std::jthread follower([&](std::stop_token stop) {
    auto r = bob.m->run_follow(
        [&](const ReceivedMessage& m) {
          std::lock_guard lock(mu);
          got.push_back(text(m.text));
        },
        stop);
    CHECK(r.ok());
  });
  must(alice.m->send("bob", secret("one")));
  REQUIRE(wait_for(1));
  // bob sends from this thread while his follower thread receives.
  must(bob.m->send("alice", secret("reply while following")));
  auto back = receive(*alice.m, 10s);
  REQUIRE(back.size() == 1);

  REQUIRE(relay->stop().ok());
  REQUIRE(relay->start().ok());
  alice.m->disconnect();
  must(alice.m->send("bob", secret("after the restart")));
  REQUIRE(wait_for(2));
  follower.request_stop();
  follower.join();
  {
    std::lock_guard lock(mu);
    CHECK(got == std::vector<std::string>{"one", "after the restart"});
  }
  bool reconnected = false;
  for (const auto& n : bob.notices) reconnected |= n.find("reconnected") != std::string::npos;
  CHECK(reconnected);
}

TEST_CASE("simultaneous first messages settle on one session", "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile alice(dir / "alice", *relay), bob(dir / "bob", *relay);
  befriend(alice, "alice", bob, "bob");
  must(alice.m->send("bob", secret("alice first")));
  must(bob.m->send("alice", secret("bob first")));
  auto at_alice = receive(*alice.m, 10s);
  auto at_bob = receive(*bob.m, 10s);
  REQUIRE(at_alice.size() == 1);
  REQUIRE(at_bob.size() == 1);
  CHECK(at_alice[0].text == "bob first");
  CHECK(at_bob[0].text == "alice first");
  // From here on both directions work, several rounds.
  for (int round = 0; round < 3; ++round) {
    must(alice.m->send("bob", secret("a" + std::to_string(round))));
    must(bob.m->send("alice", secret("b" + std::to_string(round))));
    auto a = receive(*alice.m, 10s);
    auto b = receive(*bob.m, 10s);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK_FALSE(a[0].undecryptable);
    CHECK_FALSE(b[0].undecryptable);
    CHECK(a[0].text == "b" + std::to_string(round));
    CHECK(b[0].text == "a" + std::to_string(round));
  }
}

TEST_CASE("crossing first messages: the losing side's second message still decrypts",
          "[integration][messenger]") {
  auto relay = test::RelayProcess::create();
  REQUIRE(relay.ok());
  TempDir dir;
  Profile p1(dir / "p1", *relay), p2(dir / "p2", *relay);
  befriend(p1, "p1", p2, "p2");
  // The winner's session (smaller identity key) is the one both keep.
  const bool p1_wins = p1.m->account_id().key().bytes < p2.m->account_id().key().bytes;
  Profile& win = p1_wins ? p1 : p2;
  Profile& lose = p1_wins ? p2 : p1;
  const std::string win_name = p1_wins ? "p1" : "p2";
  const std::string lose_name = p1_wins ? "p2" : "p1";
  const auto win_key = win.m->account_id().key();
  const auto lose_key = lose.m->account_id().key();

  // Both write first; each side writes twice before receiving anything, so
  // the loser's second message repeats the header naming the winner's
  // one-time prekey that its first message used up.
  must(win.m->send(lose_name, secret("win 1")));
  must(lose.m->send(win_name, secret("lose 1")));
  must(lose.m->send(win_name, secret("lose 2")));
  must(win.m->send(lose_name, secret("win 2")));

  auto at_win = receive(*win.m, 10s);
  REQUIRE(at_win.size() == 2);
  CHECK_FALSE(at_win[0].undecryptable);
  CHECK_FALSE(at_win[1].undecryptable);
  CHECK(at_win[0].text == "lose 1");
  CHECK(at_win[1].text == "lose 2");
  // The winner keeps its own session (header still pending) and the loser's
  // as the previous one.
  {
    auto current = win.m->store().session(lose_key);
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK((*current)->pending_header.has_value());
    auto previous = win.m->store().previous_session(lose_key);
    REQUIRE(previous.ok());
    CHECK(previous->has_value());
  }

  auto at_lose = receive(*lose.m, 10s);
  REQUIRE(at_lose.size() == 2);
  CHECK_FALSE(at_lose[0].undecryptable);
  CHECK_FALSE(at_lose[1].undecryptable);
  CHECK(at_lose[0].text == "win 1");
  CHECK(at_lose[1].text == "win 2");
  // The loser adopted the winner's session; it never keeps a previous one.
  {
    auto previous = lose.m->store().previous_session(win_key);
    REQUIRE(previous.ok());
    CHECK_FALSE(previous->has_value());
  }

  // The loser now writes on the winner's session: the winner retires the
  // previous session, and both directions keep working.
  for (int round = 0; round < 2; ++round) {
    must(lose.m->send(win_name, secret("l" + std::to_string(round))));
    must(win.m->send(lose_name, secret("w" + std::to_string(round))));
    auto a = receive(*win.m, 10s);
    auto b = receive(*lose.m, 10s);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK_FALSE(a[0].undecryptable);
    CHECK_FALSE(b[0].undecryptable);
    CHECK(a[0].text == "l" + std::to_string(round));
    CHECK(b[0].text == "w" + std::to_string(round));
    auto previous = win.m->store().previous_session(lose_key);
    REQUIRE(previous.ok());
    CHECK_FALSE(previous->has_value());
    auto current = win.m->store().session(lose_key);
    REQUIRE(current.ok());
    REQUIRE(current->has_value());
    CHECK_FALSE((*current)->pending_header.has_value());
  }
  auto history = win.m->history(lose_name);
  REQUIRE(history.ok());
  std::size_t bad = 0;
  for (const auto& h : *history) bad += h.undecryptable ? 1 : 0;
  CHECK(bad == 0);
}
