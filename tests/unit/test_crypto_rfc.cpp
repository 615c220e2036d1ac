// test_crypto_rfc.cpp — the primitives of common/crypto.hpp against the
// known-answer vectors published in their RFCs, typed in from the RFC text:
//
//   HKDF-SHA-256        RFC 5869 appendix A, test cases 1-3 (PRK and OKM)
//   X25519              RFC 7748 section 5.2 (single and iterated) and 6.1 (Alice/Bob)
//   Ed25519             RFC 8032 section 7.1, TEST 1, 2, 3, 1024 and SHA(abc)
//   ChaCha20-Poly1305   RFC 8439 section 2.8.2
//   HMAC-SHA-256        RFC 4231 test cases 1-4, 6, 7 (5 is truncated output)
//   BLAKE2b-512         RFC 7693 appendix A ("abc")
//
// A failure here means the wrapper or the library computes something other
// than the standard primitive; nothing else in Sotto can be right then.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "common/crypto.hpp"

using namespace sotto;

namespace {

// Published vectors are public bytes: hex in, hex out.
Bytes hx(std::string_view hex) {
  auto b = from_hex(hex);
  REQUIRE(b.has_value());
  return *b;
}

Bytes repeat(std::uint8_t v, std::size_t n) {
  return Bytes(n, v);
}

Bytes range(std::uint8_t first, std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

template <class T>
T fixed(std::string_view hex) {
  auto v = T::from(hx(hex));
  REQUIRE(v.has_value());
  return *v;
}

template <class S>
S secret(std::string_view hex) {
  return S::copy_of(hx(hex));
}

std::string hex_of(ByteView v) {
  return to_hex(v);
}

}  // namespace

// ---- HKDF-SHA-256, RFC 5869 appendix A ----

TEST_CASE("HKDF-SHA-256 RFC 5869 test case 1 (basic)", "[crypto][rfc][hkdf]") {
  const Bytes ikm = repeat(0x0b, 22);
  const Bytes salt = range(0x00, 13);
  const Bytes info = range(0xf0, 10);
  SecretBytes prk = crypto::hkdf_sha256_extract(salt, ikm);
  CHECK(hex_of(prk.view()) == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  const char* okm_hex =
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
  auto okm = crypto::hkdf_sha256_expand(prk.view(), info, 42);
  REQUIRE(okm.ok());
  CHECK(hex_of(okm->view()) == okm_hex);
  auto okm2 = crypto::hkdf_sha256(salt, ikm, info, 42);
  REQUIRE(okm2.ok());
  CHECK(hex_of(okm2->view()) == okm_hex);
}

TEST_CASE("HKDF-SHA-256 RFC 5869 test case 2 (long inputs, 82-byte output)",
          "[crypto][rfc][hkdf]") {
  const Bytes ikm = range(0x00, 80);
  const Bytes salt = range(0x60, 80);
  const Bytes info = range(0xb0, 80);
  SecretBytes prk = crypto::hkdf_sha256_extract(salt, ikm);
  CHECK(hex_of(prk.view()) == "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
  auto okm = crypto::hkdf_sha256(salt, ikm, info, 82);
  REQUIRE(okm.ok());
  CHECK(hex_of(okm->view()) ==
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST_CASE("HKDF-SHA-256 RFC 5869 test case 3 (zero-length salt and info)", "[crypto][rfc][hkdf]") {
  const Bytes ikm = repeat(0x0b, 22);
  SecretBytes prk = crypto::hkdf_sha256_extract({}, ikm);
  CHECK(hex_of(prk.view()) == "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  auto okm = crypto::hkdf_sha256({}, ikm, {}, 42);
  REQUIRE(okm.ok());
  CHECK(hex_of(okm->view()) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // RFC 5869 2.2: an absent salt is HashLen zero bytes.
  SecretBytes prk_zero = crypto::hkdf_sha256_extract(repeat(0x00, 32), ikm);
  CHECK(prk_zero.equals(prk));
}

TEST_CASE("HKDF-SHA-256 output length limits (RFC 5869 2.3: L <= 255*HashLen)",
          "[crypto][rfc][hkdf]") {
  const Bytes ikm = repeat(0x0b, 22);
  SecretBytes prk = crypto::hkdf_sha256_extract({}, ikm);

  auto zero = crypto::hkdf_sha256_expand(prk.view(), {}, 0);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error() == CryptoError::kInvalidLength);

  auto too_long = crypto::hkdf_sha256_expand(prk.view(), {}, 255 * 32 + 1);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error() == CryptoError::kInvalidLength);
  auto too_long2 = crypto::hkdf_sha256({}, ikm, {}, 255 * 32 + 1);
  REQUIRE_FALSE(too_long2.ok());
  CHECK(too_long2.error() == CryptoError::kInvalidLength);

  // The maximum is allowed, and every output is a prefix of a longer one.
  auto max = crypto::hkdf_sha256_expand(prk.view(), {}, crypto::kHkdfSha256MaxOutput);
  REQUIRE(max.ok());
  CHECK(max->size() == 255 * 32);
  CHECK(hex_of(max->view().first(42)) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");

  // A PRK shorter than HashLen is not a PRK.
  auto short_prk = crypto::hkdf_sha256_expand(prk.view().first(31), {}, 32);
  REQUIRE_FALSE(short_prk.ok());
  CHECK(short_prk.error() == CryptoError::kInvalidLength);
}

// ---- X25519, RFC 7748 ----

TEST_CASE("X25519 RFC 7748 section 5.2 single-iteration vectors", "[crypto][rfc][x25519]") {
  struct Case {
    const char* scalar;
    const char* u;
    const char* out;
  };
  const Case cases[] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      // The u-coordinate has its top bit set: it must be masked (RFC 7748 section 5).
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (const auto& c : cases) {
    auto k = secret<X25519SecretKey>(c.scalar);
    auto u = fixed<X25519PublicKey>(c.u);
    auto out = crypto::x25519(k, u);
    REQUIRE(out.ok());
    CHECK(hex_of(out->view()) == c.out);
  }
}

namespace {
// RFC 7748 5.2: k = u = 9; repeat { r = X25519(k, u); u = k; k = r }.
std::string x25519_iterated(int iterations) {
  X25519SecretKey k;
  k.mutable_view()[0] = 9;
  X25519PublicKey u;
  u.bytes[0] = 9;
  for (int i = 0; i < iterations; ++i) {
    auto r = crypto::x25519(k, u);
    REQUIRE(r.ok());
    std::copy(k.view().begin(), k.view().end(), u.bytes.begin());
    k = X25519SecretKey::copy_of(r->view());
  }
  return hex_of(k.view());
}
}  // namespace

TEST_CASE("X25519 RFC 7748 section 5.2 iterated vector: 1 and 1,000 iterations",
          "[crypto][rfc][x25519]") {
  CHECK(x25519_iterated(1) == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
  CHECK(x25519_iterated(1000) ==
        "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

TEST_CASE("X25519 RFC 7748 section 5.2 iterated vector: 1,000,000 iterations",
          "[crypto][rfc][x25519][.slow]") {
  CHECK(x25519_iterated(1000000) ==
        "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424");
}

TEST_CASE("X25519 RFC 7748 section 6.1 Diffie-Hellman example", "[crypto][rfc][x25519]") {
  auto alice = crypto::x25519_from_secret(
      secret<X25519SecretKey>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = crypto::x25519_from_secret(
      secret<X25519SecretKey>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  CHECK(hex_of(alice.public_key.view()) ==
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  CHECK(hex_of(bob.public_key.view()) ==
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  CHECK(crypto::x25519_public_from(alice.secret) == alice.public_key);
  auto k_alice = crypto::x25519(alice.secret, bob.public_key);
  auto k_bob = crypto::x25519(bob.secret, alice.public_key);
  REQUIRE(k_alice.ok());
  REQUIRE(k_bob.ok());
  CHECK(hex_of(k_alice->view()) ==
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  CHECK(k_alice->equals(*k_bob));
}

// ---- Ed25519, RFC 8032 section 7.1 ----

namespace {
void check_ed25519(const char* seed_hex, const char* pk_hex, const Bytes& msg,
                   const char* sig_hex) {
  auto kp = crypto::ed25519_from_seed(secret<Ed25519Seed>(seed_hex));
  CHECK(hex_of(kp.public_key.view()) == pk_hex);
  // libsodium's secret key form: seed || public key.
  CHECK(hex_of(kp.secret.view().first(32)) == seed_hex);
  CHECK(hex_of(kp.secret.view().last(32)) == pk_hex);
  Ed25519Signature sig = crypto::ed25519_sign(kp.secret, msg);
  CHECK(hex_of(sig.view()) == sig_hex);
  CHECK(crypto::ed25519_verify(kp.public_key, msg, fixed<Ed25519Signature>(sig_hex)));
  // Any change to the message, the signature or the key is rejected.
  Bytes other = msg;
  other.push_back(0x00);
  CHECK_FALSE(crypto::ed25519_verify(kp.public_key, other, sig));
  Ed25519Signature bad = sig;
  bad.bytes[0] ^= 0x01;
  CHECK_FALSE(crypto::ed25519_verify(kp.public_key, msg, bad));
  bad = sig;
  bad.bytes[40] ^= 0x01;
  CHECK_FALSE(crypto::ed25519_verify(kp.public_key, msg, bad));
  Ed25519PublicKey wrong = kp.public_key;
  wrong.bytes[0] ^= 0x01;
  CHECK_FALSE(crypto::ed25519_verify(wrong, msg, sig));
}
}  // namespace

TEST_CASE("Ed25519 RFC 8032 7.1 TEST 1 (empty message)", "[crypto][rfc][ed25519]") {
  check_ed25519("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", {},
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST_CASE("Ed25519 RFC 8032 7.1 TEST 2 (one byte)", "[crypto][rfc][ed25519]") {
  check_ed25519("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", hx("72"),
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

TEST_CASE("Ed25519 RFC 8032 7.1 TEST 3 (two bytes)", "[crypto][rfc][ed25519]") {
  check_ed25519("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", hx("af82"),
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a");
}

TEST_CASE("Ed25519 RFC 8032 7.1 TEST 1024 (1023-byte message)", "[crypto][rfc][ed25519]") {
  const Bytes msg =
      hx("08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
         "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
         "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
         "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
         "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
         "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
         "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
         "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
         "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
         "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
         "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
         "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
         "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
         "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
         "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
         "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
         "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
         "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
         "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
         "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
         "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
         "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
         "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
         "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
         "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
         "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
         "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
         "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
         "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
         "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
         "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
         "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0");
  REQUIRE(msg.size() == 1023);
  check_ed25519("f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
                "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", msg,
                "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
                "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03");
}

TEST_CASE("Ed25519 RFC 8032 7.1 TEST SHA(abc)", "[crypto][rfc][ed25519]") {
  // The message is SHA-512("abc").
  const Bytes msg =
      hx("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  check_ed25519("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
                "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf", msg,
                "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
                "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704");
}

// ---- ChaCha20-Poly1305 AEAD, RFC 8439 section 2.8.2 ----

TEST_CASE("ChaCha20-Poly1305 RFC 8439 2.8.2 AEAD example", "[crypto][rfc][aead]") {
  const std::string_view text =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const Bytes plaintext(text.begin(), text.end());
  const Bytes aad = hx("50515253c0c1c2c3c4c5c6c7");
  const Bytes key = range(0x80, 32);
  // nonce = constant (07 00 00 00) || IV (40 41 42 43 44 45 46 47)
  const Bytes nonce = hx("070000004041424344454647");
  const std::string ct_hex =
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116";
  const std::string tag_hex = "1ae10b594f09e26a7e902ecbd0600691";

  const Key32 k(key.data(), 32);
  const std::span<const std::uint8_t, 12> n(nonce.data(), 12);
  Bytes sealed = crypto::aead_chacha20poly1305_seal(k, n, aad, plaintext);
  CHECK(hex_of(sealed) == ct_hex + tag_hex);

  auto opened = crypto::aead_chacha20poly1305_open(k, n, aad, sealed);
  REQUIRE(opened.ok());
  CHECK(crypto::ct_equal(opened->view(), plaintext));

  // The in-place variants compute the same bytes.
  Bytes into(plaintext.size() + crypto::kAeadTagBytes);
  crypto::aead_chacha20poly1305_seal_into(k, n, aad, plaintext, into);
  CHECK(into == sealed);
  SecretBytes out(plaintext.size());
  REQUIRE(crypto::aead_chacha20poly1305_open_into(k, n, aad, sealed, out.mutable_view()).ok());
  CHECK(crypto::ct_equal(out.view(), plaintext));

  // A wrong AD fails authentication.
  auto wrong_ad = crypto::aead_chacha20poly1305_open(k, n, hx("50515253c0c1c2c3c4c5c6c8"), sealed);
  REQUIRE_FALSE(wrong_ad.ok());
  CHECK(wrong_ad.error() == CryptoError::kDecryptFailed);
}

// ---- HMAC-SHA-256, RFC 4231 ----

TEST_CASE("HMAC-SHA-256 RFC 4231 test cases 1-4, 6, 7", "[crypto][rfc][hmac]") {
  auto text = [](std::string_view s) { return Bytes(s.begin(), s.end()); };
  struct Case {
    const char* name;
    Bytes key;
    Bytes data;
    const char* mac;
  };
  const Case cases[] = {
      {"1", repeat(0x0b, 20), text("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", text("Jefe"), text("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", repeat(0xaa, 20), repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", range(0x01, 25), repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6", repeat(0xaa, 131), text("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", repeat(0xaa, 131),
       text("This is a test using a larger than block-size key and a larger than block-size "
            "data. The key needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    INFO("RFC 4231 test case " << c.name);
    std::array<std::uint8_t, 32> mac{};
    crypto::hmac_sha256(c.key, c.data, mac);
    CHECK(hex_of(mac) == c.mac);
    // The two-part form over data1 || data2 is the same MAC, wherever the split falls.
    for (std::size_t split : {std::size_t{0}, std::size_t{1}, c.data.size() / 2, c.data.size()}) {
      std::array<std::uint8_t, 32> mac2{};
      const ByteView d(c.data);
      crypto::hmac_sha256(c.key, d.first(split), d.subspan(split), mac2);
      CHECK(hex_of(mac2) == c.mac);
    }
  }
}

// ---- BLAKE2b, RFC 7693 appendix A ----

TEST_CASE("BLAKE2b-512 RFC 7693 appendix A (\"abc\")", "[crypto][rfc][blake2b]") {
  const std::string_view abc = "abc";
  const std::string expected =
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
      "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
  CHECK(hex_of(crypto::blake2b(64, label_bytes(abc))) == expected);
  crypto::Blake2b h(64);
  h.update(label_bytes("a"));
  h.update(label_bytes("bc"));
  Bytes out(64);
  h.finish(out);
  CHECK(hex_of(out) == expected);
}
