// test_ratchet_vectors.cpp — verifies the committed tests/vectors/ratchet.json:
// re-creates both sessions from the recorded inputs, replays every step in
// the recorded order (re-encrypting to the same bytes, decrypting to the same
// plaintexts, generating exactly the recorded ratchet keys), compares the
// final serialised states, and recomputes the first message from the spec's
// primitives alone (no State), as an independent check of the spec text.
#include <catch2/catch.hpp>

#include <deque>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/crypto.hpp"
#include "common/ratchet.hpp"

using namespace sotto;
using namespace sotto::ratchet;

namespace {

Bytes hex(const nlohmann::ordered_json& j) {
  auto b = from_hex(j.get<std::string>());
  REQUIRE(b.has_value());
  return *b;
}

// Hands out exactly the recorded private keys, in order; any other draw fails.
class ScriptedRng final : public Rng {
 public:
  void push(Bytes b) { queue_.push_back(std::move(b)); }
  void fill(std::span<std::uint8_t> out) override {
    REQUIRE_FALSE(queue_.empty());
    REQUIRE(queue_.front().size() == out.size());
    std::copy(queue_.front().begin(), queue_.front().end(), out.begin());
    queue_.pop_front();
  }
  bool exhausted() const { return queue_.empty(); }

 private:
  std::deque<Bytes> queue_;
};

nlohmann::ordered_json load_vectors() {
  std::ifstream in(std::string(SOTTO_SOURCE_DIR) + "/tests/vectors/ratchet.json");
  REQUIRE(in.good());
  return nlohmann::ordered_json::parse(in);
}

X25519PublicKey public_of(const Bytes& priv) {
  return crypto::x25519_public_from(X25519SecretKey::copy_of(priv));
}

}  // namespace

TEST_CASE("the committed ratchet vectors replay exactly", "[ratchet][vectors]") {
  const nlohmann::ordered_json v = load_vectors();
  REQUIRE(v.begin().key() == "description");
  const Bytes sk = hex(v["shared_key_hex"]);
  const Bytes ad = hex(v["associated_data_hex"]);
  const Bytes bob_private = hex(v["bob_initial_ratchet_private_hex"]);
  REQUIRE(sk.size() == 32);
  const X25519PublicKey bob_public = public_of(bob_private);
  CHECK(to_hex(bob_public.view()) == v["bob_initial_ratchet_public_hex"].get<std::string>());

  ScriptedRng alice_init;
  alice_init.push(hex(v["alice_initial_ratchet_private_hex"]));
  auto alice_r = State::init_initiator(Key32(sk.data(), 32), ad, bob_public, alice_init);
  auto bob_r = State::init_responder(
      Key32(sk.data(), 32), ad, crypto::x25519_from_secret(X25519SecretKey::copy_of(bob_private)));
  REQUIRE(alice_r.ok());
  REQUIRE(bob_r.ok());
  State alice = std::move(alice_r).value();
  State bob = std::move(bob_r).value();

  int encrypts = 0, decrypts = 0, turns = 0, skipped_used = 0;
  for (const auto& step : v["steps"]) {
    INFO("step " << step["step"].get<int>() << " " << step["party"].get<std::string>() << " "
                 << step["action"].get<std::string>() << " " << step["id"].get<std::string>());
    State& s = step["party"] == "alice" ? alice : bob;
    const Bytes message = hex(step["message_hex"]);
    const Bytes plaintext = hex(step["plaintext_hex"]);
    if (step["action"] == "encrypt") {
      CHECK(s.ratchet_public_key() == public_of(hex(step["ratchet_private_hex"])));
      auto m = encrypt(s, plaintext);
      REQUIRE(m.ok());
      CHECK(to_hex(*m) == to_hex(message));
      CHECK(to_hex(ByteView(*m).first(kHeaderBytes)) == step["header_hex"].get<std::string>());
      ++encrypts;
    } else {
      CHECK(s.ratchet_public_key() == public_of(hex(step["ratchet_private_before_hex"])));
      ScriptedRng rng;
      const bool turn = !step["new_ratchet_private_hex"].is_null();
      if (turn) rng.push(hex(step["new_ratchet_private_hex"]));
      const std::size_t skipped_before = s.skipped_key_count();
      auto r = decrypt(s, message, rng);
      REQUIRE(r.ok());
      CHECK(rng.exhausted());
      CHECK(r->plaintext.equals(SecretBytes::copy_of(plaintext)));
      if (turn) {
        CHECK(r->next.ratchet_public_key() == public_of(hex(step["new_ratchet_private_hex"])));
        ++turns;
      }
      if (r->next.skipped_key_count() < skipped_before) ++skipped_used;
      CHECK(r->next.skipped_key_count() == step["skipped_keys_after"].get<std::size_t>());
      s = std::move(r->next);
      ++decrypts;
    }
  }
  CHECK(encrypts >= 15);
  CHECK(decrypts >= 15);
  CHECK(turns >= 5);
  CHECK(skipped_used >= 5);
  CHECK(to_hex(alice.serialize().view()) == v["final_state_alice_hex"].get<std::string>());
  CHECK(to_hex(bob.serialize().view()) == v["final_state_bob_hex"].get<std::string>());
}

TEST_CASE("the first vector message follows from the spec's primitives alone",
          "[ratchet][vectors]") {
  const nlohmann::ordered_json v = load_vectors();
  const Bytes sk = hex(v["shared_key_hex"]);
  const Bytes ad = hex(v["associated_data_hex"]);
  const auto& first = v["steps"][0];
  REQUIRE(first["action"] == "encrypt");
  REQUIRE(first["party"] == "alice");
  const auto alice_priv = X25519SecretKey::copy_of(hex(v["alice_initial_ratchet_private_hex"]));
  const auto bob_pub = crypto::x25519_public_from(
      X25519SecretKey::copy_of(hex(v["bob_initial_ratchet_private_hex"])));

  // RK, CKs = KDF_RK(SK, DH(DHs, DHr))
  auto dh_out = crypto::x25519(alice_priv, bob_pub);
  REQUIRE(dh_out.ok());
  auto root_okm = crypto::hkdf_sha256(sk, dh_out->view(), label_bytes("Sotto/v1/Ratchet/Root"), 64);
  REQUIRE(root_okm.ok());
  // MK = HMAC-SHA-256(CKs, 0x01)
  const std::uint8_t one[1] = {0x01};
  std::array<std::uint8_t, 32> mk{};
  crypto::hmac_sha256(root_okm->view().subspan(32, 32), one, mk);
  // key || nonce = HKDF(0^32, MK, "Sotto/v1/Ratchet/Message", 44)
  const std::array<std::uint8_t, 32> zero{};
  auto okm = crypto::hkdf_sha256(zero, mk, label_bytes("Sotto/v1/Ratchet/Message"), 44);
  REQUIRE(okm.ok());
  // header = 0x01 || DHs public || PN = 0 || N = 0
  Bytes header{0x01};
  append(header, crypto::x25519_public_from(alice_priv).view());
  put_u32be(header, 0);
  put_u32be(header, 0);
  CHECK(to_hex(header) == first["header_hex"].get<std::string>());
  Bytes ct = crypto::aead_chacha20poly1305_seal(
      Key32(okm->data(), 32), std::span<const std::uint8_t, 12>(okm->data() + 32, 12),
      concat(ad, header), hex(first["plaintext_hex"]));
  CHECK(to_hex(concat(header, ct)) == first["message_hex"].get<std::string>());
}
