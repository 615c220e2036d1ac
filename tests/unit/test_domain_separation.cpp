// test_domain_separation.cpp — cross-protocol reuse of the identity key
// (docs/threat-model.md, "Attacks and where they are tested").
//
// One Ed25519 identity key IK does four jobs by signature — it signs signed
// prekeys (protocol.md 20.2), the transport-key certificate, the registration
// proof and the account-deletion proof (70.4) — and its X25519 form is a DH
// input of X3DH (20.7) and of the envelope's static layer (40.4). These tests
// show that a signature made for one job never verifies for another (each
// signed layout starts with its own label, and no label is a prefix of
// another), and that the DH uses derive their keys under their own labels.
#include <catch2/catch.hpp>

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/envelope.hpp"
#include "common/identity.hpp"
#include "common/noise.hpp"
#include "common/prekeys.hpp"
#include "common/ratchet_keys.hpp"
#include "common/relay_auth.hpp"
#include "common/rng.hpp"
#include "common/x3dh.hpp"

using namespace sotto;

namespace {

constexpr std::uint64_t kCreated = 1'750'000'000;
constexpr std::uint64_t kExpires = kCreated + 30 * 86'400;

bool is_prefix(std::string_view a, std::string_view b) {
  return b.size() >= a.size() && b.substr(0, a.size()) == a;
}

}  // namespace

