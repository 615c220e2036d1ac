// gen_x3dh_vectors.cpp — prints tests/vectors/x3dh.json: two X3DH runs (with
// and without a one-time prekey) made from a SeededRng, with every private
// input, every public value, the encodings and the intermediate DH outputs.
//
// The DH outputs and the KDF are recomputed here from the primitives (not
// through x3dh.cpp) and the run aborts if they disagree with the library, so
// the committed file checks the implementation rather than copying it.
// Usage: ./build/tools/gen_x3dh_vectors > tests/vectors/x3dh.json
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/crypto.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"
#include "common/rng.hpp"
#include "common/x3dh.hpp"

using namespace sotto;
using nlohmann::ordered_json;

namespace {

constexpr std::uint64_t kSeed = 0x58334448;  // "X3DH"
constexpr std::uint64_t kCreatedAt = 1700000000;
constexpr std::uint64_t kVerifyAt = kCreatedAt + kSecondsPerDay;
constexpr PreKeyId kSignedPreKeyId = 7;
constexpr PreKeyId kOneTimePreKeyId = 1001;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "gen_x3dh_vectors: %s\n", what);
  std::exit(1);
}

template <class T, class E>
T must(Result<T, E> r, const char* what) {
  if (!r) die(what);
  return std::move(r).value();
}

// Test-vector secrets only: these come from a public seed.
std::string hex(ByteView v) {
  return to_hex(v);
}

SharedSecret dh(const X25519SecretKey& s, const X25519PublicKey& p) {
  return must(crypto::x25519(s, p), "DH failed");
}

ordered_json make_case(Rng& rng, bool with_one_time) {
  // Private inputs, drawn in this order: IK_A seed, IK_B seed, SPK_B secret,
  // [OPK_B secret], EK_A secret.
  Ed25519Seed ik_a_seed, ik_b_seed;
  rng.fill(ik_a_seed.mutable_view());
  rng.fill(ik_b_seed.mutable_view());
  X25519SecretKey spk_secret, opk_secret, ek_secret;
  rng.fill(spk_secret.mutable_view());
  if (with_one_time) rng.fill(opk_secret.mutable_view());
  rng.fill(ek_secret.mutable_view());

  ordered_json j;
  j["name"] = with_one_time ? "with one-time prekey" : "without one-time prekey";
  j["identity_a_seed"] = hex(ik_a_seed.view());
  j["identity_b_seed"] = hex(ik_b_seed.view());
  j["signed_prekey_secret"] = hex(spk_secret.view());
  j["one_time_prekey_secret"] = with_one_time ? ordered_json(hex(opk_secret.view())) : nullptr;
  j["ephemeral_secret"] = hex(ek_secret.view());

  const IdentityKeyPair ik_a = identity_from_seed(ik_a_seed);
  const IdentityKeyPair ik_b = identity_from_seed(ik_b_seed);
  const SignedPreKeyPolicy policy;
  const SignedPreKeyPair spk = signed_prekey_from_secret(
      ik_b, kSignedPreKeyId, kCreatedAt, policy.expiry_for(kCreatedAt), spk_secret.clone());
  std::optional<OneTimePreKeyPair> opk;
  if (with_one_time) opk = one_time_prekey_from_secret(kOneTimePreKeyId, opk_secret.clone());
  const X25519KeyPair ek = crypto::x25519_from_secret(ek_secret.clone());

  const X25519SecretKey ik_a_x = identity_dh_secret(ik_a);
  const X25519SecretKey ik_b_x = identity_dh_secret(ik_b);
  const X25519PublicKey ik_a_x_pub = must(identity_dh_public(ik_a.public_key), "IK_A convert");
  const X25519PublicKey ik_b_x_pub = must(identity_dh_public(ik_b.public_key), "IK_B convert");

  j["identity_a_public"] = hex(ik_a.public_key.view());
  j["identity_a_x25519_secret"] = hex(ik_a_x.view());
  j["identity_a_x25519_public"] = hex(ik_a_x_pub.view());
  j["identity_b_public"] = hex(ik_b.public_key.view());
  j["identity_b_x25519_secret"] = hex(ik_b_x.view());
  j["identity_b_x25519_public"] = hex(ik_b_x_pub.view());
  j["signed_prekey_id"] = spk.public_key.id;
  j["signed_prekey_created_at"] = spk.public_key.created_at;
  j["signed_prekey_expires_at"] = spk.public_key.expires_at;
  j["signed_prekey_public"] = hex(spk.public_key.key.view());
  j["signed_prekey_signed_bytes"] = hex(signed_prekey_signed_bytes(
      spk.public_key.id, spk.public_key.created_at, spk.public_key.expires_at, spk.public_key.key));
  j["signed_prekey_signature"] = hex(spk.public_key.signature.view());
  j["one_time_prekey_id"] = with_one_time ? ordered_json(kOneTimePreKeyId) : nullptr;
  j["one_time_prekey_public"] =
      with_one_time ? ordered_json(hex(opk->public_key.key.view())) : nullptr;
  j["ephemeral_public"] = hex(ek.public_key.view());

  PreKeyBundle bundle{ik_b.public_key, spk.public_key, std::nullopt};
  if (opk) bundle.one_time_prekey = opk->public_key;
  const Bytes bundle_bytes = encode_bundle(bundle);
  j["verify_time"] = kVerifyAt;
  j["bundle"] = hex(bundle_bytes);

  // The initiator, from the bundle bytes exactly as a relay would hand them out.
  const PreKeyBundle decoded = must(decode_bundle(bundle_bytes), "decode bundle");
  const VerifiedBundle verified = must(verify_bundle(decoded, kVerifyAt), "verify bundle");
  X3dhInitiated init = must(x3dh_initiate_with_ephemeral(ik_a, verified, ek), "initiate");
  const Bytes header_bytes = encode_x3dh_header(init.header);
  j["header"] = hex(header_bytes);

  // Independent recomputation: DH1..DH4 and the KDF from the primitives.
  const SharedSecret dh1 = dh(ik_a_x, spk.public_key.key);
  const SharedSecret dh2 = dh(ek.secret, ik_b_x_pub);
  const SharedSecret dh3 = dh(ek.secret, spk.public_key.key);
  std::optional<SharedSecret> dh4;
  if (opk) dh4 = dh(ek.secret, opk->public_key.key);
  j["dh1"] = hex(dh1.view());
  j["dh2"] = hex(dh2.view());
  j["dh3"] = hex(dh3.view());
  j["dh4"] = dh4 ? ordered_json(hex(dh4->view())) : nullptr;
  // IKM = F || DH1 || DH2 || DH3 [|| DH4], F = 32 x 0xFF
  SecretBytes full(dh4 ? 160 : 128);
  std::fill_n(full.data(), 32, std::uint8_t{0xFF});
  std::copy_n(dh1.data(), 32, full.data() + 32);
  std::copy_n(dh2.data(), 32, full.data() + 64);
  std::copy_n(dh3.data(), 32, full.data() + 96);
  if (dh4) std::copy_n(dh4->data(), 32, full.data() + 128);
  static constexpr std::array<std::uint8_t, 32> kZeroSalt{};
  const SecretBytes sk =
      must(crypto::hkdf_sha256(kZeroSalt, full.view(), label_bytes(kX3dhInfo), 32), "hkdf");
  if (!crypto::ct_equal(sk.view(), init.sk.view())) die("library SK differs from recomputation");
  j["ikm"] = hex(full.view());
  j["sk"] = hex(sk.view());
  j["ad"] = hex(init.ad);

  // The responder must agree.
  const X3dhHeader header = must(decode_x3dh_header(header_bytes), "decode header");
  X3dhResponded resp = must(x3dh_respond(ik_b, spk, opk ? &*opk : nullptr, header), "respond");
  if (!resp.sk.equals(init.sk) || resp.ad != init.ad) die("responder disagrees");
  return j;
}

}  // namespace

