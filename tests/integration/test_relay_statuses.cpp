// test_relay_statuses.cpp — every error status a client can provoke from the
// real relay (issue 3, "Tests": every error status; docs/protocol.md
// section 70.11): MALFORMED, UNSUPPORTED_VERSION, UNAUTHORISED, NOT_FOUND,
// TOO_LARGE (and a frame over max_frame, which closes the connection),
// QUOTA_EXCEEDED (mailbox and prekeys), RATE_LIMITED with retry-after, and
// SERVER_BUSY (more than 32 requests of one connection waiting for the store);
// CONFLICT is in test_relay_accounts.cpp. Each error leaves the connection
// usable (except the oversize frame) and stores nothing.
#include <catch2/catch.hpp>

#include <thread>

#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

relay::Status status_of(const Result<void, client::ClientError>& r) {
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error().kind == ClientErrorKind::kRejected);
  return *r.error().status;
}

}  // namespace

TEST_CASE("a garbage frame after the handshake is MALFORMED and the connection goes on",
          "[integration][status]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  auto a = alice.connect_registered(*relay);
  // Encrypted correctly, but not a ClientFrame: answered under request id 0.
  const Bytes garbage = {0xff, 0xff, 0xff, 0xff};
  REQUIRE(a.send_plaintext(garbage).ok());
  auto r = must(a.wait_response(0));
  CHECK(r.status == relay::Status::kMalformed);
  // A well-formed frame with a field rule broken (an empty Ack) under its own id.
  auto id = must(a.submit(relay::AckRequest{}));
  CHECK(must(a.wait_response(id)).status == relay::Status::kMalformed);
  CHECK(must(a.prekey_count()) == 3);
}

TEST_CASE("another protocol version is UNSUPPORTED_VERSION", "[integration][status]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice;
  auto a = alice.connect_registered(*relay);
  // ClientFrame{version = 3, request_id = 7, get_prekey_count {}} in protobuf bytes.
  REQUIRE(a.send_plaintext(Bytes{0x08, 0x03, 0x10, 0x07, 0x62, 0x00}).ok());
  CHECK(must(a.wait_response(7)).status == relay::Status::kUnsupportedVersion);
  // The same frame with version 1 or 2 is understood (the hand encoding is right).
  REQUIRE(a.send_plaintext(Bytes{0x08, 0x01, 0x10, 0x08, 0x62, 0x00}).ok());
  CHECK(must(a.wait_response(8)).status == relay::Status::kOk);
  REQUIRE(a.send_plaintext(Bytes{0x08, 0x02, 0x10, 0x09, 0x62, 0x00}).ok());
  CHECK(must(a.wait_response(9)).status == relay::Status::kOk);
}

TEST_CASE("NOT_FOUND for an unknown account", "[integration][status]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device alice, nobody;
  auto a = alice.connect_registered(*relay);
  auto send = a.send(nobody.id(), bytes_of("to nobody"));
  CHECK(status_of(send) == relay::Status::kNotFound);
  CHECK_THAT(send.error().message, Catch::Contains("NOT_FOUND"));
  auto fetch = a.fetch_bundle(nobody.id());
  REQUIRE_FALSE(fetch.ok());
  CHECK(fetch.error().status == relay::Status::kNotFound);
}

TEST_CASE("TOO_LARGE for an envelope over max_envelope, and a frame over max_frame closes",
          "[integration][status]") {
  auto relay =
      RelayProcess::create({{"limits", "max_frame", "16384"}, {"limits", "max_envelope", "1024"}});
  REQUIRE(relay.ok());
  Device alice, bob;
  auto b = bob.connect_registered(*relay);
  auto a = alice.connect_registered(*relay);
  CHECK(status_of(a.send(bob.id(), Bytes(1025, 0x42))) == relay::Status::kTooLarge);
  // At the limit it is accepted, and it is the only thing delivered.
  must(a.send(bob.id(), Bytes(1024, 0x43)));
  auto d = must(b.wait_delivery());
  CHECK(d.envelope == Bytes(1024, 0x43));

  // A frame whose length prefix exceeds max_frame + 16 is refused before its
  // body is read: the relay closes the connection, without an answer.
  REQUIRE(a.send_plaintext(Bytes(16385, 0x00)).ok());
  auto after = a.prekey_count();
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().kind == ClientErrorKind::kClosed);
  CHECK_FALSE(a.is_open());
}