TEST_CASE("a signature by the identity key verifies for its own purpose only",
          "[domain_separation][signatures]") {
  SeededRng rng(0xD5'01);
  const IdentityKeyPair ik = generate_identity(rng);
  // The same 32 bytes serve as signed prekey and as transport key, the same
  // number as prekey id and device id, so the signed layouts overlap as much
  // as the protocol allows: only the labels (and the layouts) tell them apart.
  const X25519PublicKey key = crypto::x25519_generate(rng).public_key;
  const std::uint32_t id = 7;
  std::array<std::uint8_t, relay_auth::kHandshakeHashSize> h{};
  rng.fill(h);

  struct Purpose {
    std::string name;
    Ed25519Signature signature;
    std::function<bool(const Ed25519Signature&)> verifies;
  };
  const SignedPreKeyPublic spk = sign_prekey(ik, id, kCreated, kExpires, key);
  std::vector<Purpose> purposes = {
      {"signed prekey (Sotto/v1/SignedPreKey)", spk.signature,
       [&](const Ed25519Signature& s) {
         SignedPreKeyPublic p = spk;
         p.signature = s;
         return verify_signed_prekey(ik.public_key, p).ok();
       }},
      {"transport key (Sotto/v1/TransportKey)", relay_auth::sign_transport_key(ik, key, id),
       [&](const Ed25519Signature& s) {
         return relay_auth::verify_transport_key(ik.public_key, key, id, s);
       }},
      {"registration (Sotto/v1/Register)", relay_auth::sign_registration(ik, h, key, id),
       [&](const Ed25519Signature& s) {
         return relay_auth::verify_registration(ik.public_key, h, key, id, s);
       }},
      {"account deletion (Sotto/v1/DeleteAccount)", relay_auth::sign_delete_account(ik, h),
       [&](const Ed25519Signature& s) {
         return relay_auth::verify_delete_account(ik.public_key, h, s);
       }},
  };
  for (const Purpose& made : purposes) {
    for (const Purpose& checked : purposes) {
      INFO("made for " << made.name << ", checked as " << checked.name);
      CHECK(checked.verifies(made.signature) == (&made == &checked));
    }
  }
}

TEST_CASE("signature and KDF labels are distinct and none is a prefix of another",
          "[domain_separation][labels]") {
  // Every label is followed by variable data without a length, so a label
  // that was a prefix of another could make one layout parse as the other.
  // The envelope labels are private to envelope.cpp: the next test pins them.
  const std::vector<std::string_view> labels = {
      kSignedPreKeyLabel,
      relay_auth::kTransportKeyLabel,
      relay_auth::kRegisterLabel,
      relay_auth::kDeleteAccountLabel,
      kX3dhInfo,
      ratchet::kRootKdfLabel,
      ratchet::kMessageKdfLabel,
      "Sotto/v1/Envelope/Ephemeral",
      "Sotto/v1/Envelope/Static",
      "Sotto/v1/SafetyNumber",
      noise::kSottoPrologue,
  };
  for (std::size_t i = 0; i < labels.size(); ++i) {
    INFO(labels[i]);
    CHECK(is_prefix("Sotto/v1/", labels[i]));
    for (std::size_t j = 0; j < labels.size(); ++j) {
      if (i == j) continue;
      INFO("against " << labels[j]);
      CHECK_FALSE(is_prefix(labels[i], labels[j]));
    }
  }
}

TEST_CASE("the identity key's DH uses derive their keys under their own labels",
          "[domain_separation][kdf]") {
  SeededRng rng(0xD5'03);
  const IdentityKeyPair alice = generate_identity(rng);
  const IdentityKeyPair bob = generate_identity(rng);
  const SignedPreKeyPair spk = generate_signed_prekey(bob, 1, kCreated, rng);
  auto verified =
      verify_bundle(PreKeyBundle{bob.public_key, spk.public_key, std::nullopt}, kCreated + 60);
  REQUIRE(verified.ok());
  const X25519KeyPair ek = crypto::x25519_generate(rng);
  const X25519SecretKey ik_a = identity_dh_secret(alice);
  auto ik_b = identity_dh_public(bob.public_key);
  REQUIRE(ik_b.ok());

  // X3DH (20.7): SK = HKDF(0^32, 0xFF*32 || DH1 || DH2 || DH3, "Sotto/v1/X3DH", 32),
  // with DH1 = DH(x(IK_A), SPK_B) and DH2 = DH(EK_A, x(IK_B)).
  auto dh1 = crypto::x25519(ik_a, spk.public_key.key);
  auto dh2 = crypto::x25519(ek.secret, *ik_b);
  auto dh3 = crypto::x25519(ek.secret, spk.public_key.key);
  REQUIRE((dh1.ok() && dh2.ok() && dh3.ok()));
  const Bytes ikm = concat(Bytes(32, 0xFF), dh1->view(), dh2->view(), dh3->view());
  auto x3dh = x3dh_initiate_with_ephemeral(alice, *verified, ek);
  REQUIRE(x3dh.ok());
  auto sk = crypto::hkdf_sha256(Bytes(32, 0), ikm, label_bytes(kX3dhInfo), 32);
  REQUIRE(sk.ok());
  CHECK(crypto::ct_equal(x3dh->sk.view(), sk->view()));
  // The same input under another purpose's label gives an unrelated key.
  for (std::string_view other : {std::string_view("Sotto/v1/Envelope/Ephemeral"),
                                 std::string_view("Sotto/v1/Envelope/Static"),
                                 ratchet::kRootKdfLabel, ratchet::kMessageKdfLabel}) {
    auto k = crypto::hkdf_sha256(Bytes(32, 0), ikm, label_bytes(other), 32);
    REQUIRE(k.ok());
    CHECK_FALSE(crypto::ct_equal(k->view(), sk->view()));
  }

  // Envelope (40.4): the ephemeral layer from DH(e, x(IK_R)) under
  // "Sotto/v1/Envelope/Ephemeral"; the static layer from DH(x(IK_S), x(IK_R)) —
  // a DH that X3DH never computes — under "Sotto/v1/Envelope/Static", salted
  // with the ephemeral layer's chain key.
  using namespace envelope_detail;
  auto dh_e = crypto::x25519(ek.secret, *ik_b);
  auto dh_s = crypto::x25519(ik_a, *ik_b);
  REQUIRE((dh_e.ok() && dh_s.ok()));
  auto layer1 = derive_ephemeral_layer(*dh_e, ek.public_key, bob.public_key);
  REQUIRE(layer1.ok());
  Bytes info1 = concat(label_bytes("Sotto/v1/Envelope/Ephemeral"));
  info1.push_back(kEnvelopeVersion);
  append(info1, ek.public_key.view());
  append(info1, bob.public_key.view());
  auto okm1 = crypto::hkdf_sha256({}, dh_e->view(), info1, 76);
  REQUIRE(okm1.ok());
  CHECK(crypto::ct_equal(layer1->chain.view(), okm1->view().subspan(0, 32)));
  CHECK(crypto::ct_equal(layer1->key.view(), okm1->view().subspan(32, 32)));

  auto layer2 =
      derive_static_layer(layer1->chain, *dh_s, ek.public_key, bob.public_key, alice.public_key);
  REQUIRE(layer2.ok());
  Bytes info2 = concat(label_bytes("Sotto/v1/Envelope/Static"));
  info2.push_back(kEnvelopeVersion);
  append(info2, ek.public_key.view());
  append(info2, bob.public_key.view());
  append(info2, alice.public_key.view());
  auto okm2 = crypto::hkdf_sha256(layer1->chain.view(), dh_s->view(), info2, 44);
  REQUIRE(okm2.ok());
  CHECK(crypto::ct_equal(layer2->key.view(), okm2->view().subspan(0, 32)));

  // DH2 of X3DH and the envelope's ephemeral DH are the same function of
  // (EK, x(IK_B)) here (the test reuses EK on purpose): the labels alone keep
  // the X3DH secret and the envelope layer key apart.
  CHECK(crypto::ct_equal(dh2->view(), dh_e->view()));
  CHECK_FALSE(crypto::ct_equal(layer1->key.view(), x3dh->sk.view()));
  CHECK_FALSE(crypto::ct_equal(layer1->chain.view(), x3dh->sk.view()));
  CHECK_FALSE(crypto::ct_equal(layer2->key.view(), x3dh->sk.view()));
}
