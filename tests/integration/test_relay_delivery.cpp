// test_relay_delivery.cpp — send, delivery, ack, restart and expiry against
// the real relay (issue 3, "Tests": send, delivery, ack, restart with queued
// messages surviving, expiry; docs/protocol.md section 70 7.7, 7.8,
// 7.12), and one whole message end to end: X3DH with a fetched bundle, the
// ratchet and the sealed envelope through the relay.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "common/session.hpp"
#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

std::string text_of(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("send is pushed to the connected recipient, ack deletes, no redelivery",
          "[integration][delivery]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  auto a = alice.connect_registered(*relay);
  auto b = bob.connect_registered(*relay);

  must(a.send(bob.id(), bytes_of("first")));
  auto d1 = must(b.wait_delivery());
  CHECK(text_of(d1.envelope) == "first");
  must(b.ack({d1.sequence}));

  // Unacknowledged mail is pushed again on the next connection (at least once) ...
  must(a.send(bob.id(), bytes_of("second")));
  auto d2 = must(b.wait_delivery());
  CHECK(text_of(d2.envelope) == "second");
  CHECK(d2.sequence > d1.sequence);
  b.close();
  auto b2 = bob.connect(*relay);
  auto again = must(b2.wait_delivery());
  CHECK(again.sequence == d2.sequence);
  CHECK(text_of(again.envelope) == "second");
  must(b2.ack({again.sequence}));
  b2.close();

  // ... and acknowledged mail is not: after a reconnect the first push is new mail.
  auto b3 = bob.connect(*relay);
  must(a.send(bob.id(), bytes_of("third")));
  auto d3 = must(b3.wait_delivery());
  CHECK(text_of(d3.envelope) == "third");
  CHECK(d3.sequence > d2.sequence);
  // Acking an already acknowledged sequence is harmless.
  must(b3.ack({d1.sequence, d2.sequence}));
}

TEST_CASE("mail for an offline recipient is queued and pushed in order on connect",
          "[integration][delivery]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  { auto b = bob.connect_registered(*relay); }
  auto a = alice.connect_registered(*relay);
  constexpr int kCount = 40;
  for (int i = 0; i < kCount; ++i) must(a.send(bob.id(), bytes_of("message " + std::to_string(i))));

  auto b = bob.connect(*relay);
  auto all = must(b.wait_deliveries(kCount, kTimeout));
  for (int i = 0; i < kCount; ++i) {
    CHECK(text_of(all[i].envelope) == "message " + std::to_string(i));
    if (i > 0) CHECK(all[i].sequence > all[i - 1].sequence);
  }
  // New mail while connected comes after them.
  must(a.send(bob.id(), bytes_of("live")));
  auto live = must(b.wait_delivery());
  CHECK(text_of(live.envelope) == "live");
  CHECK(live.sequence > all.back().sequence);
}

TEST_CASE("queued messages survive a relay restart", "[integration][delivery]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  { auto b = bob.connect_registered(*relay); }
  {
    auto a = alice.connect_registered(*relay);
    for (int i = 0; i < 5; ++i) must(a.send(bob.id(), bytes_of("durable " + std::to_string(i))));
  }
  // SIGTERM: the relay drains and exits 0.
  auto stopped = relay->stop();
  REQUIRE(stopped.ok());
  CHECK(*stopped == 0);
  auto stats = relay->command({"stats", "--json", "--data", relay->data_dir().string()});
  CHECK(stats.status == 0);
  CHECK_THAT(stats.out, Catch::Contains("\"queued_messages\": 5"));

  REQUIRE(relay->start().ok());
  auto b = bob.connect(*relay);
  auto all = must(b.wait_deliveries(5, kTimeout));
  for (int i = 0; i < 5; ++i) CHECK(text_of(all[i].envelope) == "durable " + std::to_string(i));
  // Accounts and keys survived too: bob is authenticated, alice can fetch his bundle.
  CHECK(must(b.prekey_count()) == 3);
  auto a = alice.connect(*relay);
  CHECK(must(a.fetch_bundle(bob.id())).bundle.one_time_prekey.has_value());
}

TEST_CASE("messages past the retention are purged", "[integration][delivery]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  { auto b = bob.connect_registered(*relay); }
  {
    auto a = alice.connect_registered(*relay);
    must(a.send(bob.id(), bytes_of("will expire")));
  }
  REQUIRE(relay->stop().ok());
  // The retention is 30 days (default): the relay comes back with its clock
  // 31 days ahead (the relay's test hook SOTTO_RELAY_CLOCK_OFFSET_SECONDS) and
  // purges at start. The arrival hour is all the relay knows of a message.
  const auto offset = std::to_string(31 * 86'400);
  REQUIRE(relay->start({{"SOTTO_RELAY_CLOCK_OFFSET_SECONDS", offset}}).ok());
  REQUIRE(relay->wait_for_log("purged 1 expired message", kTimeout));

  auto b = bob.connect(*relay);
  auto a = alice.connect(*relay);
  must(a.send(bob.id(), bytes_of("fresh")));
  // The first push is the fresh message: the expired one is gone.
  auto d = must(b.wait_delivery());
  CHECK(text_of(d.envelope) == "fresh");
  REQUIRE(relay->stop().ok());
  auto stats = relay->command({"stats", "--json", "--data", relay->data_dir().string()});
  CHECK_THAT(stats.out, Catch::Contains("\"queued_messages\": 1"));
}

TEST_CASE("end to end: X3DH over a fetched bundle, a sealed envelope through the relay",
          "[integration][delivery][e2e]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob;
  auto b = bob.connect_registered(*relay);
  auto a = alice.connect_registered(*relay);

  // Alice: fetch and verify Bob's bundle, start a session, seal and send.
  auto fetched = must(a.fetch_bundle(bob.id()));
  auto verified = verify_bundle(fetched.bundle, unix_now());
  REQUIRE(verified.ok());
  auto session = initiate_session(alice.identity, *verified, alice.rng);
  REQUIRE(session.ok());
  const std::string text = "meet me at the usual place";
  auto envelope = seal_message(alice.identity, bob.id(), session->state, session->header,
                               bytes_of(text), alice.rng);
  REQUIRE(envelope.ok());
  must(a.send(bob.id(), *envelope));

  // Bob: the push, the envelope opened, X3DH as responder, the first message decrypted.
  auto d = must(b.wait_delivery());
  CHECK(d.envelope == *envelope);
  auto incoming = open_message(bob.identity, d.envelope);
  REQUIRE(incoming.ok());
  CHECK(incoming->sender == alice.id());
  REQUIRE(incoming->header.has_value());
  REQUIRE(incoming->header->one_time_prekey_id.has_value());
  const auto* opk = bob.find_prekey(*incoming->header->one_time_prekey_id);
  REQUIRE(opk != nullptr);
  CHECK(opk->public_key == *fetched.bundle.one_time_prekey);
  auto decrypted = accept_prekey_message(bob.identity, bob.signed_prekey, opk, *incoming->header,
                                         incoming->ratchet_message, bob.rng);
  REQUIRE(decrypted.ok());
  CHECK(std::string(decrypted->plaintext.view().begin(), decrypted->plaintext.view().end()) ==
        text);
  must(b.ack({d.sequence}));

  // Bob answers on the new session (a ratchet message); Alice decrypts it.
  const std::string reply = "see you there";
  auto answer = seal_message(bob.identity, alice.id(), decrypted->next, std::nullopt,
                             bytes_of(reply), bob.rng);
  REQUIRE(answer.ok());
  must(b.send(alice.id(), *answer));
  auto back = must(a.wait_delivery());
  auto opened = open_message(alice.identity, back.envelope);
  REQUIRE(opened.ok());
  CHECK(opened->sender == bob.id());
  CHECK_FALSE(opened->header.has_value());
  auto plain = ratchet::decrypt(session->state, opened->ratchet_message, alice.rng);
  REQUIRE(plain.ok());
  CHECK(std::string(plain->plaintext.view().begin(), plain->plaintext.view().end()) == reply);
  must(a.ack({back.sequence}));

  // The relay stored ciphertext only: the plaintext appears nowhere in its data directory.
  REQUIRE(relay->stop().ok());
  for (const auto& entry : std::filesystem::directory_iterator(relay->data_dir())) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content.find(text) == std::string::npos);
    CHECK(content.find(reply) == std::string::npos);
  }
}

