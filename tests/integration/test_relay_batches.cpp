// test_relay_batches.cpp — wire protocol version 2 against the real relay
// (docs/protocol.md 70.2): a ClientBatch's requests are each answered exactly
// once under their own ids, a version-2 client's answers share Responses
// frames while a version-1 client only ever gets single Response frames, each
// request of a batch costs its own rate-limit token and in-flight slot, and a
// hostile batch (too long, nested) is refused as the rules say without
// harming the connection. The real client's submit_all batches and gets
// every answer.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "integration/hostile_support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

constexpr const char* kMany = "1000000";

// A relay whose rate limits never get in the way.
RelayProcess unlimited_relay() {
  auto relay = RelayProcess::create({{"rate_limits", "requests_per_second_per_account", kMany},
                                     {"rate_limits", "request_burst_per_account", kMany},
                                     {"rate_limits", "requests_per_second_per_address", kMany},
                                     {"rate_limits", "request_burst_per_address", kMany}});
  REQUIRE(relay.ok());
  return std::move(*relay);
}

// The answers to `ids`, each exactly once (pushes skipped); fails on an
// answer to any other id, or when the relay stops answering.
std::map<std::uint64_t, relay::Response> answers(NoiseClient& c,
                                                 const std::set<std::uint64_t>& ids) {
  std::map<std::uint64_t, relay::Response> got;
  while (got.size() < ids.size()) {
    auto m = c.receive();
    REQUIRE(m.has_value());
    auto* r = std::get_if<relay::Response>(&*m);
    if (!r) continue;
    INFO("request id " << r->request_id);
    REQUIRE(ids.count(r->request_id) == 1);
    REQUIRE(got.emplace(r->request_id, *r).second);
  }
  return got;
}

std::set<std::uint64_t> id_range(std::uint64_t first, std::uint64_t last) {
  std::set<std::uint64_t> out;
  for (auto id = first; id <= last; ++id) out.insert(id);
  return out;
}

// Nothing more arrives within `quiet` (no answer twice, no stray answer).
void nothing_more(NoiseClient& c, Millis quiet = 500ms) {
  auto m = c.receive(quiet);
  if (m) {
    auto* r = std::get_if<relay::Response>(&*m);
    FAIL("unexpected message" << (r ? " answering id " + std::to_string(r->request_id) : ""));
  }
}

// A version-1 GetPreKeyCount frame (hand-made: the codec writes version 2).
Bytes v1_count(std::uint64_t id) {
  return client_frame(id, wirefield::kGetCount, Pb{});
}

// A ClientFrame of `version` carrying a ClientBatch of the given inner frames.
inline constexpr std::uint32_t kBatchField = 18;
Bytes batch_frame(std::uint32_t version, std::uint64_t outer_id, const std::vector<Bytes>& inner) {
  Pb batch;
  for (const auto& f : inner) batch.bytes(1, f);
  Pb frame;
  frame.u(wirefield::kVersion, version).u(wirefield::kRequestId, outer_id).msg(kBatchField, batch);
  return frame.b;
}

Bytes v2_count(std::uint64_t id) {
  Pb f;
  f.u(wirefield::kVersion, 2).u(wirefield::kRequestId, id).msg(wirefield::kGetCount, Pb{});
  return f.b;
}

// The connection still answers a plain request.
void still_usable(NoiseClient& c, std::uint64_t id) {
  REQUIRE(c.send_request(id, relay::GetPreKeyCountRequest{}));
  auto r = c.response(id);
  REQUIRE(r.has_value());
  CHECK(r->status != relay::Status::kMalformed);
}

}  // namespace

TEST_CASE("batches: a version-2 batch of 10 is answered once each, in fewer frames",
          "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice;
  { auto a = alice.connect_registered(relay); }
  auto c = NoiseClient::connect_ik(relay, alice);
  std::vector<relay::ClientRequest> batch;
  for (std::uint64_t id = 1; id <= 10; ++id) batch.push_back({id, relay::GetPreKeyCountRequest{}});
  REQUIRE(c.send(relay::encode_client_batch(batch)));
  auto got = answers(c, id_range(1, 10));
  for (const auto& [id, r] : got) {
    CHECK(r.status == relay::Status::kOk);
    REQUIRE(std::holds_alternative<relay::PreKeyCount>(r.result));
    CHECK(std::get<relay::PreKeyCount>(r.result).count == 3);
  }
  nothing_more(c);
  CHECK(c.batched_frames() > 0);
  CHECK(c.frames_read() < got.size());
}

