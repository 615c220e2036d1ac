// test_store_crypto.cpp — the profile store's key hierarchy (client/store_crypto.*):
// Argon2id against libsodium's own API, key wrapping round trip and failures, the
// KDF parameters bound to the wrapped key, per-table key independence, the record
// AD layout byte for byte, and records that refuse to open anywhere but their own
// table and row.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <set>

#include "client/store_crypto.hpp"
#include "client/store_records.hpp"

using namespace sotto;
using namespace sotto::client;

namespace {
SecretBytes pass(std::string_view s) {
  return SecretBytes::copy_of(label_bytes(s));
}
}  // namespace

TEST_CASE("derive_kek is Argon2id13 with the given salt and cost", "[store_crypto]") {
  const Bytes salt(kSaltBytes, 0x42);
  const KdfParams p = KdfParams::minimum();
  auto kek = derive_kek(pass("correct horse"), p, salt);
  REQUIRE(kek.ok());
  std::array<std::uint8_t, 32> expect{};
  const char pw[] = "correct horse";
  REQUIRE(crypto_pwhash_argon2id(expect.data(), expect.size(), pw, sizeof(pw) - 1, salt.data(),
                                 p.opslimit, p.memlimit,
                                 crypto_pwhash_argon2id_ALG_ARGON2ID13) == 0);
  CHECK(crypto::ct_equal(kek->view(), expect));
  // Another salt or cost gives another key.
  auto other_salt = derive_kek(pass("correct horse"), p, Bytes(kSaltBytes, 0x43));
  auto other_cost = derive_kek(pass("correct horse"), {2, p.memlimit}, salt);
  REQUIRE(other_salt.ok());
  REQUIRE(other_cost.ok());
  CHECK_FALSE(other_salt->equals(*kek));
  CHECK_FALSE(other_cost->equals(*kek));
}

TEST_CASE("KDF parameter bounds", "[store_crypto]") {
  CHECK(kdf_params_in_bounds(KdfParams::minimum()));
  CHECK(kdf_params_in_bounds(KdfParams::interactive()));
  CHECK(kdf_params_in_bounds(KdfParams::moderate()));
  CHECK_FALSE(kdf_params_in_bounds({0, 8192}));
  CHECK_FALSE(kdf_params_in_bounds({1, 4096}));
  CHECK_FALSE(kdf_params_in_bounds({65, 8192}));
  CHECK_FALSE(kdf_params_in_bounds({1, (std::uint64_t{4} << 30) + 1}));
  auto r = derive_kek(pass("x"), {0, 8192}, Bytes(kSaltBytes));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == StoreError::kInvalidArgument);
}

TEST_CASE("the store key wraps and unwraps under the passphrase only", "[store_crypto]") {
  SeededRng rng(7);
  const StoreKey sk = generate_store_key(rng);
  auto h = wrap_store_key(sk, pass("alpha"), KdfParams::minimum(), rng);
  REQUIRE(h.ok());
  CHECK(h->salt.size() == 16);
  CHECK(h->wrap_nonce.size() == 24);
  CHECK(h->wrapped_key.size() == 48);
  CHECK(h->digest == header_digest(*h));

  auto back = unwrap_store_key(*h, pass("alpha"));
  REQUIRE(back.ok());
  CHECK(back->equals(sk));

  auto wrong = unwrap_store_key(*h, pass("alphA"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == StoreError::kWrongPassphrase);
  CHECK(describe(wrong.error()) == "wrong passphrase");

  // Two wraps of the same key draw fresh salts and nonces.
  auto h2 = wrap_store_key(sk, pass("alpha"), KdfParams::minimum(), rng);
  REQUIRE(h2.ok());
  CHECK(h2->salt != h->salt);
  CHECK(h2->wrapped_key != h->wrapped_key);

  auto empty = wrap_store_key(sk, SecretBytes{}, KdfParams::minimum(), rng);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == StoreError::kInvalidArgument);
}