TEST_CASE("backlog and live deliveries mix in sequence order", "[integration][delivery]") {
  // Bob's backlog is pushed from the store while Carol keeps sending: envelopes admitted
  // during the catch-up are pushed from memory only once every lower sequence is out.
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, bob, carol;
  { auto b = bob.connect_registered(*relay); }
  auto a = alice.connect_registered(*relay);
  auto c = carol.connect_registered(*relay);
  constexpr int kEach = 30;
  for (int i = 0; i < kEach; ++i) must(a.send(bob.id(), bytes_of("backlog " + std::to_string(i))));

  std::atomic<int> live_accepted{0};
  std::thread live([&] {
    for (int i = 0; i < kEach; ++i)
      if (c.send(bob.id(), bytes_of("live " + std::to_string(i))).ok()) ++live_accepted;
  });
  auto b = bob.connect(*relay);
  std::vector<relay::Delivery> all;
  while (all.size() < 2 * kEach) {
    auto got = b.wait_deliveries(1, kTimeout);
    if (!got) break;
    std::vector<std::uint64_t> seqs;
    for (auto& d : *got) {
      seqs.push_back(d.sequence);
      all.push_back(std::move(d));
    }
    must(b.ack(seqs));  // acknowledged as they arrive, as a client does
  }
  live.join();
  CHECK(live_accepted == kEach);
  REQUIRE(all.size() == 2 * kEach);
  int next_backlog = 0, next_live = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) CHECK(all[i].sequence > all[i - 1].sequence);  // never out of order
    const std::string t = text_of(all[i].envelope);
    if (t.rfind("backlog ", 0) == 0) {
      CHECK(t == "backlog " + std::to_string(next_backlog++));
    } else {
      CHECK(t == "live " + std::to_string(next_live++));
    }
  }
  CHECK(next_backlog == kEach);
  CHECK(next_live == kEach);
  // Everything was acknowledged: a new connection gets nothing until new mail.
  b.close();
  auto b2 = bob.connect(*relay);
  must(a.send(bob.id(), bytes_of("after")));
  CHECK(text_of(must(b2.wait_delivery()).envelope) == "after");
}
