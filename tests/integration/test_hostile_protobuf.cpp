// test_hostile_protobuf.cpp — hostile protobuf inside authenticated transport
// messages (issue 5, "Hostile input against the running relay"): truncated
// frames, bad varints, wrong and invalid wire types, deep nesting of unknown
// groups and messages, huge repeated fields, unknown fields, length-delimited
// fields claiming more bytes than present. The decoding order of
// docs/protocol.md section 70 7.2 fixes each answer: a frame that does
// not parse is MALFORMED under request id 0; one that parses is answered under
// its own id (UNSUPPORTED_VERSION, MALFORMED, TOO_LARGE). The connection stays
// up, nothing is stored, and Bystanders::after checks the relay afterwards.
#include <catch2/catch.hpp>

#include "integration/hostile_support.hpp"

using namespace sotto;
using namespace sotto::test;

namespace {

// The answer to `plaintext` sent as one transport message, expected under `id`.
relay::Response answer(RelayClient& c, ByteView plaintext, std::uint64_t id) {
  REQUIRE(c.send_plaintext(plaintext).ok());
  return must(c.wait_response(id));
}

relay::Status status_of(RelayClient& c, ByteView plaintext, std::uint64_t id) {
  return answer(c, plaintext, id).status;
}

// A GetPreKeyCount frame, ready for extra fields at the top level.
Pb count_frame(std::uint64_t id) {
  Pb f;
  f.u(wirefield::kVersion, 1).u(wirefield::kRequestId, id);
  return f;
}

}  // namespace

TEST_CASE("hostile: bad varints are MALFORMED under request id 0", "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // Eleven continuation bytes (a varint is at most ten), as the version ...
  Bytes v = {0x08};
  v.insert(v.end(), 11, 0xff);
  CHECK(status_of(c, v, 0) == relay::Status::kMalformed);
  // ... a varint cut off at the end of the frame, as the request id ...
  CHECK(status_of(c, Bytes{0x08, 0x01, 0x10, 0x87}, 0) == relay::Status::kMalformed);
  // ... a field tag that is itself an overlong varint, and a tag of field 0.
  Bytes t(11, 0xff);
  CHECK(status_of(c, t, 0) == relay::Status::kMalformed);
  CHECK(status_of(c, Bytes{0x00, 0x01}, 0) == relay::Status::kMalformed);
  // A ten-byte varint above 2^64 as the request id: protobuf keeps the low 64
  // bits (all ones); the frame has no request: MALFORMED under that id.
  Bytes big = {0x08, 0x01, 0x10};
  big.insert(big.end(), 9, 0xff);
  big.push_back(0x7f);
  CHECK(status_of(c, big, ~std::uint64_t{0}) == relay::Status::kMalformed);
  CHECK(must(c.prekey_count()) == 3);
  by.after(*relay);
}

TEST_CASE("hostile: every truncation of a Send is refused and nothing is stored",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device& mallory = by.sender;
  auto c = NoiseClient::connect_ik(*relay, mallory);
  const Bytes whole = relay::encode_client_request(
      {77, relay::SendRequest{by.receiver.id(), bytes_of("never delivered")}});
  // Cut after 0, 1, ..., n-1 bytes: the relay answers each in order. Cuts at a
  // field boundary parse (no version: UNSUPPORTED_VERSION; no request:
  // MALFORMED under the id); every other cut fails to parse (MALFORMED, id 0).
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    INFO("cut after " << cut << " of " << whole.size() << " bytes");
    REQUIRE(c.send(ByteView(whole).first(cut)));
    auto m = c.receive();
    REQUIRE(m.has_value());
    auto* r = std::get_if<relay::Response>(&*m);
    REQUIRE(r != nullptr);
    CHECK((r->status == relay::Status::kMalformed ||
           r->status == relay::Status::kUnsupportedVersion));
    CHECK((r->request_id == 0 || r->request_id == 77));
  }
  // No truncation queued anything: the receiver gets exactly what after() expects.
  by.after(*relay);
}

TEST_CASE("hostile: a length-delimited field claiming more bytes than present is MALFORMED",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // Send { recipient = 32 bytes, envelope claims 1000 bytes, 10 present }.
  Pb send;
  send.bytes(1, by.receiver.id().view()).tag(2, 2).varint(1000).raw(Bytes(10, 0x42));
  Pb f = count_frame(3);
  f.tag(wirefield::kSend, 2).varint(send.b.size()).raw(send.b);
  CHECK(status_of(c, f.b, 0) == relay::Status::kMalformed);
  // The outer Send claims more than the frame holds.
  Pb g = count_frame(4);
  g.tag(wirefield::kSend, 2).varint(60000).raw(send.b);
  CHECK(status_of(c, g.b, 0) == relay::Status::kMalformed);
  // A length of 2^32 + 5 and one of 2^63 (negative as a signed size).
  for (std::uint64_t len : {(std::uint64_t{1} << 32) + 5, std::uint64_t{1} << 63}) {
    Pb h = count_frame(5);
    h.tag(wirefield::kSend, 2).varint(len).raw(send.b);
    CHECK(status_of(c, h.b, 0) == relay::Status::kMalformed);
  }
  // A packed repeated field (Ack.sequences) whose length overruns.
  Pb ack;
  ack.tag(1, 2).varint(50).raw(Bytes{0x01, 0x02});
  CHECK(status_of(c, client_frame(6, wirefield::kAck, ack), 0) == relay::Status::kMalformed);
  by.after(*relay);
}

