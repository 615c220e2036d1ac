// test_crypto_properties.cpp — properties of the primitives that no single
// published vector shows, and the exact acceptance rules Sotto relies on:
//
//   - Ed25519 -> X25519: both conversions agree (DH through converted keys is
//     symmetric), the secret is the clamped SHA-512(seed) prefix, and keys
//     that are small-order, non-canonical or carry a torsion part are refused;
//   - X25519 rejects the all-zero output for every low-order u-coordinate;
//   - Ed25519 verification as libsodium 1.0.18 does it: S < L, A canonical and
//     not small-order, R not small-order, the cofactorless equation;
//   - AEAD: every single-bit change of ciphertext, tag, AD or nonce is rejected,
//     and a failed open releases no plaintext;
//   - HKDF: different salt, IKM or info give independent outputs;
//   - BLAKE2b: incremental hashing equals one-shot hashing.
// Libsodium's own group operations (crypto_core_ed25519_*) build the
// adversarial inputs; nothing here trusts the code under test to build them.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <array>
#include <string>
#include <vector>

#include "common/crypto.hpp"

using namespace sotto;

namespace {

Bytes hx(std::string_view hex) {
  auto b = from_hex(hex);
  REQUIRE(b.has_value());
  return *b;
}

// Little-endian 32-byte encodings of the low-order X25519 u-coordinates
// (RFC 7748 section 6.1; the same list libsodium refuses): 0, 1, the two
// points of order 8, p - 1, p and p + 1.
const char* const kLowOrderU[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

// Little-endian encodings (sign bit clear) of the small-order Edwards y values
// libsodium refuses for A and R: 0, 1, the two y of order 8, p - 1, p, p + 1.
const char* const kSmallOrderY[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

Ed25519KeyPair ed_key(SeededRng& rng) {
  return crypto::ed25519_generate(rng);
}

// An Ed25519 scalar reduced mod L from 64 bytes.
std::array<std::uint8_t, 32> reduce64(const std::uint8_t (&wide)[64]) {
  std::array<std::uint8_t, 32> out{};
  crypto_core_ed25519_scalar_reduce(out.data(), wide);
  return out;
}

// k = SHA-512(R || A || M) mod L, as RFC 8032 5.1.7 step 2.
std::array<std::uint8_t, 32> challenge(ByteView r, ByteView a, ByteView m) {
  std::uint8_t h[64];
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, r.data(), r.size());
  crypto_hash_sha512_update(&st, a.data(), a.size());
  crypto_hash_sha512_update(&st, m.data(), m.size());
  crypto_hash_sha512_final(&st, h);
  return reduce64(h);
}

// The Ed25519 secret scalar a = clamp(SHA-512(seed)[0..32]) mod L.
std::array<std::uint8_t, 32> secret_scalar(const Ed25519SecretKey& sk) {
  std::uint8_t h[64];
  crypto_hash_sha512(h, sk.data(), 32);
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  std::uint8_t wide[64] = {};
  std::copy(h, h + 32, wide);
  sodium_memzero(h, sizeof h);
  return reduce64(wide);
}

}  // namespace

// ---- Ed25519 -> X25519 ----

TEST_CASE("Ed25519->X25519: DH over converted keys is symmetric and matches the public map",
          "[crypto][property][convert]") {
  SeededRng rng(std::uint64_t{1});
  for (int i = 0; i < 16; ++i) {
    auto a = ed_key(rng);
    auto b = ed_key(rng);
    X25519SecretKey xa = crypto::ed25519_secret_to_x25519(a.secret);
    X25519SecretKey xb = crypto::ed25519_secret_to_x25519(b.secret);
    auto pa = crypto::ed25519_public_to_x25519(a.public_key);
    auto pb = crypto::ed25519_public_to_x25519(b.public_key);
    REQUIRE(pa.ok());
    REQUIRE(pb.ok());
    // The two conversions commute with taking the public key.
    CHECK(crypto::x25519_public_from(xa) == *pa);
    CHECK(crypto::x25519_public_from(xb) == *pb);
    // DH(conv(skA), conv(pkB)) == DH(conv(skB), conv(pkA))
    auto ab = crypto::x25519(xa, *pb);
    auto ba = crypto::x25519(xb, *pa);
    REQUIRE(ab.ok());
    REQUIRE(ba.ok());
    CHECK(ab->equals(*ba));
  }
}

TEST_CASE("Ed25519->X25519: the secret is the clamped first half of SHA-512(seed)",
          "[crypto][property][convert]") {
  SeededRng rng(std::uint64_t{2});
  for (int i = 0; i < 8; ++i) {
    auto kp = ed_key(rng);
    std::uint8_t h[64];
    crypto_hash_sha512(h, kp.secret.data(), 32);  // the seed is the first 32 bytes
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    X25519SecretKey x = crypto::ed25519_secret_to_x25519(kp.secret);
    CHECK(crypto::ct_equal(x.view(), ByteView(h, 32)));
    sodium_memzero(h, sizeof h);
  }
}

TEST_CASE("Ed25519->X25519: refuses small-order, non-canonical and torsioned public keys",
          "[crypto][property][convert]") {
  for (const char* y : kSmallOrderY) {
    for (std::uint8_t sign : {std::uint8_t{0x00}, std::uint8_t{0x80}}) {
      Bytes enc = hx(y);
      enc[31] |= sign;
      INFO("small-order encoding " << to_hex(enc));
      auto r = crypto::ed25519_public_to_x25519(*Ed25519PublicKey::from(enc));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error() == CryptoError::kInvalidKey);
    }
  }
  // Every encoding with y >= p (y = p + k, 0 <= k <= 18, either sign).
  for (int k = 0; k <= 18; ++k) {
    for (std::uint8_t sign : {std::uint8_t{0x00}, std::uint8_t{0x80}}) {
      Ed25519PublicKey enc;
      enc.bytes.fill(0xff);
      enc.bytes[0] = static_cast<std::uint8_t>(0xed + k);
      enc.bytes[31] = static_cast<std::uint8_t>(0x7f | sign);
      INFO("non-canonical encoding " << to_hex(enc.view()));
      CHECK_FALSE(crypto::ed25519_public_to_x25519(enc).ok());
    }
  }
  // A valid key plus a point of order 2, 4 or 8 is on the curve but not in the
  // prime-order subgroup.
  SeededRng rng(std::uint64_t{3});
  auto kp = ed_key(rng);
  for (int idx : {2, 4, 0}) {  // order 8, order 2 (y = p - 1), order 4 (y = 0)
    Bytes t = hx(kSmallOrderY[idx]);
    Ed25519PublicKey mixed;
    REQUIRE(crypto_core_ed25519_add(mixed.data(), kp.public_key.data(), t.data()) == 0);
    INFO("A + T with T = " << kSmallOrderY[idx]);
    CHECK_FALSE(crypto::ed25519_public_to_x25519(mixed).ok());
  }
  // A and -A (sign bit flipped) map to the same u: the map forgets x's sign.
  Ed25519PublicKey neg = kp.public_key;
  neg.bytes[31] ^= 0x80;
  auto u1 = crypto::ed25519_public_to_x25519(kp.public_key);
  auto u2 = crypto::ed25519_public_to_x25519(neg);
  REQUIRE(u1.ok());
  REQUIRE(u2.ok());
  CHECK(*u1 == *u2);
}

