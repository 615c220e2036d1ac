// test_wire_codec.cpp — the relay codec: every request and response round-trips;
// oversize, unparsable, wrong-version and wrong-length frames are refused with
// the status the relay must answer.
#include <catch2/catch.hpp>

#include "common/wire_codec.hpp"
#include "wire.pb.h"

using namespace sotto;
using namespace sotto::relay;

namespace {

template <class P>
P filled(std::uint8_t b) {
  P p;
  p.bytes.fill(b);
  return p;
}

RegisterRequest sample_register() {
  RegisterRequest r;
  r.identity_key = filled<IdentityKey>(1);
  r.device_id = 1;
  r.transport_key = filled<X25519PublicKey>(2);
  r.transport_key_signature = filled<Ed25519Signature>(3);
  r.signed_prekey = Bytes(116, 4);
  r.one_time_prekeys = {{7, filled<X25519PublicKey>(5)}, {8, filled<X25519PublicKey>(6)}};
  r.proof_of_possession = filled<Ed25519Signature>(9);
  return r;
}

Bytes serialise(const wire::ClientFrame& f) {
  std::string s = f.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

FrameRejection rejection_of(ByteView frame, const CodecLimits& limits = {}) {
  auto r = decode_client_frame(frame, limits);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("every request kind round-trips through the codec", "[wire_codec]") {
  std::vector<Request> requests = {
      sample_register(),
      UploadPreKeysRequest{{{1, filled<X25519PublicKey>(0x11)}}},
      GetPreKeyCountRequest{},
      RotateSignedPreKeyRequest{Bytes(116, 0x22)},
      FetchBundleRequest{filled<IdentityKey>(0x33)},
      SendRequest{filled<IdentityKey>(0x44), Bytes{1, 2, 3, 4, 5}},
      AckRequest{{1, 2, std::uint64_t{1} << 40}},
      DeleteAccountRequest{filled<Ed25519Signature>(0x55)},
  };
  std::uint64_t id = 100;
  for (const auto& req : requests) {
    ClientRequest in{id++, req};
    auto out = decode_client_frame(encode_client_request(in), CodecLimits{});
    REQUIRE(out.ok());
    CHECK(*out == in);
  }
}

TEST_CASE("responses and pushes round-trip through the codec", "[wire_codec]") {
  Bundle b{filled<IdentityKey>(7), 2, Bytes(116, 8), OneTimePreKey{9, filled<X25519PublicKey>(10)}};
  Bundle no_opk{filled<IdentityKey>(7), 1, Bytes(116, 8), std::nullopt};
  std::vector<ServerMessage> messages = {
      Response{1, Status::kOk, std::nullopt, std::monostate{}},
      Response{2, Status::kAccepted, std::nullopt, std::monostate{}},
      Response{3, Status::kRateLimited, 1500u, std::monostate{}},
      Response{4, Status::kOk, std::nullopt, PreKeyCount{42}},
      Response{5, Status::kOk, std::nullopt, b},
      Response{6, Status::kOk, std::nullopt, no_opk},
      Response{7, Status::kServerBusy, std::nullopt, std::monostate{}},
      Push{{{1, Bytes{1}}, {2, Bytes(1000, 2)}, {9, Bytes{3, 3}}}},
  };
  for (const auto& m : messages) {
    auto out = decode_server_frame(encode_server_message(m), CodecLimits{});
    REQUIRE(out.ok());
    CHECK(*out == m);
  }
}

TEST_CASE("every status survives the wire numbering", "[wire_codec]") {
  for (int s = 0; s <= static_cast<int>(Status::kUnsupportedVersion); ++s) {
    Response r{9, static_cast<Status>(s), std::nullopt, std::monostate{}};
    auto out = decode_server_frame(encode_server_message(r), CodecLimits{});
    REQUIRE(out.ok());
    CHECK(std::get<Response>(*out).status == r.status);
  }
}

TEST_CASE("a frame over max_frame is refused before parsing", "[wire_codec]") {
  CodecLimits limits;
  limits.max_frame = 64;
  // Garbage that would not parse: the size check must come first.
  Bytes big(65, 0xff);
  auto rej = rejection_of(big, limits);
  CHECK(rej.status == Status::kTooLarge);
  CHECK(rej.error == DecodeError::kTooLarge);
  CHECK_FALSE(rej.request_id.has_value());
}

TEST_CASE("bytes that are not a ClientFrame are malformed", "[wire_codec]") {
  auto rej = rejection_of(Bytes{0xff, 0xff, 0xff, 0xff});
  CHECK(rej.status == Status::kMalformed);
  CHECK_FALSE(rej.request_id.has_value());
  // An empty frame parses (proto3) but has no version.
  CHECK(rejection_of(Bytes{}).status == Status::kUnsupportedVersion);
}

TEST_CASE("a frame of another version is unsupported, answered under its id", "[wire_codec]") {
  wire::ClientFrame f;
  f.set_version(kWireVersion + 1);
  f.set_request_id(77);
  f.mutable_get_prekey_count();
  auto rej = rejection_of(serialise(f));
  CHECK(rej.status == Status::kUnsupportedVersion);
  CHECK(rej.request_id == std::optional<std::uint64_t>(77));
}

TEST_CASE("a frame without a request is malformed", "[wire_codec]") {
  wire::ClientFrame f;
  f.set_version(kWireVersion);
  f.set_request_id(5);
  auto rej = rejection_of(serialise(f));
  CHECK(rej.status == Status::kMalformed);
  CHECK(rej.request_id == std::optional<std::uint64_t>(5));
}

TEST_CASE("keys and signatures of the wrong length are malformed", "[wire_codec]") {
  auto base = [] {
    wire::ClientFrame f;
    f.ParseFromString(std::string([] {
      Bytes b = encode_client_request({3, sample_register()});
      return std::string(b.begin(), b.end());
    }()));
    return f;
  };
  SECTION("31-byte identity key") {
    auto f = base();
    f.mutable_register_()->set_identity_key(std::string(31, 'a'));
    auto rej = rejection_of(serialise(f));
    CHECK(rej.status == Status::kMalformed);
    CHECK(rej.error == DecodeError::kBadLength);
    CHECK(rej.request_id == std::optional<std::uint64_t>(3));
  }
  SECTION("33-byte transport key") {
    auto f = base();
    f.mutable_register_()->set_transport_key(std::string(33, 'a'));
    CHECK(rejection_of(serialise(f)).error == DecodeError::kBadLength);
  }
  SECTION("63-byte certificate") {
    auto f = base();
    f.mutable_register_()->set_transport_key_signature(std::string(63, 'a'));
    CHECK(rejection_of(serialise(f)).error == DecodeError::kBadLength);
  }
  SECTION("missing proof of possession") {
    auto f = base();
    f.mutable_register_()->clear_proof_of_possession();
    CHECK(rejection_of(serialise(f)).error == DecodeError::kBadLength);
  }
  SECTION("one-time prekey of 31 bytes") {
    auto f = base();
    f.mutable_register_()->mutable_one_time_prekeys(1)->set_public_key(std::string(31, 'a'));
    CHECK(rejection_of(serialise(f)).error == DecodeError::kBadLength);
  }
  SECTION("duplicate one-time prekey ids") {
    auto f = base();
    f.mutable_register_()->mutable_one_time_prekeys(1)->set_id(7);
    CHECK(rejection_of(serialise(f)).status == Status::kMalformed);
  }
  SECTION("empty signed prekey") {
    auto f = base();
    f.mutable_register_()->clear_signed_prekey();
    CHECK(rejection_of(serialise(f)).status == Status::kMalformed);
  }
  SECTION("recipient of 0 bytes") {
    wire::ClientFrame s;
    s.set_version(kWireVersion);
    s.mutable_send()->set_envelope("x");
    CHECK(rejection_of(serialise(s)).error == DecodeError::kBadLength);
  }
}

TEST_CASE("counts and sizes over their limits are too large", "[wire_codec]") {
  CodecLimits limits;
  limits.max_envelope = 10;
  limits.max_prekeys_per_request = 2;
  limits.max_acks_per_request = 3;
  limits.max_signed_prekey = 116;

  CHECK(rejection_of(encode_client_request({1, SendRequest{filled<IdentityKey>(1), Bytes(11, 0)}}),
                     limits)
            .status == Status::kTooLarge);
  CHECK(decode_client_frame(
            encode_client_request({1, SendRequest{filled<IdentityKey>(1), Bytes(10, 0)}}), limits)
            .ok());
  // An empty envelope is malformed, not "small".
  CHECK(
      rejection_of(encode_client_request({1, SendRequest{filled<IdentityKey>(1), Bytes{}}}), limits)
          .status == Status::kMalformed);

  UploadPreKeysRequest three{{{1, filled<X25519PublicKey>(1)},
                              {2, filled<X25519PublicKey>(2)},
                              {3, filled<X25519PublicKey>(3)}}};
  CHECK(rejection_of(encode_client_request({2, three}), limits).status == Status::kTooLarge);
  CHECK(rejection_of(encode_client_request({2, UploadPreKeysRequest{}}), limits).status ==
        Status::kMalformed);

  CHECK(rejection_of(encode_client_request({3, AckRequest{{1, 2, 3, 4}}}), limits).status ==
        Status::kTooLarge);
  CHECK(rejection_of(encode_client_request({3, AckRequest{}}), limits).status ==
        Status::kMalformed);

  CHECK(rejection_of(encode_client_request({4, RotateSignedPreKeyRequest{Bytes(117, 1)}}), limits)
            .status == Status::kTooLarge);
}

TEST_CASE("push_overhead bounds the encoded size of a push", "[wire_codec]") {
  for (std::size_t n : {1u, 3u, 50u}) {
    for (std::size_t len : {1u, 200u, 20000u}) {
      Push p;
      for (std::size_t i = 0; i < n; ++i)
        p.deliveries.push_back({(std::uint64_t{1} << 60) + i, Bytes(len, 1)});
      CHECK(encode_server_message(p).size() <= push_overhead(n) + n * len);
    }
  }
}

TEST_CASE("a push out of sequence order is refused by the client decoder", "[wire_codec]") {
  Push p{{{5, Bytes{1}}, {5, Bytes{2}}}};
  auto out = decode_server_frame(encode_server_message(p), CodecLimits{});
  CHECK_FALSE(out.ok());
}

// ---- version 2: batches ----

namespace {

std::vector<ClientRequest> sample_batch() {
  return {
      {10, GetPreKeyCountRequest{}},
      {11, SendRequest{filled<IdentityKey>(0x44), Bytes(300, 0x01)}},
      {12, AckRequest{{1, 2, std::uint64_t{1} << 40}}},
      {13, FetchBundleRequest{filled<IdentityKey>(0x33)}},
      {14, sample_register()},
  };
}

wire::ClientFrame inner_count(std::uint32_t version, std::uint64_t id) {
  wire::ClientFrame f;
  f.set_version(version);
  f.set_request_id(id);
  f.mutable_get_prekey_count();
  return f;
}

// A batch frame of `n` GetPreKeyCount requests, ids 1..n, all of `version`.
wire::ClientFrame batch_of(std::uint32_t version, std::size_t n, std::uint64_t outer_id = 0) {
  wire::ClientFrame f;
  f.set_version(version);
  f.set_request_id(outer_id);
  auto* b = f.mutable_batch();
  for (std::size_t i = 1; i <= n; ++i) *b->add_requests() = inner_count(version, i);
  return f;
}

FrameRejection frames_rejection(ByteView frame, const CodecLimits& limits = {}) {
  auto r = decode_client_frames(frame, limits);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

template <class M>
M parse_as(const Bytes& bytes) {
  M m;
  REQUIRE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return m;
}

}  // namespace

TEST_CASE("a batch round-trips through the codec, each request in order", "[wire_codec][batch]") {
  const auto in = sample_batch();
  const Bytes frame = encode_client_batch(in);
  const auto pb = parse_as<wire::ClientFrame>(frame);
  CHECK(pb.version() == kWireVersion);
  REQUIRE(pb.has_batch());
  CHECK(pb.batch().requests_size() == static_cast<int>(in.size()));
  auto out = decode_client_frames(frame, CodecLimits{});
  REQUIRE(out.ok());
  CHECK(out->version == kWireVersion);
  REQUIRE(out->requests.size() == in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    REQUIRE(out->requests[i].ok());
    CHECK(*out->requests[i] == in[i]);
  }
}

TEST_CASE("a single request is version 2 and decodes as one request of a frame",
          "[wire_codec][batch]") {
  const ClientRequest in{5, SendRequest{filled<IdentityKey>(0x44), Bytes{1, 2, 3}}};
  const Bytes frame = encode_client_request(in);
  CHECK(parse_as<wire::ClientFrame>(frame).version() == kWireVersion);
  auto out = decode_client_frames(frame, CodecLimits{});
  REQUIRE(out.ok());
  CHECK(out->version == kWireVersion);
  REQUIRE(out->requests.size() == 1);
  REQUIRE(out->requests[0].ok());
  CHECK(*out->requests[0] == in);
  // A version-1 frame still decodes, and says so.
  auto v1 = inner_count(kWireVersion1, 6);
  auto out1 = decode_client_frames(serialise(v1), CodecLimits{});
  REQUIRE(out1.ok());
  CHECK(out1->version == kWireVersion1);
  REQUIRE(out1->requests.size() == 1);
  REQUIRE(out1->requests[0].ok());
  CHECK(out1->requests[0]->request_id == 6);
}

TEST_CASE("a batch in a version-1 frame is malformed under the outer id", "[wire_codec][batch]") {
  auto f = batch_of(kWireVersion1, 2, 900);
  auto rej = frames_rejection(serialise(f));
  CHECK(rej.status == Status::kMalformed);
  CHECK(rej.request_id == std::optional<std::uint64_t>(900));
}

TEST_CASE("an empty batch is malformed under the outer id", "[wire_codec][batch]") {
  auto f = batch_of(kWireVersion, 0, 901);
  CHECK(f.has_batch());
  auto rej = frames_rejection(serialise(f));
  CHECK(rej.status == Status::kMalformed);
  CHECK(rej.request_id == std::optional<std::uint64_t>(901));
}

TEST_CASE("a batch over max_batch is too large under the outer id", "[wire_codec][batch]") {
  auto at_limit = decode_client_frames(serialise(batch_of(kWireVersion, kMaxBatch, 1)), {});
  REQUIRE(at_limit.ok());
  CHECK(at_limit->requests.size() == kMaxBatch);
  auto rej = frames_rejection(serialise(batch_of(kWireVersion, kMaxBatch + 1, 902)));
  CHECK(rej.status == Status::kTooLarge);
  CHECK(rej.request_id == std::optional<std::uint64_t>(902));
  // The limit is the codec's, not a constant.
  CodecLimits limits;
  limits.max_batch = 3;
  auto small = frames_rejection(serialise(batch_of(kWireVersion, 4, 903)), limits);
  CHECK(small.status == Status::kTooLarge);
  CHECK(small.request_id == std::optional<std::uint64_t>(903));
}

TEST_CASE("a batch frame of an unknown version is unsupported under the outer id",
          "[wire_codec][batch]") {
  for (std::uint32_t v : {0u, 3u, 0xffffffffu}) {
    auto rej = frames_rejection(serialise(batch_of(v, 2, 904)));
    CHECK(rej.status == Status::kUnsupportedVersion);
    CHECK(rej.request_id == std::optional<std::uint64_t>(904));
  }
}

TEST_CASE("an inner request of another version is refused alone, under its id",
          "[wire_codec][batch]") {
  auto f = batch_of(kWireVersion, 3, 905);
  f.mutable_batch()->mutable_requests(1)->set_version(kWireVersion1);
  auto out = decode_client_frames(serialise(f), CodecLimits{});
  REQUIRE(out.ok());
  REQUIRE(out->requests.size() == 3);
  CHECK(out->requests[0].ok());
  REQUIRE_FALSE(out->requests[1].ok());
  CHECK(out->requests[1].error().status == Status::kUnsupportedVersion);
  CHECK(out->requests[1].error().request_id == std::optional<std::uint64_t>(2));
  REQUIRE(out->requests[2].ok());
  CHECK(out->requests[2]->request_id == 3);
}

TEST_CASE("a batch inside a batch is malformed for that request, siblings decode",
          "[wire_codec][batch]") {
  auto f = batch_of(kWireVersion, 2, 906);
  auto* nested = f.mutable_batch()->add_requests();
  *nested = batch_of(kWireVersion, 2, 77);
  auto out = decode_client_frames(serialise(f), CodecLimits{});
  REQUIRE(out.ok());
  REQUIRE(out->requests.size() == 3);
  CHECK(out->requests[0].ok());
  CHECK(out->requests[1].ok());
  REQUIRE_FALSE(out->requests[2].ok());
  CHECK(out->requests[2].error().status == Status::kMalformed);
  CHECK(out->requests[2].error().request_id == std::optional<std::uint64_t>(77));
}

TEST_CASE("one bad request in a batch is refused alone, the others decode", "[wire_codec][batch]") {
  auto f = batch_of(kWireVersion, 3, 907);
  // The middle one: a Send whose recipient key is 31 bytes.
  auto* bad = f.mutable_batch()->mutable_requests(1);
  bad->mutable_send()->set_recipient(std::string(31, 'x'));
  bad->mutable_send()->set_envelope("e");
  // The last one: no request at all.
  f.mutable_batch()->mutable_requests(2)->clear_get_prekey_count();
  auto out = decode_client_frames(serialise(f), CodecLimits{});
  REQUIRE(out.ok());
  REQUIRE(out->requests.size() == 3);
  REQUIRE(out->requests[0].ok());
  CHECK(out->requests[0]->request_id == 1);
  CHECK(std::holds_alternative<GetPreKeyCountRequest>(out->requests[0]->request));
  REQUIRE_FALSE(out->requests[1].ok());
  CHECK(out->requests[1].error().status == Status::kMalformed);
  CHECK(out->requests[1].error().request_id == std::optional<std::uint64_t>(2));
  REQUIRE_FALSE(out->requests[2].ok());
  CHECK(out->requests[2].error().status == Status::kMalformed);
  CHECK(out->requests[2].error().request_id == std::optional<std::uint64_t>(3));
}

TEST_CASE("decode_client_frame refuses a batch", "[wire_codec][batch]") {
  auto rej = rejection_of(encode_client_batch(sample_batch()));
  CHECK(rej.status == Status::kMalformed);
  // Even a batch of one.
  const std::vector<ClientRequest> one = {{3, GetPreKeyCountRequest{}}};
  CHECK(rejection_of(encode_client_batch(one)).status == Status::kMalformed);
  auto frames = decode_client_frames(encode_client_batch(one), CodecLimits{});
  REQUIRE(frames.ok());
  CHECK(frames->batch);
  REQUIRE(frames->requests.size() == 1);
  CHECK(*frames->requests[0] == one[0]);
  // A plain frame is not a batch.
  auto plain = decode_client_frames(encode_client_request(one[0]), CodecLimits{});
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->batch);
}

namespace {

// Every frame within max_frame, at most max_batch requests each, and the ids in order.
std::size_t check_packed(const std::vector<Bytes>& frames, const std::vector<ClientRequest>& in,
                         const CodecLimits& limits) {
  std::size_t next = 0;
  for (const auto& frame : frames) {
    CHECK(frame.size() <= limits.max_frame);
    auto out = decode_client_frames(frame, limits);
    REQUIRE(out.ok());
    CHECK(out->version == kWireVersion);
    CHECK(out->requests.size() <= limits.max_batch);
    // A lone request is a plain frame, not a batch of one.
    CHECK(parse_as<wire::ClientFrame>(frame).has_batch() == (out->requests.size() > 1));
    for (const auto& r : out->requests) {
      REQUIRE(r.ok());
      REQUIRE(next < in.size());
      CHECK(*r == in[next]);
      ++next;
    }
  }
  CHECK(next == in.size());
  return frames.size();
}

}  // namespace

TEST_CASE("encode_client_requests packs up to max_batch requests to a frame",
          "[wire_codec][batch]") {
  // 3 full frames and a part, then exactly 4 full frames, then 4 and a lone last one.
  const std::uint64_t m = kMaxBatch;
  std::vector<ClientRequest> in;
  for (std::uint64_t id = 1; id <= 3 * m + 5; ++id) in.push_back({id, GetPreKeyCountRequest{}});
  const CodecLimits limits;
  CHECK(check_packed(encode_client_requests(in, limits), in, limits) == 4);
  for (std::uint64_t id = 3 * m + 6; id <= 4 * m + 1; ++id)
    in.push_back({id, GetPreKeyCountRequest{}});
  auto frames = encode_client_requests(in, limits);
  CHECK(check_packed(frames, in, limits) == 5);
  CHECK_FALSE(parse_as<wire::ClientFrame>(frames.back()).has_batch());
  in.pop_back();
  CHECK(check_packed(encode_client_requests(in, limits), in, limits) == 4);
}

TEST_CASE("encode_client_requests keeps every frame within max_frame", "[wire_codec][batch]") {
  const CodecLimits limits;
  // 30 KB envelopes: two fit a frame, three do not (7 requests: 4 frames).
  std::vector<ClientRequest> in;
  for (std::uint64_t id = 1; id <= 7; ++id)
    in.push_back({id, SendRequest{filled<IdentityKey>(static_cast<std::uint8_t>(id)),
                                  Bytes(30 * 1024, static_cast<std::uint8_t>(id))}});
  const auto frames = encode_client_requests(in, limits);
  CHECK(check_packed(frames, in, limits) == 4);
  // Mixed sizes up to 40 KB with small requests between them: never over the limit.
  std::vector<ClientRequest> mixed;
  std::uint64_t id = 1;
  for (std::size_t i = 0; i < 40; ++i) {
    const std::size_t len = (i * 7919) % 40000 + 1;
    mixed.push_back({id++, SendRequest{filled<IdentityKey>(1), Bytes(len, 2)}});
    mixed.push_back({id++, AckRequest{{i + 1}}});
  }
  check_packed(encode_client_requests(mixed, limits), mixed, limits);
  // A smaller max_frame: the packer follows it.
  CodecLimits tight;
  tight.max_frame = 4096;
  std::vector<ClientRequest> small;
  for (std::uint64_t k = 1; k <= 50; ++k)
    small.push_back({k, SendRequest{filled<IdentityKey>(3), Bytes(1000, 4)}});
  CHECK(check_packed(encode_client_requests(small, tight), small, tight) >= 13);
}

TEST_CASE("encode_client_requests sends a lone request as a plain frame", "[wire_codec][batch]") {
  const std::vector<ClientRequest> one = {{42, FetchBundleRequest{filled<IdentityKey>(5)}}};
  const auto frames = encode_client_requests(one, CodecLimits{});
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == encode_client_request(one[0]));
  CHECK(encode_client_requests({}, CodecLimits{}).empty());
}

TEST_CASE("Responses round-trip as a version-2 frame", "[wire_codec][batch]") {
  Bundle b{filled<IdentityKey>(7), 2, Bytes(116, 8), OneTimePreKey{9, filled<X25519PublicKey>(10)}};
  Responses rs{{Response{1, Status::kAccepted, std::nullopt, std::monostate{}},
                Response{2, Status::kOk, std::nullopt, b},
                Response{3, Status::kRateLimited, 700u, std::monostate{}},
                Response{4, Status::kOk, std::nullopt, PreKeyCount{5}}}};
  const Bytes frame = encode_server_message(rs);
  const auto pb = parse_as<wire::ServerFrame>(frame);
  CHECK(pb.version() == kWireVersion);
  CHECK(pb.responses().responses_size() == 4);
  auto out = decode_server_frame(frame, CodecLimits{});
  REQUIRE(out.ok());
  REQUIRE(std::holds_alternative<Responses>(*out));
  CHECK(std::get<Responses>(*out) == rs);
}

TEST_CASE("a Response or a Push is still encoded as a version-1 frame", "[wire_codec][batch]") {
  const auto r = parse_as<wire::ServerFrame>(
      encode_server_message(Response{1, Status::kOk, std::nullopt, PreKeyCount{2}}));
  CHECK(r.version() == kWireVersion1);
  CHECK(r.has_response());
  const auto p = parse_as<wire::ServerFrame>(encode_server_message(Push{{{1, Bytes{1, 2}}}}));
  CHECK(p.version() == kWireVersion1);
  CHECK(p.has_push());
}

namespace {

wire::ServerFrame responses_frame(std::uint32_t version, std::size_t n) {
  wire::ServerFrame f;
  f.set_version(version);
  auto* rs = f.mutable_responses();
  for (std::size_t i = 1; i <= n; ++i) {
    auto* r = rs->add_responses();
    r->set_request_id(i);
    r->set_status(wire::OK);
  }
  return f;
}

Result<ServerMessage, FrameRejection> decode_server(const wire::ServerFrame& f,
                                                    const CodecLimits& limits = {}) {
  std::string s = f.SerializeAsString();
  return decode_server_frame(Bytes(s.begin(), s.end()), limits);
}

}  // namespace

TEST_CASE("the client refuses Responses out of version 2 or out of 1..max_batch",
          "[wire_codec][batch]") {
  auto ok = decode_server(responses_frame(kWireVersion, kMaxBatch));
  REQUIRE(ok.ok());
  CHECK(std::get<Responses>(*ok).responses.size() == kMaxBatch);
  // In a version-1 frame.
  auto v1 = decode_server(responses_frame(kWireVersion1, 2));
  REQUIRE_FALSE(v1.ok());
  CHECK(v1.error().status == Status::kMalformed);
  // Empty.
  auto empty = decode_server(responses_frame(kWireVersion, 0));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().status == Status::kMalformed);
  // More than max_batch.
  CHECK_FALSE(decode_server(responses_frame(kWireVersion, kMaxBatch + 1)).ok());
  CodecLimits limits;
  limits.max_batch = 2;
  CHECK_FALSE(decode_server(responses_frame(kWireVersion, 3), limits).ok());
  // One bad response (an unknown status) refuses the frame.
  auto bad = responses_frame(kWireVersion, 3);
  bad.mutable_responses()->mutable_responses(1)->set_status(static_cast<wire::Status>(999));
  CHECK_FALSE(decode_server(bad).ok());
  // An unknown version.
  CHECK(decode_server(responses_frame(3, 2)).error().status == Status::kUnsupportedVersion);
}

TEST_CASE("a batch frame's bytes are as documented", "[wire_codec][batch]") {
  // docs/protocol.md 70.3, ClientBatch: GetPreKeyCount (id 7) and Ack{5} (id 8).
  const std::vector<ClientRequest> batch = {{7, GetPreKeyCountRequest{}}, {8, AckRequest{{5}}}};
  const Bytes expected = {0x08, 0x02, 0x92, 0x01, 0x14, 0x0a, 0x06, 0x08, 0x02,
                          0x10, 0x07, 0x62, 0x00, 0x0a, 0x0a, 0x08, 0x02, 0x10,
                          0x08, 0x82, 0x01, 0x03, 0x0a, 0x01, 0x05};
  CHECK(encode_client_batch(batch) == expected);
  auto decoded = decode_client_frames(expected, CodecLimits{});
  REQUIRE(decoded.ok());
  REQUIRE(decoded->requests.size() == 2);
  CHECK(*decoded->requests[0] == batch[0]);
  CHECK(*decoded->requests[1] == batch[1]);
  // Its answers as one Responses frame (3 one-time prekeys held).
  const Responses answers{{Response{7, Status::kOk, std::nullopt, PreKeyCount{3}},
                           Response{8, Status::kOk, std::nullopt, {}}}};
  const Bytes expected_answers = {0x08, 0x02, 0x22, 0x10, 0x0a, 0x08, 0x08, 0x07, 0x10, 0x01,
                                  0x52, 0x02, 0x08, 0x03, 0x0a, 0x04, 0x08, 0x08, 0x10, 0x01};
  CHECK(encode_server_message(answers) == expected_answers);
  auto back = decode_server_frame(expected_answers, CodecLimits{});
  REQUIRE(back.ok());
  CHECK(std::get<Responses>(*back) == answers);
}

TEST_CASE("response_size_bound is never below what a response adds to a Responses frame",
          "[wire_codec][batch]") {
  // The largest values of every field, and the smallest.
  Bundle big;
  big.identity_key = filled<IdentityKey>(0xff);
  big.device_id = 0xffffffff;
  big.signed_prekey = Bytes(512, 0xee);
  big.one_time_prekey = OneTimePreKey{0xffffffff, filled<X25519PublicKey>(0xdd)};
  Bundle small = big;
  small.one_time_prekey.reset();
  small.signed_prekey = Bytes(1, 1);
  const std::uint64_t max_id = ~std::uint64_t{0};
  const std::vector<Response> cases = {
      Response{0, Status::kOk, std::nullopt, {}},
      Response{max_id, Status::kUnsupportedVersion, std::nullopt, {}},
      Response{max_id, Status::kRateLimited, 0xffffffff, {}},
      Response{max_id, Status::kOk, std::nullopt, PreKeyCount{0xffffffff}},
      Response{max_id, Status::kOk, 0xffffffff, big},
      Response{1, Status::kOk, std::nullopt, small},
  };
  for (const auto& r : cases) {
    INFO("request id " << r.request_id << ", status " << to_string(r.status));
    // One entry alone, and the step from n to n + 1 entries.
    const std::size_t one = encode_server_message(Responses{{r}}).size();
    CHECK(one <= kResponsesOverhead + response_size_bound(r));
    std::vector<Response> many(kMaxBatch - 1, r);
    const std::size_t before = encode_server_message(Responses{many}).size();
    many.push_back(r);
    const std::size_t after = encode_server_message(Responses{many}).size();
    CHECK(after - before <= response_size_bound(r));
    CHECK(after <= kResponsesOverhead + kMaxBatch * response_size_bound(r));
  }
}