TEST_CASE("hostile: wrong wire types are refused with a status", "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // Wire types 6 and 7 do not exist; 4 (end group) without a start: no parse.
  for (std::uint32_t wt : {6u, 7u, 4u}) {
    Pb f = count_frame(10);
    f.tag(wirefield::kGetCount, wt).varint(0);
    INFO("wire type " << wt);
    CHECK(status_of(c, f.b, 0) == relay::Status::kMalformed);
  }
  // A known field with another valid wire type is an unknown field to protobuf:
  // the request field as a varint leaves no request (MALFORMED under the id) ...
  Pb f = count_frame(11);
  f.u(wirefield::kSend, 1);
  CHECK(status_of(c, f.b, 11) == relay::Status::kMalformed);
  // ... the version as fixed32 leaves version 0 (UNSUPPORTED_VERSION under the id) ...
  Pb v;
  v.tag(wirefield::kVersion, 5).raw(Bytes{1, 0, 0, 0}).u(wirefield::kRequestId, 12);
  v.msg(wirefield::kGetCount, Pb{});
  CHECK(status_of(c, v.b, 12) == relay::Status::kUnsupportedVersion);
  // ... and Send.recipient as a varint leaves no recipient (MALFORMED, bad length).
  Pb send;
  send.u(1, 42).bytes(2, bytes_of("envelope"));
  CHECK(status_of(c, client_frame(13, wirefield::kSend, send), 13) == relay::Status::kMalformed);
  by.after(*relay);
}

TEST_CASE("hostile: deeply nested unknown groups are refused without harm",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // Field 100 as start group / end group, nested `depth` deep, at the top
  // level and inside the request: protobuf's recursion limit (100) refuses it.
  for (std::size_t depth : {101u, 1000u, 15000u}) {
    Pb nest;
    for (std::size_t i = 0; i < depth; ++i) nest.tag(100, 3);
    for (std::size_t i = 0; i < depth; ++i) nest.tag(100, 4);
    Pb top = count_frame(20);
    top.raw(nest.b).msg(wirefield::kGetCount, Pb{});
    INFO("depth " << depth);
    CHECK(status_of(c, top.b, 0) == relay::Status::kMalformed);
    Pb inner = count_frame(21);
    inner.msg(wirefield::kGetCount, nest);
    CHECK(status_of(c, inner.b, 0) == relay::Status::kMalformed);
  }
  // Start groups that never end.
  Pb open = count_frame(22);
  for (int i = 0; i < 20000; ++i) open.tag(100, 3);
  CHECK(status_of(c, open.b, 0) == relay::Status::kMalformed);
  // Shallow unknown groups are skipped like any unknown field: served.
  Pb shallow = count_frame(23);
  for (int i = 0; i < 10; ++i) shallow.tag(100, 3);
  for (int i = 0; i < 10; ++i) shallow.tag(100, 4);
  shallow.msg(wirefield::kGetCount, Pb{});
  CHECK(status_of(c, shallow.b, 23) == relay::Status::kOk);
  by.after(*relay);
}

TEST_CASE("hostile: deeply nested unknown length-delimited messages are skipped, not parsed",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // An unknown field 100 holding a message holding field 100 ... 10000 deep:
  // to protobuf an unknown length-delimited field is opaque bytes.
  Pb nest;
  for (int i = 0; i < 10000; ++i) {
    Pb outer;
    outer.msg(100, nest);
    nest = std::move(outer);
  }
  REQUIRE(nest.b.size() < 60000);
  Pb f = count_frame(30);
  f.raw(nest.b).msg(wirefield::kGetCount, Pb{});
  auto r = answer(c, f.b, 30);
  CHECK(r.status == relay::Status::kOk);
  CHECK(std::get<relay::PreKeyCount>(r.result).count == 3);
  by.after(*relay);
}

