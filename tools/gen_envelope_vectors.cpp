// gen_envelope_vectors.cpp — prints tests/vectors/envelope.json: sealed
// envelopes with every private input and intermediate key, so another
// implementation can check each step (docs/protocol.md section 40).
//
//   ./build/tools/gen_envelope_vectors > tests/vectors/envelope.json
//
// The output is a pure function of the seed; test_envelope.cpp verifies the
// committed file by re-deriving every field from the recorded private inputs.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/envelope.hpp"

using namespace sotto;
using namespace sotto::envelope_detail;
using nlohmann::ordered_json;

namespace {

struct Case {
  const char* name;
  std::uint8_t type;
  std::size_t payload_len;
};

// Draws a 32-byte private input from the rng (recorded in the output).
template <class S>
S draw(Rng& rng) {
  S s;
  rng.fill(s.mutable_view());
  return s;
}

}  // namespace

int main() {
  constexpr std::uint64_t kSeed = 40;
  SeededRng rng(kSeed);

  ordered_json doc;
  doc["description"] =
      "Sealed envelopes (docs/protocol.md section 40). Made by tools/gen_envelope_vectors.cpp "
      "with SeededRng(40): the ChaCha20 (RFC 8439) keystream under key = the 32-byte "
      "little-endian encoding of the integer 40, nonce = 12 zero bytes, block counter from 0, "
      "consumed in order. For each case, in order, 32 bytes each: sender_seed (Ed25519 seed of "
      "the sender's identity key IK_S), recipient_seed (IK_R), ephemeral_secret (the X25519 "
      "secret e, used as given: X25519 clamps it), then payload_length bytes of payload. "
      "All byte strings are lower-case hex. sender_public/recipient_public: the Ed25519 public "
      "keys; ephemeral_public: X25519(e, 9). dh_ephemeral = X25519(e, x(IK_R)); chain_key || "
      "key1 || nonce1 = HKDF-SHA-256(salt = empty, IKM = dh_ephemeral, info = "
      "'Sotto/v1/Envelope/Ephemeral' || 0x01 || ephemeral_public || IK_R, L = 76). dh_static = "
      "X25519(x(sk_S), x(IK_R)); key2 || nonce2 = HKDF-SHA-256(salt = chain_key, IKM = "
      "dh_static, info = 'Sotto/v1/Envelope/Static' || 0x01 || ephemeral_public || IK_R || "
      "IK_S, L = 44). padded_length: the bucket of type || payload || 0x80 || zeros. envelope: "
      "0x01 || ephemeral_public || ChaCha20-Poly1305(key1, nonce1, AD = first 33 bytes, IK_S) "
      "|| ChaCha20-Poly1305(key2, nonce2, AD = first 81 bytes, padded content); "
      "envelope_length = 97 + padded_length. x() is libsodium's Ed25519 -> X25519 conversion.";
  doc["seed"] = kSeed;

  const Case cases[] = {
      {"empty ratchet message", kPayloadRatchetMessage, 0},
      {"short ratchet message", kPayloadRatchetMessage, 13},
      {"prekey message filling the 256 bucket exactly", kPayloadPreKeyMessage, 254},
      {"ratchet message one byte into the 512 bucket", kPayloadRatchetMessage, 255},
      {"prekey message in the 1024 bucket", kPayloadPreKeyMessage, 700},
  };

  ordered_json out_cases = ordered_json::array();
  for (const Case& c : cases) {
    const auto sender_seed = draw<Ed25519Seed>(rng);
    const auto recipient_seed = draw<Ed25519Seed>(rng);
    auto e_secret = draw<X25519SecretKey>(rng);
    Bytes payload(c.payload_len);
    rng.fill(payload);

    const auto sender = crypto::ed25519_from_seed(sender_seed);
    const auto recipient = crypto::ed25519_from_seed(recipient_seed);
    const std::string e_secret_hex = to_hex(e_secret.view());
    const auto e = crypto::x25519_from_secret(std::move(e_secret));

    const auto rx = *crypto::ed25519_public_to_x25519(recipient.public_key);
    const auto dh1 = *crypto::x25519(e.secret, rx);
    const auto l1 = *derive_ephemeral_layer(dh1, e.public_key, recipient.public_key);
    const auto dh2 = *crypto::x25519(crypto::ed25519_secret_to_x25519(sender.secret), rx);
    const auto l2 =
        *derive_static_layer(l1.chain, dh2, e.public_key, recipient.public_key, sender.public_key);
    const auto sealed = *seal_with_ephemeral(sender, recipient.public_key, c.type, payload, e);

    ordered_json j;
    j["name"] = c.name;
    // Private inputs, recorded so the vectors can be reproduced and checked.
    j["sender_seed"] = to_hex(sender_seed.view());
    j["recipient_seed"] = to_hex(recipient_seed.view());
    j["ephemeral_secret"] = e_secret_hex;
    j["type"] = c.type;
    j["payload"] = to_hex(payload);
    j["sender_public"] = to_hex(sender.public_key.view());
    j["recipient_public"] = to_hex(recipient.public_key.view());
    j["ephemeral_public"] = to_hex(e.public_key.view());
    j["dh_ephemeral"] = to_hex(dh1.view());
    j["chain_key"] = to_hex(l1.chain.view());
    j["key1"] = to_hex(l1.key.view());
    j["nonce1"] = to_hex(l1.nonce);
    j["dh_static"] = to_hex(dh2.view());
    j["key2"] = to_hex(l2.key.view());
    j["nonce2"] = to_hex(l2.nonce);
    j["padded_length"] = *padded_size(1 + payload.size());
    j["envelope_length"] = sealed.size();
    j["envelope"] = to_hex(sealed);
    out_cases.push_back(j);
  }
  doc["cases"] = out_cases;

  std::cout << doc.dump(2) << "\n";
  return 0;
}