// ---- X25519 low-order rule ----

TEST_CASE("X25519 rejects every low-order u-coordinate, with or without the top bit",
          "[crypto][property][x25519]") {
  SeededRng rng(std::uint64_t{4});
  for (int i = 0; i < 4; ++i) {
    auto kp = crypto::x25519_generate(rng);
    for (const char* u : kLowOrderU) {
      for (std::uint8_t top : {std::uint8_t{0x00}, std::uint8_t{0x80}}) {
        Bytes enc = hx(u);
        enc[31] |= top;
        INFO("peer u = " << to_hex(enc));
        auto r = crypto::x25519(kp.secret, *X25519PublicKey::from(enc));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error() == CryptoError::kLowOrderPoint);
      }
    }
  }
}

TEST_CASE("X25519 masks the top bit of u and accepts ordinary keys", "[crypto][property][x25519]") {
  SeededRng rng(std::uint64_t{5});
  auto a = crypto::x25519_generate(rng);
  auto b = crypto::x25519_generate(rng);
  X25519PublicKey high = b.public_key;
  high.bytes[31] |= 0x80;
  auto r1 = crypto::x25519(a.secret, b.public_key);
  auto r2 = crypto::x25519(a.secret, high);
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK(r1->equals(*r2));
  CHECK_FALSE(crypto::is_zero(r1->view()));
}

