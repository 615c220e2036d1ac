// test_x3dh.cpp — X3DH: both sides agree, keys are independent, the responder
// rejects headers that do not match its keys, the header encoding, and the
// committed vectors in tests/vectors/x3dh.json (common/x3dh.*).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/rng.hpp"
#include "common/x3dh.hpp"

using namespace sotto;

namespace {

constexpr std::uint64_t kNow = 1700000000;

struct Bob {
  IdentityKeyPair ik;
  SignedPreKeyPair spk;
  OneTimePreKeyPair opk;
};

Bob make_bob(Rng& rng) {
  IdentityKeyPair ik = generate_identity(rng);
  SignedPreKeyPair spk = generate_signed_prekey(ik, 7, kNow, rng);
  OneTimePreKeyPair opk = generate_one_time_prekey(1001, rng);
  return Bob{std::move(ik), std::move(spk), std::move(opk)};
}

VerifiedBundle verified_bundle(const Bob& bob, bool with_opk) {
  PreKeyBundle bundle{bob.ik.public_key, bob.spk.public_key, std::nullopt};
  if (with_opk) bundle.one_time_prekey = bob.opk.public_key;
  auto decoded = decode_bundle(encode_bundle(bundle));
  REQUIRE(decoded.ok());
  auto v = verify_bundle(*decoded, kNow + 1);
  REQUIRE(v.ok());
  return *v;
}

X25519PublicKey x_from_hex(const std::string& h) {
  auto b = from_hex(h);
  REQUIRE(b);
  auto k = X25519PublicKey::from(*b);
  REQUIRE(k);
  return *k;
}

Bytes hex_bytes(const nlohmann::json& v) {
  auto b = from_hex(v.get<std::string>());
  REQUIRE(b);
  return *b;
}

template <class S>
S secret_from_hex(const nlohmann::json& v) {
  Bytes b = hex_bytes(v);
  S s = S::copy_of(b);
  std::fill(b.begin(), b.end(), std::uint8_t{0});
  return s;
}

}  // namespace

TEST_CASE("X3DH: initiator and responder derive the same SK and AD", "[x3dh]") {
  SeededRng rng(100);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  for (bool with_opk : {true, false}) {
    INFO("with_opk " << with_opk);
    VerifiedBundle bundle = verified_bundle(bob, with_opk);
    auto init = x3dh_initiate(alice, bundle, rng);
    REQUIRE(init.ok());
    CHECK(init->header.initiator_identity == alice.public_key);
    CHECK(init->header.signed_prekey_id == 7);
    CHECK(init->header.one_time_prekey_id.has_value() == with_opk);
    if (with_opk) CHECK(*init->header.one_time_prekey_id == 1001);
    CHECK(init->remote_ratchet_key == bob.spk.public_key.key);
    CHECK(init->ad == concat(alice.public_key.view(), bob.ik.public_key.view()));
    CHECK(init->ad.size() == kX3dhAdSize);
    CHECK_FALSE(crypto::is_zero(init->sk.view()));

    // The header travels as bytes.
    auto header = decode_x3dh_header(encode_x3dh_header(init->header));
    REQUIRE(header.ok());
    auto resp = x3dh_respond(bob.ik, bob.spk, with_opk ? &bob.opk : nullptr, *header);
    REQUIRE(resp.ok());
    CHECK(resp->sk.equals(init->sk));
    CHECK(resp->ad == init->ad);
  }
}

TEST_CASE("X3DH: different inputs give independent SKs", "[x3dh]") {
  SeededRng rng(101);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  IdentityKeyPair carol = generate_identity(rng);
  VerifiedBundle with = verified_bundle(bob, true);
  VerifiedBundle without = verified_bundle(bob, false);

  std::vector<X3dhSharedKey> keys;
  const X25519KeyPair ek1 = crypto::x25519_generate(rng);
  const X25519KeyPair ek2 = crypto::x25519_generate(rng);
  auto add = [&](Result<X3dhInitiated, ProtocolError> r) {
    REQUIRE(r.ok());
    keys.push_back(std::move(r->sk));
  };
  add(x3dh_initiate_with_ephemeral(alice, with, ek1));
  add(x3dh_initiate_with_ephemeral(alice, without, ek1));  // DH4 left out
  add(x3dh_initiate_with_ephemeral(alice, with, ek2));     // another ephemeral
  add(x3dh_initiate_with_ephemeral(carol, with, ek1));     // another initiator
  add(x3dh_initiate(alice, with, rng));                    // fresh random ephemeral
  add(x3dh_initiate(alice, with, rng));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = i + 1; j < keys.size(); ++j) {
      INFO(i << " vs " << j);
      CHECK_FALSE(keys[i].equals(keys[j]));
    }
  }
  // The same inputs give the same key (deterministic given EK).
  auto again = x3dh_initiate_with_ephemeral(alice, with, ek1);
  REQUIRE(again.ok());
  CHECK(again->sk.equals(keys[0]));
}

