// test_client_conversation.cpp — two and three real `sotto` clients through a
// real relay on loopback: messages both ways, a recipient offline then online
// (including `recv --follow` started later), first contact while the
// recipient is offline (and not yet a contact), both sides writing first at
// the same time, and a relay restart in the middle of a conversation
// (one-shot commands and a running `recv --follow`).
#include "integration/client_helpers.hpp"

using namespace sotto::test;

TEST_CASE("client: two clients exchange messages both ways", "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");

  send_ok(alice, "bob", "hello bob, from alice");
  auto at_bob = receive(bob, 1);
  REQUIRE(at_bob.size() == 1);
  CHECK(at_bob[0].sender == "alice");
  CHECK(at_bob[0].text == "hello bob, from alice");

  send_ok(bob, "alice", "hi alice, bob here");
  send_ok(bob, "alice", "second line from bob");
  auto at_alice = receive(alice, 2);
  REQUIRE(at_alice.size() == 2);
  CHECK(at_alice[0].sender == "bob");
  CHECK(at_alice[0].text == "hi alice, bob here");
  CHECK(at_alice[1].text == "second line from bob");

  // Nothing more is pending: a second recv prints nothing.
  auto again = alice.run_json({"recv", "--timeout", "2"});
  REQUIRE(again.status == 0);
  CHECK(messages_in(again.out).empty());

  // Both histories hold the whole conversation once, in order.
  auto ha = history_texts(alice, "bob");
  CHECK(ha == std::vector<std::string>{"hello bob, from alice", "hi alice, bob here",
                                       "second line from bob"});
  CHECK(history_texts(bob, "alice") == ha);

  // Plain (non-JSON) recv output is "NAME: text".
  send_ok(alice, "bob", "plain output line");
  auto plain = bob.run({"recv", "--timeout", "3"});
  INFO(plain.describe());
  REQUIRE(plain.status == 0);
  CHECK(plain.out.find("alice: plain output line") != std::string::npos);
}

TEST_CASE("client: a recipient offline then online gets everything in order",
          "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");

  // Bob online (recv --follow): a message appears while he is connected.
  auto follow = bob.start({"recv", "--follow"}, true);
  send_ok(alice, "bob", "while bob is online");
  INFO("bob's follow: " << follow.out() << "\nstderr: " << follow.err());
  REQUIRE(follow.wait_for_output("while bob is online", 60s));
  CHECK(follow.kill(SIGTERM) != -1);

  // Bob offline: three messages queue at the relay.
  for (int i = 1; i <= 3; ++i) send_ok(alice, "bob", "queued while offline " + std::to_string(i));
  // Bob back online with --follow: they arrive in order, then a live one.
  auto back = bob.start({"recv", "--follow"}, true);
  REQUIRE(back.wait_for_output("queued while offline 3", 60s));
  send_ok(alice, "bob", "live again");
  REQUIRE(back.wait_for_output("live again", 60s));
  (void)back.kill(SIGTERM);

  auto got = messages_in(follow.out() + back.out());
  CHECK(texts_of(got) == std::vector<std::string>{"while bob is online", "queued while offline 1",
                                                  "queued while offline 2",
                                                  "queued while offline 3", "live again"});
  for (const auto& m : got) CHECK(m.sender == "alice");
}

TEST_CASE("client: first contact while the recipient is offline", "[client][integration]") {
  // Nobody knows anybody yet.
  auto net = make_network({"alice", "bob"}, /*contacts=*/false);
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");

  // Alice adds Bob and writes first (X3DH on the fetched bundle); Bob is offline.
  REQUIRE(alice.run({"contact", "add", "bob", bob.account_id()}).status == 0);
  send_ok(alice, "bob", "first contact, bob offline");
  send_ok(alice, "bob", "and a second one before any reply");

  // Bob comes online: Alice is not a contact, so she is shown by her id.
  auto got = receive(bob, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].text == "first contact, bob offline");
  CHECK(got[1].text == "and a second one before any reply");
  const bool shows_id =
      got[0].sender == alice.account_id() || got[0].sender_id == alice.account_id();
  CHECK(shows_id);

  // Bob adds her and replies; the session works both ways.
  REQUIRE(bob.run({"contact", "add", "alice", alice.account_id()}).status == 0);
  send_ok(bob, "alice", "reply to the first contact");
  auto at_alice = receive(alice, 1);
  REQUIRE(at_alice.size() == 1);
  CHECK(at_alice[0].sender == "bob");
  CHECK(at_alice[0].text == "reply to the first contact");
  send_ok(alice, "bob", "after the reply");
  auto more = receive(bob, 1);
  REQUIRE(more.size() == 1);
  CHECK(more[0].sender == "alice");
  CHECK(more[0].text == "after the reply");
  // Bob's history with Alice has the messages received before she was a contact.
  CHECK(history_texts(bob, "alice") ==
        std::vector<std::string>{"first contact, bob offline", "and a second one before any reply",
                                 "reply to the first contact", "after the reply"});
}