TEST_CASE("QUOTA_EXCEEDED for a full mailbox and for too many one-time prekeys",
          "[integration][status]") {
  auto relay = RelayProcess::create(
      {{"quotas", "mailbox_messages", "2"}, {"quotas", "one_time_prekeys", "4"}});
  REQUIRE(relay.ok());
  Device alice(0), bob(3);
  { auto b = bob.connect_registered(*relay); }
  auto a = alice.connect_registered(*relay);
  must(a.send(bob.id(), bytes_of("one")));
  must(a.send(bob.id(), bytes_of("two")));
  CHECK(status_of(a.send(bob.id(), bytes_of("three"))) == relay::Status::kQuotaExceeded);
  // Acknowledging makes room again.
  auto b = bob.connect(*relay);
  auto first = must(b.wait_delivery());
  must(b.ack({first.sequence}));
  must(a.send(bob.id(), bytes_of("three, again")));

  // 3 held + 2 > 4: the upload is refused whole.
  auto upload = b.upload_prekeys(bob.add_prekeys(2));
  REQUIRE_FALSE(upload.ok());
  CHECK(upload.error().status == relay::Status::kQuotaExceeded);
  CHECK(must(b.prekey_count()) == 3);
}

TEST_CASE("RATE_LIMITED with a retry-after, then served again", "[integration][status]") {
  auto relay = RelayProcess::create({{"rate_limits", "requests_per_second_per_account", "1"},
                                     {"rate_limits", "request_burst_per_account", "1"}});
  REQUIRE(relay.ok());
  Device alice;
  auto a = alice.connect_registered(*relay);
  // Three requests in one burst: the bucket holds one token.
  std::vector<relay::Request> burst(3, relay::GetPreKeyCountRequest{});
  auto ids = must(a.submit_all(std::move(burst)));
  std::vector<relay::Response> answers;
  for (auto id : ids) answers.push_back(must(a.wait_response(id)));
  int limited = 0;
  for (const auto& r : answers) {
    if (r.status != relay::Status::kRateLimited) continue;
    ++limited;
    REQUIRE(r.retry_after_ms.has_value());
    CHECK(*r.retry_after_ms >= 1);
    CHECK(*r.retry_after_ms <= 1000);
  }
  CHECK(limited >= 1);
  auto again = a.prekey_count();
  if (!again.ok()) {
    // The client's error carries the status and the retry-after.
    CHECK(again.error().status == relay::Status::kRateLimited);
    REQUIRE(again.error().retry_after_ms.has_value());
    CHECK_THAT(again.error().message, Catch::Contains("retry after"));
    // Waiting as told is enough (a few tries absorb a slow machine's jitter).
    for (int i = 0; i < 5 && !again.ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(*again.error().retry_after_ms + 5));
      again = a.prekey_count();
      if (!again.ok()) REQUIRE(again.error().retry_after_ms.has_value());
    }
  }
  CHECK(again.ok());
}

TEST_CASE("SERVER_BUSY past 32 waiting requests and nothing ACCEPTED is lost",
          "[integration][status]") {
  constexpr const char* kMany = "1000000";
  auto relay = RelayProcess::create({{"rate_limits", "requests_per_second_per_account", kMany},
                                     {"rate_limits", "request_burst_per_account", kMany},
                                     {"rate_limits", "requests_per_second_per_address", kMany},
                                     {"rate_limits", "request_burst_per_address", kMany}});
  REQUIRE(relay.ok());
  Device alice, bob;
  { auto b = bob.connect_registered(*relay); }
  auto a = alice.connect_registered(*relay);

  // Bursts of sends in one write each: the relay reads them faster than each
  // group commit's fsync completes, so more than 32 wait and the rest are busy.
  std::size_t accepted = 0, busy = 0;
  for (int round = 0; round < 5 && busy == 0; ++round) {
    std::vector<relay::Request> burst;
    for (int i = 0; i < 400; ++i)
      burst.push_back(relay::SendRequest{bob.id(), bytes_of("burst " + std::to_string(i))});
    auto ids = must(a.submit_all(std::move(burst)));
    for (auto id : ids) {
      auto r = must(a.wait_response(id));
      if (r.status == relay::Status::kAccepted)
        ++accepted;
      else if (r.status == relay::Status::kServerBusy)
        ++busy;
      else
        FAIL("unexpected status " << client::status_name(r.status));
    }
  }
  CHECK(busy > 0);
  CHECK(accepted > 0);
  // Exactly the accepted envelopes reach bob, then the sentinel.
  must(a.send(bob.id(), bytes_of("end")));
  auto b = bob.connect(*relay);
  auto all = must(b.wait_deliveries(accepted + 1, 60s));
  CHECK(all.back().envelope == bytes_of("end"));
  for (std::size_t i = 0; i + 1 < all.size(); ++i)
    CHECK(std::string(all[i].envelope.begin(), all[i].envelope.end()).rfind("burst ", 0) == 0);
}