TEST_CASE("X3DH: a responder with other keys derives another SK", "[x3dh]") {
  SeededRng rng(102);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  auto init = x3dh_initiate(alice, verified_bundle(bob, true), rng);
  REQUIRE(init.ok());

  // Same ids, different private keys (a replaced SPK, a substituted OPK, another IK).
  SignedPreKeyPair other_spk = generate_signed_prekey(bob.ik, 7, kNow, rng);
  OneTimePreKeyPair other_opk = generate_one_time_prekey(1001, rng);
  IdentityKeyPair other_ik = generate_identity(rng);
  auto r1 = x3dh_respond(bob.ik, other_spk, &bob.opk, init->header);
  auto r2 = x3dh_respond(bob.ik, bob.spk, &other_opk, init->header);
  auto r3 = x3dh_respond(other_ik, bob.spk, &bob.opk, init->header);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  REQUIRE(r3.ok());
  CHECK_FALSE(r1->sk.equals(init->sk));
  CHECK_FALSE(r2->sk.equals(init->sk));
  CHECK_FALSE(r3->sk.equals(init->sk));
  CHECK(r3->ad != init->ad);
}

TEST_CASE("X3DH: a relay that substitutes the unsigned one-time prekey breaks the session",
          "[x3dh][tamper]") {
  // The OPK is not signed (as in Signal), so verify_bundle cannot see a flipped
  // bit in it; the responder then derives a different SK (or does not know the
  // id), and the first message fails to decrypt.
  SeededRng rng(103);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  PreKeyBundle bundle{bob.ik.public_key, bob.spk.public_key, bob.opk.public_key};
  const Bytes enc = encode_bundle(bundle);
  const X25519KeyPair ek = crypto::x25519_generate(rng);
  for (std::size_t bit = kBundleSizeWithoutOneTime * 8; bit < enc.size() * 8; ++bit) {
    Bytes t = enc;
    t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    auto decoded = decode_bundle(t);
    REQUIRE(decoded.ok());
    auto verified = verify_bundle(*decoded, kNow + 1);
    if (!verified.ok()) continue;  // e.g. the flip made the key non-canonical
    auto init = x3dh_initiate_with_ephemeral(alice, *verified, ek);
    REQUIRE(init.ok());
    auto resp = x3dh_respond(bob.ik, bob.spk, &bob.opk, init->header);
    INFO("bit " << bit);
    if (resp.ok()) {
      CHECK_FALSE(resp->sk.equals(init->sk));
    } else {
      CHECK(resp.error() == ProtocolError::kUnknownPrekey);
    }
  }
}

TEST_CASE("X3DH: responder rejects headers that do not match its keys", "[x3dh]") {
  SeededRng rng(104);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  auto with = x3dh_initiate(alice, verified_bundle(bob, true), rng);
  auto without = x3dh_initiate(alice, verified_bundle(bob, false), rng);
  REQUIRE(with.ok());
  REQUIRE(without.ok());

  // Wrong signed prekey id.
  X3dhHeader h = with->header;
  h.signed_prekey_id = 8;
  CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, h).error() == ProtocolError::kUnknownPrekey);
  // Header names a one-time prekey the caller does not hold (already used).
  CHECK(x3dh_respond(bob.ik, bob.spk, nullptr, with->header).error() ==
        ProtocolError::kUnknownPrekey);
  // Header names no one-time prekey but the caller passed one.
  CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, without->header).error() ==
        ProtocolError::kUnknownPrekey);
  // Wrong one-time prekey id.
  X3dhHeader h2 = with->header;
  h2.one_time_prekey_id = 1002;
  CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, h2).error() == ProtocolError::kUnknownPrekey);
  // The matching call still works.
  CHECK(x3dh_respond(bob.ik, bob.spk, nullptr, without->header).ok());
}

