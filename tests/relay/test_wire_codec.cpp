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
  f.set_version(2);
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