TEST_CASE("client: three clients, everyone writes to everyone", "[client][integration]") {
  auto net = make_network({"alice", "bob", "carol"});
  const std::vector<std::string> names{"alice", "bob", "carol"};
  for (const auto& from : names)
    for (const auto& to : names)
      if (from != to) send_ok(net->client(from), to, from + " to " + to + " #1");
  // Replies on the established sessions.
  for (const auto& from : names)
    for (const auto& to : names)
      if (from != to) send_ok(net->client(from), to, from + " to " + to + " #2");

  for (const auto& to : names) {
    auto got = receive(net->client(to), 4);
    INFO(to);
    REQUIRE(got.size() == 4);
    for (const auto& m : got) {
      // Each message came from the contact its text names, and only once.
      CHECK(m.text.rfind(m.sender + " to " + to + " #", 0) == 0);
      CHECK(std::count_if(got.begin(), got.end(),
                          [&](const Received& o) { return o.text == m.text; }) == 1);
    }
    for (const auto& from : names) {
      if (from == to) continue;
      // The order of own and received lines depends on when recv ran: counts.
      auto h = history_texts(net->client(to), from);
      CHECK(count_of(h, from + " to " + to + " #1") == 1);
      CHECK(count_of(h, from + " to " + to + " #2") == 1);
      CHECK(count_of(h, to + " to " + from + " #1") == 1);
      CHECK(count_of(h, to + " to " + from + " #2") == 1);
    }
  }
}

TEST_CASE("client: a relay restart in the middle of a conversation", "[client][integration]") {
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");

  send_ok(alice, "bob", "before the restart");
  REQUIRE(receive(bob, 1).size() == 1);
  send_ok(bob, "alice", "queued across the restart");

  // Bob follows while the relay goes away and comes back.
  auto follow = bob.start({"recv", "--follow"}, true);
  std::this_thread::sleep_for(2s);  // connected (or trying)
  REQUIRE(net->relay.stop());

  // While it is down, a send fails with a clear error, never a crash.
  auto down = alice.run({"send", "bob", "while the relay is down"}, "", 90s);
  check_no_crash(down);
  CHECK(down.status != 0);
  CHECK_FALSE(down.err.empty());

  auto started = net->relay.start();
  INFO((started ? std::string() : started.error()));
  REQUIRE(started);
  send_ok(alice, "bob", "after the restart");
  INFO("follow stdout: " << follow.out() << "\nstderr: " << follow.err());
  CHECK(follow.wait_for_output("after the restart", 90s));  // reconnected with backoff
  (void)follow.kill(SIGTERM);

  // The message queued before the restart was kept by the relay.
  auto at_alice = receive(alice, 1);
  REQUIRE(at_alice.size() >= 1);
  CHECK(at_alice[0].text == "queued across the restart");
  send_ok(alice, "bob", "and the session goes on");
  auto at_bob = receive(bob, 1);
  auto all = texts_of(messages_in(follow.out()));
  for (auto& t : texts_of(at_bob)) all.push_back(t);
  CHECK(count_of(all, "and the session goes on") == 1);
  // Nothing twice.
  auto h = history_texts(bob, "alice");
  CHECK(count_of(h, "before the restart") == 1);
  CHECK(count_of(h, "after the restart") == 1);
  CHECK(count_of(h, "and the session goes on") == 1);
}

TEST_CASE("client: both sides write first before either has received", "[client][integration]") {
  // Alice and Bob each start a session (X3DH) with the other before either
  // has received anything: two first messages cross. Afterwards the
  // conversation must go on both ways (the two sides must settle on one
  // session, not each keep the one the other abandoned).
  auto net = make_network({"alice", "bob"});
  auto& alice = net->client("alice");
  auto& bob = net->client("bob");
  send_ok(alice, "bob", "crossing first message from alice");
  send_ok(bob, "alice", "crossing first message from bob");
  auto at_alice = receive(alice, 1);
  auto at_bob = receive(bob, 1);
  REQUIRE(at_alice.size() == 1);
  REQUIRE(at_bob.size() == 1);
  CHECK(at_alice[0].text == "crossing first message from bob");
  CHECK(at_bob[0].text == "crossing first message from alice");

  for (int round = 1; round <= 2; ++round) {
    const std::string n = std::to_string(round);
    send_ok(alice, "bob", "alice after crossing " + n);
    send_ok(bob, "alice", "bob after crossing " + n);
    auto a = alice.run_json({"recv", "--timeout", "3"});
    auto b = bob.run_json({"recv", "--timeout", "3"});
    INFO("alice: " << a.describe() << "\nbob: " << b.describe());
    CHECK(texts_of(messages_in(a.out)) == std::vector<std::string>{"bob after crossing " + n});
    CHECK(texts_of(messages_in(b.out)) == std::vector<std::string>{"alice after crossing " + n});
    CHECK(a.out.find("undecryptable") == std::string::npos);
    CHECK(b.out.find("undecryptable") == std::string::npos);
  }
}