TEST_CASE("X3DH: responder rejects low-order ephemeral keys and bad initiator identities",
          "[x3dh]") {
  SeededRng rng(105);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  auto init = x3dh_initiate(alice, verified_bundle(bob, true), rng);
  REQUIRE(init.ok());
  for (const char* h : {"0000000000000000000000000000000000000000000000000000000000000000",
                        "0100000000000000000000000000000000000000000000000000000000000000",
                        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
                        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
                        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                        "0000000000000000000000000000000000000000000000000000000000000080"}) {
    X3dhHeader bad = init->header;
    bad.ephemeral = x_from_hex(h);
    INFO(h);
    CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, bad).error() == ProtocolError::kLowOrderKey);
  }
  // A non-canonical ephemeral key (bit 255 set on a good key).
  X3dhHeader nc = init->header;
  nc.ephemeral.bytes[31] |= 0x80;
  CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, nc).error() == ProtocolError::kMalformed);
  // A small-order initiator identity key.
  X3dhHeader bad_ik = init->header;
  bad_ik.initiator_identity = *Ed25519PublicKey::from(
      *from_hex("0100000000000000000000000000000000000000000000000000000000000000"));
  CHECK(x3dh_respond(bob.ik, bob.spk, &bob.opk, bad_ik).error() == ProtocolError::kMalformed);
}

TEST_CASE("X3DH header: layout, round trip and decode errors", "[x3dh][encoding]") {
  SeededRng rng(106);
  Bob bob = make_bob(rng);
  IdentityKeyPair alice = generate_identity(rng);
  for (bool with_opk : {true, false}) {
    auto init = x3dh_initiate(alice, verified_bundle(bob, with_opk), rng);
    REQUIRE(init.ok());
    const Bytes enc = encode_x3dh_header(init->header);
    CHECK(enc.size() == (with_opk ? 74u : 70u));
    CHECK(enc[0] == 0x01);
    CHECK(enc[1] == (with_opk ? 0x01 : 0x00));
    CHECK(Bytes(enc.begin() + 2, enc.begin() + 34) ==
          Bytes(alice.public_key.bytes.begin(), alice.public_key.bytes.end()));
    CHECK(get_u32be(enc.data() + 66) == 7);
    if (with_opk) CHECK(get_u32be(enc.data() + 70) == 1001);
    auto back = decode_x3dh_header(enc);
    REQUIRE(back.ok());
    CHECK(*back == init->header);

    for (std::size_t n = 0; n < enc.size(); ++n) {
      INFO("n " << n);
      CHECK(decode_x3dh_header(ByteView(enc).first(n)).error() == DecodeError::kTruncated);
    }
    CHECK(decode_x3dh_header(concat(enc, Bytes{0})).error() == DecodeError::kBadLength);
    Bytes v = enc;
    v[0] = 0x02;
    CHECK(decode_x3dh_header(v).error() == DecodeError::kBadVersion);
    for (int bit = 1; bit < 8; ++bit) {
      Bytes f = enc;
      f[1] = static_cast<std::uint8_t>(f[1] | (1u << bit));
      CHECK(decode_x3dh_header(f).error() == DecodeError::kMalformed);
    }
    // Flipping the presence flag changes the expected length.
    Bytes flip = enc;
    flip[1] ^= 0x01;
    CHECK(decode_x3dh_header(flip).error() ==
          (with_opk ? DecodeError::kBadLength : DecodeError::kTruncated));
  }
}