TEST_CASE("hostile: huge repeated fields are TOO_LARGE or skipped, never stored",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // Ack of 30000 sequences, packed (1 byte each) and unpacked (2 bytes each).
  Pb packed_body;
  for (int i = 0; i < 30000; ++i) packed_body.varint(1);
  Pb packed;
  packed.bytes(1, packed_body.b);
  CHECK(status_of(c, client_frame(40, wirefield::kAck, packed), 40) == relay::Status::kTooLarge);
  Pb unpacked;
  for (int i = 0; i < 25000; ++i) unpacked.u(1, 1);
  CHECK(status_of(c, client_frame(41, wirefield::kAck, unpacked), 41) == relay::Status::kTooLarge);
  // 101 one-time prekeys in an upload and in a registration.
  Pb upload;
  for (std::uint32_t i = 0; i < 101; ++i) {
    Pb k;
    k.u(1, 1000 + i).bytes(2, mallory.add_prekeys(1).front().key.view());
    upload.msg(1, k);
  }
  CHECK(status_of(c, client_frame(42, wirefield::kUpload, upload), 42) == relay::Status::kTooLarge);
  Pb reg_body;
  reg_body.bytes(1, mallory.id().view()).u(2, 1).bytes(3, mallory.transport.public_key.view());
  reg_body.bytes(4, Bytes(64, 0)).bytes(5, encode_signed_prekey(mallory.signed_prekey.public_key));
  for (std::uint32_t i = 0; i < 101; ++i) {
    Pb k;
    k.u(1, 5000 + i).bytes(2, mallory.add_prekeys(1).front().key.view());
    reg_body.msg(6, k);
  }
  reg_body.bytes(7, Bytes(64, 0));
  CHECK(status_of(c, client_frame(43, wirefield::kRegister, reg_body), 43) ==
        relay::Status::kTooLarge);
  // 20000 repeated unknown fields are skipped: the request is served.
  Pb noise_fields = count_frame(44);
  for (int i = 0; i < 20000; ++i) noise_fields.u(99, 1);
  noise_fields.msg(wirefield::kGetCount, Pb{});
  CHECK(status_of(c, noise_fields.b, 44) == relay::Status::kOk);
  // Nothing was added by the refused upload.
  CHECK(must(c.prekey_count()) == 3);
  by.after(*relay);
}

TEST_CASE("hostile: unknown fields of every wire type are ignored, the request is served as sent",
          "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  auto c = by.sender.connect(*relay);
  auto unknowns = [] {
    Pb u;
    u.u(50, 123456789).tag(51, 1).raw(Bytes(8, 0xaa)).bytes(52, bytes_of("opaque"));
    u.tag(53, 5).raw(Bytes(4, 0xbb)).tag(54, 3).u(1, 1).tag(54, 4);
    return u;
  };
  // A Send with unknown fields around and inside it: ACCEPTED, and the
  // envelope is delivered byte for byte (the unknown fields are not stored).
  Pb send = unknowns();
  send.bytes(1, by.receiver.id().view()).bytes(2, bytes_of("with unknown fields"));
  send.raw(unknowns().b);
  Pb f = unknowns();
  f.u(wirefield::kVersion, 1).u(wirefield::kRequestId, 60).msg(wirefield::kSend, send);
  f.raw(unknowns().b);
  CHECK(status_of(c, f.b, 60) == relay::Status::kAccepted);
  by.accepted.push_back(bytes_of("with unknown fields"));
  // A request field number this relay does not know (a newer schema's): MALFORMED.
  Pb newer = count_frame(61);
  newer.msg(18, Pb{});
  CHECK(status_of(c, newer.b, 61) == relay::Status::kMalformed);
  by.after(*relay);
}

TEST_CASE("hostile: versions and request ids at their extremes", "[integration][hostile]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Bystanders by;
  by.before(*relay);
  Device mallory;
  auto c = mallory.connect_registered(*relay);
  // An empty transport message parses as a frame with version 0.
  CHECK(status_of(c, Bytes{}, 0) == relay::Status::kUnsupportedVersion);
  for (std::uint64_t version : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{0xffffffff}}) {
    Pb f;
    f.u(wirefield::kVersion, version).u(wirefield::kRequestId, 70).msg(wirefield::kGetCount, Pb{});
    INFO("version " << version);
    CHECK(status_of(c, f.b, 70) == relay::Status::kUnsupportedVersion);
  }
  // The largest request id is echoed.
  const std::uint64_t max_id = ~std::uint64_t{0};
  auto r = answer(c, client_frame(max_id, wirefield::kGetCount, Pb{}), max_id);
  CHECK(r.status == relay::Status::kOk);
  // Two requests in one frame (protobuf merges them: the last oneof wins): one answer.
  Pb two = count_frame(71);
  two.msg(wirefield::kGetCount, Pb{});
  Pb fetch;
  fetch.bytes(1, by.receiver.id().view());
  two.msg(wirefield::kFetch, fetch);
  auto both = answer(c, two.b, 71);
  CHECK(both.status == relay::Status::kOk);
  CHECK(std::holds_alternative<relay::Bundle>(both.result));
  by.after(*relay);
}