TEST_CASE("batches: a version-1 client that pipelines never receives a Responses frame",
          "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice;
  { auto a = alice.connect_registered(relay); }
  auto c = NoiseClient::connect_ik(relay, alice);
  Bytes burst;
  for (std::uint64_t id = 1; id <= 10; ++id) {
    auto f = c.seal(v1_count(id));
    burst.insert(burst.end(), f.begin(), f.end());
  }
  REQUIRE(c.socket().write(burst));
  auto got = answers(c, id_range(1, 10));
  for (const auto& [id, r] : got) CHECK(r.status == relay::Status::kOk);
  nothing_more(c);
  CHECK(c.batched_frames() == 0);
  CHECK(c.frames_read() == 10);
  // A batch in a version-1 frame: the whole frame is MALFORMED under its id,
  // and the client is still answered in single frames.
  REQUIRE(c.send(batch_frame(1, 50, {v1_count(51), v1_count(52)})));
  auto whole = answers(c, {50});
  CHECK(whole.at(50).status == relay::Status::kMalformed);
  nothing_more(c);
  CHECK(c.batched_frames() == 0);
  // Once it sends a version-2 frame, its answers may share frames.
  burst.clear();
  for (std::uint64_t id = 60; id < 70; ++id) {
    auto f = c.seal(v2_count(id));
    burst.insert(burst.end(), f.begin(), f.end());
  }
  REQUIRE(c.socket().write(burst));
  answers(c, id_range(60, 69));
  CHECK(c.batched_frames() > 0);
}

TEST_CASE(
    "batches: 40 Sends in two batches at once, each ACCEPTED or SERVER_BUSY, nothing lost or "
    "doubled",
    "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice, bob;
  { auto b = bob.connect_registered(relay); }
  { auto a = alice.connect_registered(relay); }
  auto c = NoiseClient::connect_ik(relay, alice);
  // Two batches of 20 in one write: together over the 32 requests of one
  // connection that may wait for the store.
  std::vector<relay::ClientRequest> first, second;
  for (std::uint64_t id = 1; id <= 40; ++id)
    (id <= 20 ? first : second)
        .push_back({id, relay::SendRequest{bob.id(), bytes_of("batched #" + std::to_string(id))}});
  Bytes both = c.seal(relay::encode_client_batch(first));
  const Bytes two = c.seal(relay::encode_client_batch(second));
  both.insert(both.end(), two.begin(), two.end());
  REQUIRE(c.socket().write(both));
  auto got = answers(c, id_range(1, 40));
  std::vector<Bytes> accepted;
  std::size_t busy = 0;
  for (const auto& [id, r] : got) {
    INFO("request id " << id);
    CHECK((r.status == relay::Status::kAccepted || r.status == relay::Status::kServerBusy));
    if (r.status == relay::Status::kAccepted)
      accepted.push_back(bytes_of("batched #" + std::to_string(id)));
    else
      ++busy;
  }
  nothing_more(c);
  // At most 32 of one connection wait for the store; the first batch, whole,
  // on a connection with nothing waiting, is never busy.
  CHECK(accepted.size() >= 20);
  for (std::uint64_t id = 1; id <= 20; ++id) CHECK(got.at(id).status == relay::Status::kAccepted);
  CHECK(accepted.size() + busy == 40);
  // Bob receives exactly the accepted envelopes, in the order they were sent.
  auto b = bob.connect(relay);
  auto delivered = must(b.wait_deliveries(accepted.size(), 30s));
  REQUIRE(delivered.size() == accepted.size());
  for (std::size_t i = 0; i < accepted.size(); ++i) CHECK(delivered[i].envelope == accepted[i]);
  CHECK_FALSE(b.wait_delivery(1s).ok());
}

TEST_CASE("batches: each request of a batch costs a rate-limit token", "[integration][batch]") {
  auto relay = RelayProcess::create({{"rate_limits", "requests_per_second_per_address", "1"},
                                     {"rate_limits", "request_burst_per_address", "5"}});
  REQUIRE(relay.ok());
  // Unregistered (no account bucket): only the address's 5 tokens count.
  Device stranger;
  auto c = NoiseClient::connect_ik(*relay, stranger, "127.0.0.5");
  std::vector<relay::ClientRequest> batch;
  for (std::uint64_t id = 1; id <= 12; ++id) batch.push_back({id, relay::GetPreKeyCountRequest{}});
  REQUIRE(c.send(relay::encode_client_batch(batch)));
  auto got = answers(c, id_range(1, 12));
  std::size_t limited = 0;
  for (const auto& [id, r] : got) {
    INFO("request id " << id);
    if (r.status != relay::Status::kRateLimited) {
      // The bucket is full at first and the batch is handled at once: the
      // first five pass (and are refused for what they are, not for the rate).
      CHECK(id <= 5);
      continue;
    }
    ++limited;
    CHECK(id > 5);
    REQUIRE(r.retry_after_ms.has_value());
    CHECK(*r.retry_after_ms >= 1);
    CHECK(*r.retry_after_ms <= 1000);
  }
  CHECK(limited == 7);
  nothing_more(c, 200ms);
}