// ---- Ed25519 verification rules (libsodium 1.0.18) ----

TEST_CASE("Ed25519 verify rejects S >= L (malleability)", "[crypto][property][ed25519]") {
  static const std::uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                      0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                      0,    0,    0,    0,    0,    0,    0,    0,
                                      0,    0,    0,    0,    0,    0,    0,    0x10};
  SeededRng rng(std::uint64_t{6});
  for (int i = 0; i < 8; ++i) {
    auto kp = ed_key(rng);
    const Bytes msg = crypto::random_bytes(rng, 33);
    auto sig = crypto::ed25519_sign(kp.secret, msg);
    REQUIRE(crypto::ed25519_verify(kp.public_key, msg, sig));
    // S + L < 2^256 encodes the same scalar mod L; it must be refused.
    Ed25519Signature malleated = sig;
    unsigned carry = 0;
    for (std::size_t j = 0; j < 32; ++j) {
      unsigned v = unsigned{malleated.bytes[32 + j]} + kL[j] + carry;
      malleated.bytes[32 + j] = static_cast<std::uint8_t>(v);
      carry = v >> 8;
    }
    REQUIRE(carry == 0);
    CHECK_FALSE(crypto::ed25519_verify(kp.public_key, msg, malleated));
  }
}

TEST_CASE("Ed25519 verify rejects small-order A and R even when the equation holds",
          "[crypto][property][ed25519]") {
  const Bytes msg = hx("536f74746f");
  // A = R = identity, S = 0 satisfies [S]B = R + [k]A for every message.
  Ed25519PublicKey identity;
  identity.bytes[0] = 1;
  Ed25519Signature trivial;
  trivial.bytes[0] = 1;
  CHECK_FALSE(crypto::ed25519_verify(identity, msg, trivial));

  // A real key, R = identity and S = k * a: [S]B = [k]A = R + [k]A holds.
  SeededRng rng(std::uint64_t{7});
  auto kp = ed_key(rng);
  auto a = secret_scalar(kp.secret);
  for (const char* y : kSmallOrderY) {
    Bytes r = hx(y);
    auto k = challenge(r, kp.public_key.view(), msg);
    Ed25519Signature forged;
    std::copy(r.begin(), r.end(), forged.bytes.begin());
    crypto_core_ed25519_scalar_mul(forged.data() + 32, k.data(), a.data());
    INFO("R = " << y);
    CHECK_FALSE(crypto::ed25519_verify(kp.public_key, msg, forged));
  }
  // Control: the same construction with R = [r]B verifies, so the refusals
  // above come from R's order alone.
  std::uint8_t wide[64];
  rng.fill(wide);
  auto rs = reduce64(wide);
  Ed25519Signature sig;
  REQUIRE(crypto_scalarmult_ed25519_base_noclamp(sig.data(), rs.data()) == 0);
  auto k = challenge(ByteView(sig.data(), 32), kp.public_key.view(), msg);
  std::uint8_t ka[32];
  crypto_core_ed25519_scalar_mul(ka, k.data(), a.data());
  crypto_core_ed25519_scalar_add(sig.data() + 32, rs.data(), ka);
  CHECK(crypto::ed25519_verify(kp.public_key, msg, sig));
  sodium_memzero(a.data(), a.size());
}

