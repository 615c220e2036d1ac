// test_relay_hold.cpp — held inserts against the real relay (store.hold_ms,
// docs/operator.md "Durability and the group commit"): a Send pushed to a connected
// recipient who acknowledges it within the hold is answered ACCEPTED at the Ack and never
// stored; one not acknowledged is stored after the hold; a send to an offline recipient
// is not held; on SIGTERM the held inserts are committed and their senders answered
// ACCEPTED before the connections close.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>

#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A relay whose held inserts wait a full second: long enough to tell apart an answer
// given at the Ack (or at shutdown) from one given after the hold.
RelayProcess relay_with_long_hold() {
  auto relay = RelayProcess::create({{"store", "hold_ms", "1000"}});
  if (!relay) FAIL(relay.error());
  return std::move(*relay);
}

std::string queued_messages(const RelayProcess& relay) {
  auto stats = relay.command({"stats", "--json", "--data", relay.data_dir().string()});
  REQUIRE(stats.status == 0);
  const auto at = stats.out.find("\"queued_messages\": ");
  REQUIRE(at != std::string::npos);
  return stats.out.substr(at + 19, stats.out.find_first_of(",\n}", at + 19) - (at + 19));
}

std::uint64_t submit_send(RelayClient& c, const Device& to, const std::string& text) {
  return must(c.submit(relay::SendRequest{to.id(), bytes_of(text)}));
}

}  // namespace

TEST_CASE("hold: acknowledged within the hold: ACCEPTED at the ack and never stored",
          "[integration][hold]") {
  auto relay = relay_with_long_hold();
  Device alice, bob;
  auto a = alice.connect_registered(relay);
  auto b = bob.connect_registered(relay);
  // The first send of a mailbox reserves its sequences on disk; from the next one on,
  // sends are pushed before their insert commits (and held).
  must(a.send(bob.id(), bytes_of("warm-up")));
  must(b.ack({must(b.wait_delivery()).sequence}));

  for (int i = 0; i < 5; ++i) {
    const auto start = Clock::now();
    const auto id = submit_send(a, bob, "held " + std::to_string(i));
    auto d = must(b.wait_delivery());
    CHECK(std::string(d.envelope.begin(), d.envelope.end()) == "held " + std::to_string(i));
    must(b.ack({d.sequence}));
    CHECK(must(a.wait_response(id)).status == relay::Status::kAccepted);
    CHECK(Clock::now() - start < 900ms);  // answered at the ack, not after the 1 s hold
  }
  REQUIRE(relay.stop().ok());
  CHECK(queued_messages(relay) == "0");
}

TEST_CASE("hold: stored after the hold when not acknowledged and at once for an offline recipient",
          "[integration][hold]") {
  auto relay = relay_with_long_hold();
  Device alice, bob, carol;
  auto a = alice.connect_registered(relay);
  auto b = bob.connect_registered(relay);
  { auto c = carol.connect_registered(relay); }  // carol goes offline
  must(a.send(bob.id(), bytes_of("warm-up")));
  must(b.ack({must(b.wait_delivery()).sequence}));
  must(a.send(carol.id(), bytes_of("warm-up")));

  auto start = Clock::now();
  const auto id = submit_send(a, bob, "never acknowledged");
  must(b.wait_delivery());  // pushed, never acknowledged
  CHECK(must(a.wait_response(id)).status == relay::Status::kAccepted);
  CHECK(Clock::now() - start >= 1000ms);  // held for the whole hold, then committed

  start = Clock::now();
  must(a.send(carol.id(), bytes_of("to an offline recipient")));
  CHECK(Clock::now() - start < 900ms);  // not held
  REQUIRE(relay.stop().ok());
  CHECK(queued_messages(relay) == "3");  // bob's unacknowledged one, carol's two
}

TEST_CASE("hold: SIGTERM commits held inserts and answers their senders ACCEPTED",
          "[integration][hold]") {
  auto relay = RelayProcess::create({{"store", "hold_ms", "1000"}});
  REQUIRE(relay.ok());
  Device alice, bob;
  auto a = alice.connect_registered(*relay);
  auto b = bob.connect_registered(*relay);
  must(a.send(bob.id(), bytes_of("warm-up")));
  must(b.ack({must(b.wait_delivery()).sequence}));

  const auto id = submit_send(a, bob, "held at shutdown");
  must(b.wait_delivery());  // pushed, not acknowledged: its insert is held
  const auto start = Clock::now();
  auto stopped = std::async(std::launch::async, [&relay] { return relay->stop(); });
  // The relay drains: the held insert is released at once, committed, answered.
  CHECK(must(a.wait_response(id)).status == relay::Status::kAccepted);
  CHECK(Clock::now() - start < 900ms);  // released at the signal, not after the hold
  a.close();
  b.close();
  auto status = stopped.get();
  REQUIRE(status.ok());
  CHECK(*status == 0);
  CHECK(queued_messages(*relay) == "1");
  // And it is there after a restart.
  REQUIRE(relay->start().ok());
  auto b2 = bob.connect(*relay);
  auto d = must(b2.wait_delivery());
  CHECK(std::string(d.envelope.begin(), d.envelope.end()) == "held at shutdown");
}