TEST_CASE("the header: damage is tampering, a consistent edit of the parameters a wrong passphrase",
          "[store_crypto]") {
  SeededRng rng(8);
  const StoreKey sk = generate_store_key(rng);
  auto made = wrap_store_key(sk, pass("alpha"), KdfParams::minimum(), rng);
  REQUIRE(made.ok());
  const KeyHeader h = std::move(made).value();

  auto expect_tampered = [](const KeyHeader& bad) {
    auto r = unwrap_store_key(bad, pass("alpha"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::kTampered);
    CHECK(r.error().table == "header");
  };
  {  // opslimit changed, digest not updated: caught before Argon2id
    KeyHeader bad = h;
    bad.kdf.opslimit += 1;
    expect_tampered(bad);
  }
  {  // salt byte flipped
    KeyHeader bad = h;
    bad.salt[3] ^= 1;
    expect_tampered(bad);
  }
  {  // parameters out of bounds (a 1 TiB memlimit must not be attempted)
    KeyHeader bad = h;
    bad.kdf.memlimit = std::uint64_t{1} << 40;
    bad.digest = header_digest(bad);
    expect_tampered(bad);
  }
  {  // unknown algorithm or format
    KeyHeader bad = h;
    bad.kdf_algorithm = 1;
    bad.digest = header_digest(bad);
    expect_tampered(bad);
    KeyHeader bad2 = h;
    bad2.format = 2;
    bad2.digest = header_digest(bad2);
    expect_tampered(bad2);
  }
  {  // wrapped key flipped and digest recomputed: the check passes, the AEAD does not
    KeyHeader bad = h;
    bad.wrapped_key[5] ^= 0x80;
    bad.digest = header_digest(bad);
    expect_tampered(bad);
  }
  {  // parameters changed consistently (digest recomputed): indistinguishable from a
     // wrong passphrase, and still refused
    KeyHeader bad = h;
    bad.kdf.opslimit = 2;
    bad.digest = header_digest(bad);
    auto r = unwrap_store_key(bad, pass("alpha"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::kWrongPassphrase);
  }
}

TEST_CASE("per-table keys are independent", "[store_crypto]") {
  SeededRng rng(9);
  const StoreKey sk = generate_store_key(rng);
  const StoreKey sk2 = generate_store_key(rng);
  std::set<Bytes> seen;
  for (std::string_view t : {"identity", "contacts", "messages", "contacts/by_id"}) {
    const TableSealKey s = derive_seal_key(sk, t);
    const TableLookupKey l = derive_lookup_key(sk, t);
    seen.insert(Bytes(s.view().begin(), s.view().end()));
    seen.insert(Bytes(l.view().begin(), l.view().end()));
    seen.insert(row_key(l, label_bytes("alice")));
    const TableSealKey other = derive_seal_key(sk2, t);
    CHECK_FALSE(other.equals(s));
  }
  CHECK(seen.size() == 12);
  // The seal key is HKDF-SHA-256(salt = empty, IKM = SK, info = "Sotto/v1/StoreSeal/" || t).
  auto expect = crypto::hkdf_sha256({}, sk.view(), label_bytes("Sotto/v1/StoreSeal/contacts"), 32);
  REQUIRE(expect.ok());
  CHECK(derive_seal_key(sk, "contacts").bytes().equals(*expect));
  // The row key is keyed BLAKE2b-256 of the logical key.
  const TableLookupKey l = derive_lookup_key(sk, "contacts");
  CHECK(row_key(l, label_bytes("bob")) == crypto::blake2b(32, label_bytes("bob"), l.view()));
}

TEST_CASE("record AD layout", "[store_crypto]") {
  const Bytes row = {0xaa, 0xbb, 0xcc};
  const Bytes ad = record_ad("contacts", row);
  Bytes expect = concat(label_bytes("Sotto/v1/StoreRecord"));
  put_u32be(expect, 1);
  expect.push_back(8);
  append(expect, label_bytes("contacts"));
  put_u16be(expect, 3);
  append(expect, row);
  CHECK(ad == expect);
  CHECK(to_hex(ad) ==
        "536f74746f2f76312f53746f72655265636f7264"
        "00000001"
        "08"
        "636f6e7461637473"
        "0003"
        "aabbcc");
}

TEST_CASE("a sealed record opens only in its own table and row, under its own key",
          "[store_crypto]") {
  SeededRng rng(10);
  const StoreKey sk = generate_store_key(rng);
  const TableSealKey k = derive_seal_key(sk, "sessions");
  const Bytes row(32, 0x11);
  const SecretBytes value = SecretBytes::copy_of(label_bytes("ratchet state"));
  const SealedRecord rec = seal_record(k, "sessions", row, value.view(), rng);
  CHECK(rec.nonce.size() == 24);
  CHECK(rec.ciphertext.size() == value.size() + 16);

  auto ok = open_record(k, "sessions", row, rec.nonce, rec.ciphertext);
  REQUIRE(ok.ok());
  CHECK(ok->equals(value));

  auto other_table = open_record(k, "contacts", row, rec.nonce, rec.ciphertext);
  REQUIRE_FALSE(other_table.ok());
  CHECK(other_table.error().table == "contacts");
  Bytes other_row = row;
  other_row[0] ^= 1;
  CHECK_FALSE(open_record(k, "sessions", other_row, rec.nonce, rec.ciphertext).ok());
  CHECK_FALSE(
      open_record(derive_seal_key(sk, "contacts"), "sessions", row, rec.nonce, rec.ciphertext)
          .ok());
  Bytes ct = rec.ciphertext;
  ct[0] ^= 1;
  CHECK_FALSE(open_record(k, "sessions", row, rec.nonce, ct).ok());
  CHECK_FALSE(open_record(k, "sessions", row, Bytes(23), rec.ciphertext).ok());
  CHECK_FALSE(open_record(k, "sessions", row, rec.nonce, Bytes(15)).ok());
}

TEST_CASE("record layouts round trip and refuse trailing or missing bytes", "[store_records]") {
  SessionRecord s;
  s.ratchet_state = SecretBytes::copy_of(label_bytes("state bytes"));
  s.pending_header = Bytes{1, 2, 3};
  s.verification = Verification::kVerified;
  SecretBytes enc = encode_session(s);
  auto back = decode_session(enc.view());
  REQUIRE(back);
  CHECK(back->ratchet_state.equals(s.ratchet_state));
  CHECK(back->pending_header == s.pending_header);
  CHECK(back->verification == Verification::kVerified);
  Bytes longer(enc.view().begin(), enc.view().end());
  longer.push_back(0);
  CHECK_FALSE(decode_session(longer));
  CHECK_FALSE(decode_session(enc.view().first(enc.size() - 1)));

  Contact c{"alice", {}, true};
  c.account_id.bytes.fill(9);
  SecretBytes ce = encode_contact(c);
  auto cb = decode_contact(ce.view());
  REQUIRE(cb);
  CHECK(cb->name == "alice");
  CHECK(cb->account_id == c.account_id);
  CHECK(cb->verified);
  CHECK_FALSE(decode_contact(ce.view().first(ce.size() - 1)));

  StoredMessage m;
  m.direction = Direction::kOutgoing;
  m.time = 1700000000;
  m.message_id = {7, 7};
  m.text = SecretBytes::copy_of(label_bytes("hello"));
  SecretBytes me = encode_message(m);
  auto mb = decode_message(me.view());
  REQUIRE(mb);
  CHECK(mb->direction == Direction::kOutgoing);
  CHECK(mb->time == m.time);
  CHECK(mb->message_id == m.message_id);
  CHECK(mb->text.equals(m.text));
  Bytes bad_dir(me.view().begin(), me.view().end());
  bad_dir[0] = 3;
  CHECK_FALSE(decode_message(bad_dir));
}

TEST_CASE("the keyed layout round trips and refuses a logical key longer than the record",
          "[store_records]") {
  const ByteView key = label_bytes("relay.address");
  const ByteView value = label_bytes("127.0.0.1:7443");
  const SecretBytes plain = encode_keyed(key, value);
  // u16be(len logical key) || logical key || value
  Bytes expect;
  put_u16be(expect, static_cast<std::uint16_t>(key.size()));
  append(expect, key);
  append(expect, value);
  CHECK(crypto::ct_equal(plain.view(), expect));
  auto back = decode_keyed(plain.view());
  REQUIRE(back.has_value());
  CHECK(crypto::ct_equal(back->logical_key, key));
  CHECK(crypto::ct_equal(back->value, value));
  // An empty key and an empty value are both allowed (the identity row has an empty key).
  const SecretBytes empty = encode_keyed({}, {});
  REQUIRE(empty.size() == 2);
  auto e = decode_keyed(empty.view());
  REQUIRE(e.has_value());
  CHECK(e->logical_key.empty());
  CHECK(e->value.empty());
  // Too short for its length prefix, or for the key it announces.
  CHECK_FALSE(decode_keyed(ByteView(expect).first(1)).has_value());
  CHECK_FALSE(decode_keyed(ByteView(expect).first(1 + key.size())).has_value());
  Bytes lying = expect;
  lying[0] = 0xff;
  CHECK_FALSE(decode_keyed(lying).has_value());
}
