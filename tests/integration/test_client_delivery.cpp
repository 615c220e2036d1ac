// test_client_delivery.cpp — a client killed with SIGKILL in the middle of
// `recv --follow` while messages are arriving: receiving is one transaction
// (ratchet state + stored message) and only then the acknowledgement, so
// afterwards nothing is lost (history has every message), nothing is shown
// twice (across all runs of recv, each message printed at most once; history
// has each exactly once), and the session still works both ways.
#include "integration/client_helpers.hpp"

#include <atomic>

using namespace sotto::test;

TEST_CASE("client: SIGKILL during recv --follow loses nothing and shows nothing twice",
          "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");

  // A session first, so the killed receives are ratchet messages in flight.
  send_ok(alice, "bob", "warm-up");
  REQUIRE(receive(bob, 1).size() == 1);

  constexpr int kMessages = 24;
  auto text = [](int i) { return "burst message " + std::to_string(i); };

  // Alice sends the burst from a thread while Bob's followers are killed.
  std::atomic<int> sent{0};
  std::atomic<bool> send_failed{false};
  std::thread sender([&] {
    for (int i = 1; i <= kMessages; ++i) {
      auto r = alice.run({"send", "bob", text(i)});
      if (r.status != 0) send_failed = true;
      sent = i;
    }
  });

  // Three followers in a row, each SIGKILLed as soon as it has shown a new
  // message (so while Alice is still sending and the relay pushing).
  std::string shown;  // everything the killed runs printed
  for (int round = 0; round < 3; ++round) {
    auto follow = bob.start({"recv", "--follow"}, true);
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    const std::size_t before = messages_in(shown).size();
    while (std::chrono::steady_clock::now() < deadline &&
           messages_in(shown + follow.out()).size() <= before && sent < kMessages)
      std::this_thread::sleep_for(10ms);
    CHECK(follow.kill(SIGKILL) == 128 + SIGKILL);
    shown += follow.out();
  }
  sender.join();
  REQUIRE_FALSE(send_failed);

  // Bob receives the rest with one-shot recv runs.
  std::vector<std::string> texts = texts_of(messages_in(shown));
  // Until every message was shown or is in history (one stored by a killed run
  // just before it printed is never shown again: it is not pending any more).
  auto all_in_history = [&] {
    auto h = history_texts(bob, "alice");
    for (int i = 1; i <= kMessages; ++i)
      if (count_of(h, text(i)) == 0) return false;
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : receive(bob, 1, 1s)) texts.push_back(m.text);
    if (texts.size() >= static_cast<std::size_t>(kMessages) || all_in_history()) break;
  }

  // Nothing shown twice.
  for (const auto& t : texts) {
    INFO(t);
    CHECK(count_of(texts, t) == 1);
  }
  // Nothing lost, nothing stored twice: history has each message exactly once
  // (a message stored by a killed run just before printing is in history even
  // though it was never shown).
  const auto history = history_texts(bob, "alice");
  CHECK(count_of(history, "warm-up") == 1);
  for (int i = 1; i <= kMessages; ++i) {
    INFO(text(i));
    CHECK(count_of(history, text(i)) == 1);
  }
  // And in the order sent (the relay's queue order).
  std::vector<std::string> burst;
  for (const auto& h : history)
    if (h.rfind("burst message ", 0) == 0) burst.push_back(h);
  std::vector<std::string> expected;
  for (int i = 1; i <= kMessages; ++i) expected.push_back(text(i));
  CHECK(burst == expected);

  // The session still works both ways.
  send_ok(bob, "alice", "bob after the crashes");
  auto at_alice = receive(alice, 1);
  REQUIRE(at_alice.size() == 1);
  CHECK(at_alice[0].text == "bob after the crashes");
  send_ok(alice, "bob", "alice after the crashes");
  auto at_bob = receive(bob, 1);
  REQUIRE(at_bob.size() == 1);
  CHECK(at_bob[0].text == "alice after the crashes");
  // The relay holds nothing more for Bob.
  auto empty = bob.run_json({"recv", "--timeout", "2"});
  REQUIRE(empty.status == 0);
  CHECK(messages_in(empty.out).empty());
}