TEST_CASE("X3DH vectors: SK and AD re-derived from the recorded private inputs",
          "[x3dh][vectors]") {
  const std::filesystem::path path =
      std::filesystem::path(SOTTO_SOURCE_DIR) / "tests" / "vectors" / "x3dh.json";
  std::ifstream in(path);
  REQUIRE(in.good());
  const auto doc = nlohmann::json::parse(in);
  REQUIRE(doc.contains("description"));
  const auto& cases = doc["cases"];
  REQUIRE(cases.size() == 2);
  int with_opk_cases = 0;
  for (const auto& c : cases) {
    INFO(c["name"].get<std::string>());
    const bool with_opk = !c["one_time_prekey_secret"].is_null();
    with_opk_cases += with_opk ? 1 : 0;

    // Private inputs -> public keys.
    const IdentityKeyPair ik_a =
        identity_from_seed(secret_from_hex<Ed25519Seed>(c["identity_a_seed"]));
    const IdentityKeyPair ik_b =
        identity_from_seed(secret_from_hex<Ed25519Seed>(c["identity_b_seed"]));
    CHECK(to_hex(ik_a.public_key.view()) == c["identity_a_public"]);
    CHECK(to_hex(ik_b.public_key.view()) == c["identity_b_public"]);
    CHECK(to_hex(identity_dh_secret(ik_a).view()) == c["identity_a_x25519_secret"]);
    CHECK(to_hex(identity_dh_secret(ik_b).view()) == c["identity_b_x25519_secret"]);
    CHECK(to_hex(identity_dh_public(ik_b.public_key)->view()) == c["identity_b_x25519_public"]);

    const SignedPreKeyPair spk =
        signed_prekey_from_secret(ik_b, c["signed_prekey_id"].get<PreKeyId>(),
                                  c["signed_prekey_created_at"].get<std::uint64_t>(),
                                  c["signed_prekey_expires_at"].get<std::uint64_t>(),
                                  secret_from_hex<X25519SecretKey>(c["signed_prekey_secret"]));
    CHECK(to_hex(spk.public_key.key.view()) == c["signed_prekey_public"]);
    CHECK(to_hex(signed_prekey_signed_bytes(spk.public_key.id, spk.public_key.created_at,
                                            spk.public_key.expires_at, spk.public_key.key)) ==
          c["signed_prekey_signed_bytes"]);
    CHECK(to_hex(spk.public_key.signature.view()) == c["signed_prekey_signature"]);
    std::optional<OneTimePreKeyPair> opk;
    if (with_opk) {
      opk = one_time_prekey_from_secret(
          c["one_time_prekey_id"].get<PreKeyId>(),
          secret_from_hex<X25519SecretKey>(c["one_time_prekey_secret"]));
      CHECK(to_hex(opk->public_key.key.view()) == c["one_time_prekey_public"]);
    }
    const X25519KeyPair ek =
        crypto::x25519_from_secret(secret_from_hex<X25519SecretKey>(c["ephemeral_secret"]));
    CHECK(to_hex(ek.public_key.view()) == c["ephemeral_public"]);

    // The recorded bundle decodes, verifies, and equals our own encoding.
    const Bytes bundle_bytes = hex_bytes(c["bundle"]);
    PreKeyBundle mine{ik_b.public_key, spk.public_key, std::nullopt};
    if (opk) mine.one_time_prekey = opk->public_key;
    CHECK(encode_bundle(mine) == bundle_bytes);
    auto decoded = decode_bundle(bundle_bytes);
    REQUIRE(decoded.ok());
    auto verified = verify_bundle(*decoded, c["verify_time"].get<std::uint64_t>());
    REQUIRE(verified.ok());

    // DH1..DH4 from the recorded secrets.
    auto dh = [](const X25519SecretKey& s, const X25519PublicKey& p) {
      auto r = crypto::x25519(s, p);
      REQUIRE(r.ok());
      return to_hex(r->view());
    };
    CHECK(dh(identity_dh_secret(ik_a), spk.public_key.key) == c["dh1"]);
    CHECK(dh(ek.secret, verified->identity_dh()) == c["dh2"]);
    CHECK(dh(ek.secret, spk.public_key.key) == c["dh3"]);
    if (opk) {
      CHECK(dh(ek.secret, opk->public_key.key) == c["dh4"]);
      // The responder's side of DH4.
      CHECK(dh(opk->secret, ek.public_key) == c["dh4"]);
    } else {
      CHECK(c["dh4"].is_null());
    }

    // Initiator: SK, AD and the header bytes.
    auto init = x3dh_initiate_with_ephemeral(ik_a, *verified, ek);
    REQUIRE(init.ok());
    CHECK(to_hex(init->sk.view()) == c["sk"]);
    CHECK(to_hex(init->ad) == c["ad"]);
    const Bytes header_bytes = hex_bytes(c["header"]);
    CHECK(encode_x3dh_header(init->header) == header_bytes);

    // Responder: from the recorded header bytes.
    auto header = decode_x3dh_header(header_bytes);
    REQUIRE(header.ok());
    auto resp = x3dh_respond(ik_b, spk, opk ? &*opk : nullptr, *header);
    REQUIRE(resp.ok());
    CHECK(to_hex(resp->sk.view()) == c["sk"]);
    CHECK(to_hex(resp->ad) == c["ad"]);
  }
  CHECK(with_opk_cases == 1);
}