TEST_CASE("Ed25519 verify uses the cofactorless equation and no subgroup check on A",
          "[crypto][property][ed25519]") {
  // A' = A + T (T of order 8). A signature made with a and A' in the hash
  // gives [S]B - [k]A' = R - [k]T: equal to R exactly when k = 0 mod 8.
  SeededRng rng(std::uint64_t{8});
  auto kp = ed_key(rng);
  auto a = secret_scalar(kp.secret);
  Bytes t8 = hx(kSmallOrderY[2]);
  Ed25519PublicKey mixed;
  REQUIRE(crypto_core_ed25519_add(mixed.data(), kp.public_key.data(), t8.data()) == 0);
  int accepted = 0;
  int rejected = 0;
  for (std::uint8_t i = 0; i < 64; ++i) {
    const Bytes msg{i, 0x42};
    std::uint8_t wide[64];
    rng.fill(wide);
    auto rs = reduce64(wide);
    Ed25519Signature sig;
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(sig.data(), rs.data()) == 0);
    auto k = challenge(ByteView(sig.data(), 32), mixed.view(), msg);
    std::uint8_t ka[32];
    crypto_core_ed25519_scalar_mul(ka, k.data(), a.data());
    crypto_core_ed25519_scalar_add(sig.data() + 32, rs.data(), ka);
    const bool expect = (k[0] & 7) == 0;
    CHECK(crypto::ed25519_verify(mixed, msg, sig) == expect);
    (expect ? accepted : rejected)++;
  }
  CHECK(accepted > 0);
  CHECK(rejected > 0);
  sodium_memzero(a.data(), a.size());
}

TEST_CASE("Ed25519 verify rejects a non-canonical A", "[crypto][property][ed25519]") {
  // y = p + 2 .. p + 18 with sign 0: A is refused before any arithmetic.
  const Bytes msg = hx("00");
  Ed25519Signature sig;
  sig.bytes[0] = 0x58;  // an arbitrary R; S = 0
  for (int k = 2; k <= 18; ++k) {
    Ed25519PublicKey enc;
    enc.bytes.fill(0xff);
    enc.bytes[0] = static_cast<std::uint8_t>(0xed + k);
    enc.bytes[31] = 0x7f;
    CHECK_FALSE(crypto::ed25519_verify(enc, msg, sig));
  }
}

// ---- AEAD tamper resistance ----