int main() {
  SeededRng rng(kSeed);
  ordered_json doc;
  doc["description"] =
      "X3DH test vectors for Sotto (docs/protocol.md section 20). Generated by "
      "tools/gen_x3dh_vectors.cpp with SeededRng(n = 0x58334448): the ChaCha20 (RFC 8439) "
      "keystream "
      "under key = n as 32 bytes little-endian, nonce = 0, counter from 0, consumed in order. "
      "Cases in order; per case the RNG yields 32 bytes each for identity_a_seed, identity_b_seed, "
      "signed_prekey_secret, one_time_prekey_secret (only in the case that has one) and "
      "ephemeral_secret. Identity keys are Ed25519 from those seeds; *_x25519_* are their "
      "libsodium "
      "ed25519->curve25519 forms. The signed prekey is id signed_prekey_id, created_at, "
      "expires_at = created_at + 30 days, signed by identity B over signed_prekey_signed_bytes. "
      "bundle and header are the byte encodings (hex); verify_time is the 'now' given to "
      "verify_bundle. dh1 = X25519(IK_A, SPK_B), dh2 = X25519(EK_A, IK_B), dh3 = X25519(EK_A, "
      "SPK_B), "
      "dh4 = X25519(EK_A, OPK_B) or null; ikm = 0xFF*32 || dh1 || dh2 || dh3 [|| dh4]; "
      "sk = HKDF-SHA-256(salt = 0x00*32, ikm, info = 'Sotto/v1/X3DH', 32); "
      "ad = identity_a_public || identity_b_public. All byte strings are lower-case hex.";
  doc["seed"] = kSeed;
  doc["cases"] = ordered_json::array({make_case(rng, true), make_case(rng, false)});
  std::cout << doc.dump(2) << "\n";
  return 0;
}
