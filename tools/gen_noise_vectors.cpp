// gen_noise_vectors.cpp — prints tests/vectors/noise.json: Sotto's own Noise
// vectors (the IK and NK handshakes with the Sotto prologue, the first-frame
// type byte, framing and transport messages), made only from a SeededRng with
// a fixed seed. tests/unit/test_noise.cpp replays the committed file.
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/rng.hpp"

using namespace sotto;
using namespace sotto::noise;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t kSeed = 60;

[[noreturn]] void die(const char* what) {
  std::cerr << "gen_noise_vectors: " << what << "\n";
  std::exit(1);
}

std::string secret_hex(const X25519SecretKey& k) {
  return to_hex(k.view());
}

X25519SecretKey draw_secret(Rng& rng) {
  X25519SecretKey k;
  rng.fill(k.mutable_view());
  return k;
}

json make_vector(Pattern pattern, Rng& rng) {
  // Draw order: relay static, device static (IK only), initiator ephemeral,
  // responder ephemeral, then the payloads in message order.
  X25519SecretKey relay_secret = draw_secret(rng);
  std::optional<X25519SecretKey> device_secret;
  if (pattern == Pattern::kIK) device_secret = draw_secret(rng);
  X25519SecretKey init_e = draw_secret(rng);
  X25519SecretKey resp_e = draw_secret(rng);

  json v;
  v["protocol_name"] = protocol_name(pattern);
  const HandshakeType type = pattern == Pattern::kIK ? HandshakeType::kIK : HandshakeType::kNK;
  v["handshake_type"] = static_cast<int>(type);
  v["prologue"] = to_hex(label_bytes(kSottoPrologue));
  v["resp_static"] = secret_hex(relay_secret);
  if (device_secret) v["init_static"] = secret_hex(*device_secret);
  v["init_ephemeral"] = secret_hex(init_e);
  v["resp_ephemeral"] = secret_hex(resp_e);
  const X25519KeyPair relay = crypto::x25519_from_secret(relay_secret.clone());
  v["init_remote_static"] = to_hex(relay.public_key.view());

  HandshakeConfig ic;
  ic.role = Role::kInitiator;
  ic.pattern = pattern;
  const ByteView prologue = label_bytes(kSottoPrologue);
  ic.prologue = Bytes(prologue.begin(), prologue.end());
  ic.remote_static = relay.public_key;
  if (device_secret) ic.local_static = crypto::x25519_from_secret(device_secret->clone());
  ic.fixed_ephemeral = std::move(init_e);
  HandshakeConfig rc;
  rc.role = Role::kResponder;
  rc.pattern = pattern;
  rc.prologue = ic.prologue;
  rc.local_static = crypto::x25519_from_secret(relay_secret.clone());
  rc.fixed_ephemeral = std::move(resp_e);
  auto init = NoiseHandshake::create(std::move(ic), rng);
  auto resp = NoiseHandshake::create(std::move(rc), rng);
  if (!init || !resp) die("create");

  // Payload lengths: the two handshake payloads, then four transport messages.
  const std::size_t lengths[] = {24, 24, 0, 1, 64, 300};
  json messages = json::array();
  std::optional<NoiseTransport> ti, tr;
  for (std::size_t i = 0; i < std::size(lengths); ++i) {
    const Bytes payload = crypto::random_bytes(rng, lengths[i]);
    const bool from_init = i % 2 == 0;
    Bytes ciphertext;
    if (i < 2) {
      auto out = (from_init ? *init : *resp).write_message(payload);
      if (!out) die("write_message");
      ciphertext = *out;
      if (!(from_init ? *resp : *init).read_message(ciphertext)) die("read_message");
    } else {
      if (!ti) {
        ti.emplace(std::move(init->split().value()));
        tr.emplace(std::move(resp->split().value()));
        v["handshake_hash"] = to_hex(ti->handshake_hash().view());
      }
      auto out = (from_init ? *ti : *tr).encrypt(payload);
      if (!out) die("encrypt");
      ciphertext = *out;
      if (!(from_init ? *tr : *ti).decrypt(ciphertext)) die("decrypt");
    }
    const Bytes body = i == 0 ? first_frame_body(type, ciphertext) : ciphertext;
    auto frame = encode_frame(body);
    if (!frame) die("encode_frame");
    messages.push_back({{"payload", to_hex(payload)},
                        {"ciphertext", to_hex(ciphertext)},
                        {"frame", to_hex(*frame)}});
  }
  v["messages"] = messages;
  return v;
}

}  // namespace

int main() {
  SeededRng rng(kSeed);
  json doc;
  doc["description"] =
      "Sotto Noise transport vectors, printed by tools/gen_noise_vectors.cpp. Every random byte "
      "comes from SeededRng(60): the ChaCha20 (RFC 8439) keystream under key = the 32-byte "
      "little-endian encoding of 60, nonce = 0, counter from 0, consumed in order "
      "(docs/protocol.md, "
      "Deterministic RNG). For each vector (IK first, then NK) the generator draws, in order: the "
      "relay static private key resp_static (32 bytes), for IK the device static private key "
      "init_static (32), the initiator ephemeral private key init_ephemeral (32), the responder "
      "ephemeral private key resp_ephemeral (32), then the payload of each message in order "
      "(lengths 24, 24, 0, 1, 64, 300). init_remote_static is the relay public key (the key of the "
      "relay address). prologue is the ASCII 'Sotto/v1/relay-transport'. Messages alternate "
      "initiator, responder, ...; the first two are handshake messages, the rest transport "
      "messages after Split() (no rekey occurs). ciphertext is the Noise message; frame is what "
      "goes on the TCP stream: 2-byte big-endian length || body, where the body of the first frame "
      "is handshake_type (1 byte: 1 = IK, 2 = NK) || ciphertext and every other body is the "
      "ciphertext. handshake_hash is h after the handshake. Private keys are test keys only.";
  doc["vectors"] = json::array({make_vector(Pattern::kIK, rng), make_vector(Pattern::kNK, rng)});
  std::cout << doc.dump(1) << "\n";
  return 0;
}