namespace {

template <std::size_t NonceBytes, class Seal, class Open>
void check_tamper(Seal seal, Open open) {
  SeededRng rng(std::uint64_t{9});
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, NonceBytes> nonce{};
  rng.fill(key);
  rng.fill(nonce);
  const Bytes ad = crypto::random_bytes(rng, 13);
  const Bytes pt = crypto::random_bytes(rng, 37);
  const Bytes sealed = seal(Key32(key), std::span<const std::uint8_t, NonceBytes>(nonce), ad, pt);
  REQUIRE(sealed.size() == pt.size() + crypto::kAeadTagBytes);
  auto good = open(Key32(key), std::span<const std::uint8_t, NonceBytes>(nonce), ad, sealed);
  REQUIRE(good.ok());
  REQUIRE(crypto::ct_equal(good->view(), pt));

  auto rejected = [&](const Bytes& k, const Bytes& n, const Bytes& a, const Bytes& c) {
    auto r = open(Key32(k.data(), 32),
                  std::span<const std::uint8_t, NonceBytes>(n.data(), NonceBytes), a, c);
    return !r.ok() && r.error() == CryptoError::kDecryptFailed;
  };
  const Bytes k(key.begin(), key.end());
  const Bytes n(nonce.begin(), nonce.end());
  int flips = 0;
  for (std::size_t bit = 0; bit < sealed.size() * 8; ++bit) {  // ciphertext and tag
    Bytes c = sealed;
    c[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK(rejected(k, n, ad, c));
    ++flips;
  }
  for (std::size_t bit = 0; bit < ad.size() * 8; ++bit) {
    Bytes a = ad;
    a[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK(rejected(k, n, a, sealed));
    ++flips;
  }
  for (std::size_t bit = 0; bit < n.size() * 8; ++bit) {
    Bytes m = n;
    m[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK(rejected(k, m, ad, sealed));
    ++flips;
  }
  for (std::size_t bit = 0; bit < k.size() * 8; ++bit) {
    Bytes m = k;
    m[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK(rejected(m, n, ad, sealed));
    ++flips;
  }
  CHECK(flips == static_cast<int>((sealed.size() + ad.size() + n.size() + k.size()) * 8));
  // Truncation, extension and a missing AD are rejected too.
  CHECK(rejected(k, n, ad, Bytes(sealed.begin(), sealed.end() - 1)));
  Bytes longer = sealed;
  longer.push_back(0);
  CHECK(rejected(k, n, ad, longer));
  CHECK(rejected(k, n, {}, sealed));
  // Shorter than a tag: a length error, not an authentication attempt.
  auto tiny = open(Key32(key), std::span<const std::uint8_t, NonceBytes>(nonce), ad,
                   Bytes(crypto::kAeadTagBytes - 1));
  REQUIRE_FALSE(tiny.ok());
  CHECK(tiny.error() == CryptoError::kInvalidLength);
}

}  // namespace

TEST_CASE("ChaCha20-Poly1305: every flipped bit of ciphertext, tag, AD, nonce or key is rejected",
          "[crypto][property][aead]") {
  check_tamper<12>([](Key32 k, std::span<const std::uint8_t, 12> n, ByteView a,
                      ByteView p) { return crypto::aead_chacha20poly1305_seal(k, n, a, p); },
                   [](Key32 k, std::span<const std::uint8_t, 12> n, ByteView a, ByteView c) {
                     return crypto::aead_chacha20poly1305_open(k, n, a, c);
                   });
}

TEST_CASE("XChaCha20-Poly1305: every flipped bit of ciphertext, tag, AD, nonce or key is rejected",
          "[crypto][property][aead]") {
  check_tamper<24>([](Key32 k, std::span<const std::uint8_t, 24> n, ByteView a,
                      ByteView p) { return crypto::aead_xchacha20poly1305_seal(k, n, a, p); },
                   [](Key32 k, std::span<const std::uint8_t, 24> n, ByteView a, ByteView c) {
                     return crypto::aead_xchacha20poly1305_open(k, n, a, c);
                   });
}

TEST_CASE("ChaCha20-Poly1305 open_into releases no plaintext when authentication fails",
          "[crypto][property][aead]") {
  SeededRng rng(std::uint64_t{10});
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 12> nonce{};
  rng.fill(key);
  rng.fill(nonce);
  const Bytes pt = crypto::random_bytes(rng, 48);
  Bytes sealed = crypto::aead_chacha20poly1305_seal(key, nonce, {}, pt);
  sealed[5] ^= 0x01;
  SecretBytes out(pt.size());
  std::fill(out.data(), out.data() + out.size(), std::uint8_t{0x55});
  auto r = crypto::aead_chacha20poly1305_open_into(key, nonce, {}, sealed, out.mutable_view());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() == CryptoError::kDecryptFailed);
  // libsodium verifies the tag before decrypting and then clears the buffer.
  bool all_zero = true;
  bool untouched = true;
  for (std::size_t i = 0; i < out.size(); ++i) {
    all_zero = all_zero && out.data()[i] == 0x00;
    untouched = untouched && out.data()[i] == 0x55;
  }
  CHECK((all_zero || untouched));
  // A wrongly sized output buffer is a length error.
  SecretBytes small(pt.size() - 1);
  auto r2 = crypto::aead_chacha20poly1305_open_into(key, nonce, {}, sealed, small.mutable_view());
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error() == CryptoError::kInvalidLength);
}

// ---- HKDF key independence ----

TEST_CASE("HKDF: different info, salt or IKM give unrelated keys", "[crypto][property][hkdf]") {
  SeededRng rng(std::uint64_t{11});
  const Bytes ikm = crypto::random_bytes(rng, 32);
  const Bytes salt = crypto::random_bytes(rng, 32);
  auto derive = [&](ByteView s, ByteView i, std::string_view info) {
    auto r = crypto::hkdf_sha256(s, i, label_bytes(info), 64);
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  SecretBytes a = derive(salt, ikm, "Sotto/v1/TestA");
  SecretBytes b = derive(salt, ikm, "Sotto/v1/TestB");
  SecretBytes a2 = derive(salt, ikm, "Sotto/v1/TestA");
  CHECK(a.equals(a2));  // deterministic
  CHECK_FALSE(a.equals(b));
  // No half of one output equals any half of the other.
  CHECK_FALSE(crypto::ct_equal(a.view().first(32), b.view().first(32)));
  CHECK_FALSE(crypto::ct_equal(a.view().last(32), b.view().last(32)));
  CHECK_FALSE(crypto::ct_equal(a.view().first(32), b.view().last(32)));

  Bytes salt2 = salt;
  salt2[0] ^= 1;
  CHECK_FALSE(a.equals(derive(salt2, ikm, "Sotto/v1/TestA")));
  Bytes ikm2 = ikm;
  ikm2[31] ^= 0x80;
  CHECK_FALSE(a.equals(derive(salt, ikm2, "Sotto/v1/TestA")));
  // A longer output starts with the shorter one (RFC 5869 2.3).
  auto short32 = crypto::hkdf_sha256(salt, ikm, label_bytes("Sotto/v1/TestA"), 32);
  REQUIRE(short32.ok());
  CHECK(crypto::ct_equal(short32->view(), a.view().first(32)));
  // info is not a prefix-free encoding: "Sotto/v1/TestA" and "Sotto/v1/TestAB" differ anyway.
  CHECK_FALSE(a.equals(derive(salt, ikm, "Sotto/v1/TestAB")));
}

// ---- BLAKE2b ----

TEST_CASE("BLAKE2b: incremental updates equal the one-shot hash", "[crypto][property][blake2b]") {
  SeededRng rng(std::uint64_t{12});
  const Bytes data = crypto::random_bytes(rng, 777);
  const Bytes key = crypto::random_bytes(rng, 64);
  for (std::size_t out_len : {std::size_t{1}, std::size_t{32}, std::size_t{64}}) {
    for (bool keyed : {false, true}) {
      const ByteView k = keyed ? ByteView(key) : ByteView();
      const Bytes one_shot = crypto::blake2b(out_len, data, k);
      REQUIRE(one_shot.size() == out_len);
      for (int trial = 0; trial < 20; ++trial) {
        crypto::Blake2b h(out_len, k);
        std::size_t at = 0;
        while (at < data.size()) {
          std::size_t n = std::min<std::size_t>(rng.uniform(200), data.size() - at);
          h.update(ByteView(data).subspan(at, n));  // n may be 0: an empty update
          at += n;
        }
        Bytes out(out_len);
        h.finish(out);
        CHECK(out == one_shot);
      }
    }
  }
  // Every output length 1..64 (keyed or not) is libsodium's one-shot BLAKE2b.
  for (std::size_t out_len = 1; out_len <= 64; ++out_len) {
    Bytes ref(out_len);
    REQUIRE(crypto_generichash(ref.data(), out_len, data.data(), data.size(), nullptr, 0) == 0);
    CHECK(crypto::blake2b(out_len, data) == ref);
    REQUIRE(crypto_generichash(ref.data(), out_len, data.data(), data.size(), key.data(),
                               out_len) == 0);  // key lengths 1..64 too
    CHECK(crypto::blake2b(out_len, data, ByteView(key).first(out_len)) == ref);
  }
  // The output length and the key are part of the function, not a truncation.
  const Bytes long_hash = crypto::blake2b(64, data);
  CHECK(crypto::blake2b(32, data) != Bytes(long_hash.begin(), long_hash.begin() + 32));
  CHECK(crypto::blake2b(32, data) != crypto::blake2b(32, data, key));
}

// ---- comparison helpers ----

TEST_CASE("ct_equal and is_zero", "[crypto][property]") {
  const Bytes a = hx("00010203");
  CHECK(crypto::ct_equal(a, hx("00010203")));
  CHECK_FALSE(crypto::ct_equal(a, hx("00010204")));
  CHECK_FALSE(crypto::ct_equal(a, hx("000102")));
  CHECK(crypto::ct_equal({}, {}));
  CHECK(crypto::is_zero(hx("000000")));
  CHECK_FALSE(crypto::is_zero(hx("000100")));
}