TEST_CASE(
    "batches: a batch one over the maximum is one TOO_LARGE under the outer id and nothing else",
    "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice;
  { auto a = alice.connect_registered(relay); }
  auto c = NoiseClient::connect_ik(relay, alice);
  std::vector<Bytes> inner;
  for (std::uint64_t id = 1; id <= relay::kMaxBatch + 1; ++id) inner.push_back(v2_count(id));
  REQUIRE(c.send(batch_frame(2, 1000, inner)));
  auto m = c.receive();
  REQUIRE(m.has_value());
  auto* r = std::get_if<relay::Response>(&*m);
  REQUIRE(r != nullptr);
  CHECK(r->request_id == 1000);
  CHECK(r->status == relay::Status::kTooLarge);
  nothing_more(c);
  // The maximum is allowed: each answered once, and, the maximum being the
  // relay's bound on requests waiting for the store, none of them is busy.
  inner.pop_back();
  REQUIRE(c.send(batch_frame(2, 1001, inner)));
  auto got = answers(c, id_range(1, relay::kMaxBatch));
  std::size_t ok = 0;
  for (const auto& [id, a] : got) {
    INFO("request id " << id);
    CHECK((a.status == relay::Status::kOk || a.status == relay::Status::kServerBusy));
    if (a.status == relay::Status::kOk) ++ok;
  }
  CHECK(ok == relay::kMaxBatch);
  nothing_more(c);
  still_usable(c, 2000);
}

TEST_CASE("batches: a batch nested in a batch is MALFORMED for that request, siblings answered",
          "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice;
  { auto a = alice.connect_registered(relay); }
  auto c = NoiseClient::connect_ik(relay, alice);
  const Bytes nested = batch_frame(2, 2, {v2_count(3)});
  REQUIRE(c.send(batch_frame(2, 100, {v2_count(1), nested, v2_count(4)})));
  auto got = answers(c, {1, 2, 4});
  CHECK(got.at(1).status == relay::Status::kOk);
  CHECK(got.at(2).status == relay::Status::kMalformed);
  CHECK(got.at(4).status == relay::Status::kOk);
  nothing_more(c);  // neither the inner id 3 nor the outer id 100
  // An inner frame of another version: UNSUPPORTED_VERSION under its own id.
  Bytes v1_inner = v1_count(6);
  REQUIRE(c.send(batch_frame(2, 101, {v2_count(5), v1_inner})));
  auto mixed = answers(c, {5, 6});
  CHECK(mixed.at(5).status == relay::Status::kOk);
  CHECK(mixed.at(6).status == relay::Status::kUnsupportedVersion);
  nothing_more(c);
  // An empty batch: MALFORMED under the outer id.
  REQUIRE(c.send(batch_frame(2, 102, {})));
  CHECK(answers(c, {102}).at(102).status == relay::Status::kMalformed);
  nothing_more(c);
  still_usable(c, 200);
}

TEST_CASE("batches: the real client's submit_all of 100 requests gets every answer",
          "[integration][batch]") {
  auto relay = unlimited_relay();
  Device alice, bob;
  { auto b = bob.connect_registered(relay); }
  auto a = alice.connect_registered(relay);
  // 100 at once (frames of 32, 32, 32 and 4): every one answered, under its id;
  // those beyond the relay's 32 waiting requests are SERVER_BUSY.
  std::vector<relay::Request> counts(100, relay::GetPreKeyCountRequest{});
  auto ids = must(a.submit_all(std::move(counts)));
  REQUIRE(ids.size() == 100);
  CHECK(std::set<std::uint64_t>(ids.begin(), ids.end()).size() == 100);
  std::size_t ok = 0;
  for (auto id : ids) {
    auto r = must(a.wait_response(id));
    CHECK(r.request_id == id);
    CHECK((r.status == relay::Status::kOk || r.status == relay::Status::kServerBusy));
    if (r.status == relay::Status::kOk) {
      ++ok;
      REQUIRE(std::holds_alternative<relay::PreKeyCount>(r.result));
      CHECK(std::get<relay::PreKeyCount>(r.result).count == 3);
    }
  }
  CHECK(ok >= 32);
  // 30 at a time: all served.
  for (int round = 0; round < 3; ++round) {
    std::vector<relay::Request> few(30, relay::GetPreKeyCountRequest{});
    for (auto id : must(a.submit_all(std::move(few))))
      CHECK(must(a.wait_response(id)).status == relay::Status::kOk);
  }
  // Sends: 30 at a time stay within the relay's 32 in-flight requests.
  std::vector<Bytes> sent;
  for (int round = 0; round < 3; ++round) {
    std::vector<relay::Request> sends;
    for (int i = 0; i < 30; ++i) {
      sent.push_back(bytes_of("submit_all #" + std::to_string(round * 30 + i)));
      sends.push_back(relay::SendRequest{bob.id(), sent.back()});
    }
    auto send_ids = must(a.submit_all(std::move(sends)));
    for (auto id : send_ids) CHECK(must(a.wait_response(id)).status == relay::Status::kAccepted);
  }
  auto b = bob.connect(relay);
  auto delivered = must(b.wait_deliveries(sent.size(), 30s));
  REQUIRE(delivered.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) CHECK(delivered[i].envelope == sent[i]);
}
