// store_crypto.cpp — Argon2id, key wrapping and record sealing for the profile
// store (see store_crypto.hpp and docs/client-store.md).
#include "client/store_crypto.hpp"

#include <sodium.h>

#include <limits>
#include <string>

namespace sotto::client {
namespace {

constexpr std::string_view kWrapLabel = "Sotto/v1/StoreKeyWrap";
constexpr std::string_view kCheckLabel = "Sotto/v1/StorePassphraseCheck";
constexpr std::string_view kDigestLabel = "Sotto/v1/StoreHeaderDigest";
constexpr std::string_view kSealLabel = "Sotto/v1/StoreSeal/";
constexpr std::string_view kLookupLabel = "Sotto/v1/StoreLookup/";
constexpr std::string_view kRecordLabel = "Sotto/v1/StoreRecord";
constexpr char kHeaderTable[] = "header";

constexpr std::uint64_t kMaxOpslimit = 64;
constexpr std::uint64_t kMaxMemlimit = std::uint64_t{4} << 30;

// HKDF-SHA-256(salt = empty, IKM = ikm, info, 32): cannot fail for 32 bytes.
SecretBytes hkdf32(ByteView ikm, ByteView info) {
  auto okm = crypto::hkdf_sha256({}, ikm, info, 32);
  if (!okm) std::abort();  // 32 bytes is always a valid HKDF length
  return std::move(okm).value();
}

Bytes label_with(std::string_view label, std::string_view name) {
  Bytes info = concat(label_bytes(label));
  append(info, label_bytes(name));
  return info;
}

}  // namespace

KdfParams KdfParams::moderate() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
}
KdfParams KdfParams::interactive() {
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}
KdfParams KdfParams::minimum() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

bool kdf_params_in_bounds(const KdfParams& p) {
  return p.opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN && p.opslimit <= kMaxOpslimit &&
         p.memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN && p.memlimit <= kMaxMemlimit &&
         p.memlimit <= std::numeric_limits<std::size_t>::max();
}

Bytes encode_kdf_parameters(const KeyHeader& h) {
  Bytes p;
  put_u32be(p, h.format);
  put_u32be(p, h.kdf_algorithm);
  put_u64be(p, h.kdf.opslimit);
  put_u64be(p, h.kdf.memlimit);
  append(p, h.salt);
  return p;
}

Bytes header_digest(const KeyHeader& h) {
  crypto::Blake2b b(32);
  b.update(label_bytes(kDigestLabel));
  b.update(encode_kdf_parameters(h));
  b.update(h.passphrase_check);
  b.update(h.wrap_nonce);
  b.update(h.wrapped_key);
  Bytes out(32);
  b.finish(out);
  return out;
}

StoreKey generate_store_key(Rng& rng) {
  StoreKey sk;
  rng.fill(sk.mutable_view());
  return sk;
}

StoreResult<KeyEncryptionKey> derive_kek(const SecretBytes& passphrase, const KdfParams& params,
                                         ByteView salt) {
  ensure_sodium();
  if (salt.size() != kSaltBytes) return store_fail(StoreError::kInvalidArgument, {}, "salt size");
  if (!kdf_params_in_bounds(params)) {
    return store_fail(StoreError::kInvalidArgument, {}, "KDF parameters out of bounds");
  }
  KeyEncryptionKey kek;
  // An empty passphrase has no buffer (data() is null), but crypto_pwhash's
  // password argument is declared non-null even for length 0 (UBSan): point it
  // at a byte it will not read.
  static const char kNoBytes = 0;
  const char* password =
      passphrase.size() == 0 ? &kNoBytes : reinterpret_cast<const char*>(passphrase.data());
  // KEK = Argon2id13(passphrase, salt, opslimit, memlimit), 32 bytes.
  const int rc = crypto_pwhash(kek.data(), KeyEncryptionKey::kSize, password, passphrase.size(),
                               salt.data(), params.opslimit,
                               static_cast<std::size_t>(params.memlimit),
                               crypto_pwhash_ALG_ARGON2ID13);
  if (rc != 0) {
    return store_fail(StoreError::kOutOfMemory, {},
                      "Argon2id needs " + std::to_string(params.memlimit) + " bytes");
  }
  return kek;
}

namespace {

// wrap key = HKDF(KEK, "Sotto/v1/StoreKeyWrap"); check = HKDF(KEK, "Sotto/v1/StorePassphraseCheck"
// || P).
struct KekParts {
  SecretBytes wrap_key;
  Bytes check;
};

KekParts split_kek(const KeyEncryptionKey& kek, ByteView params) {
  KekParts parts;
  parts.wrap_key = hkdf32(kek.view(), label_bytes(kWrapLabel));
  SecretBytes check = hkdf32(kek.view(), concat(label_bytes(kCheckLabel), params));
  parts.check.assign(check.view().begin(), check.view().end());  // public by design
  return parts;
}

}  // namespace

StoreResult<KeyHeader> wrap_store_key(const StoreKey& sk, const SecretBytes& passphrase,
                                      const KdfParams& params, Rng& rng) {
  if (passphrase.empty()) return store_fail(StoreError::kInvalidArgument, {}, "empty passphrase");
  if (passphrase.size() > kMaxPassphraseBytes) {
    return store_fail(StoreError::kInvalidArgument, {}, "passphrase longer than 4096 bytes");
  }
  KeyHeader h;
  h.kdf = params;
  h.salt = crypto::random_bytes(rng, kSaltBytes);
  SOTTO_TRY(KeyEncryptionKey kek, derive_kek(passphrase, params, h.salt));
  const Bytes p = encode_kdf_parameters(h);
  KekParts parts = split_kek(kek, p);
  h.passphrase_check = std::move(parts.check);
  h.wrap_nonce = crypto::random_bytes(rng, kNonceBytes);
  // wrapped = XChaCha20-Poly1305(wrap key, nonce, AD = "Sotto/v1/StoreKeyWrap" || P, SK)
  h.wrapped_key = crypto::aead_xchacha20poly1305_seal(
      std::span<const std::uint8_t, 32>(parts.wrap_key.data(), 32),
      std::span<const std::uint8_t, 24>(h.wrap_nonce.data(), 24),
      concat(label_bytes(kWrapLabel), p), sk.view());
  h.digest = header_digest(h);
  return h;
}

StoreResult<StoreKey> unwrap_store_key(const KeyHeader& h, const SecretBytes& passphrase) {
  // Damage and naive edits first, before any Argon2id work.
  if (h.format != kStoreFormatVersion) return tampered(kHeaderTable, "unknown header format");
  if (h.kdf_algorithm != kKdfArgon2id13) return tampered(kHeaderTable, "unknown KDF algorithm");
  if (!kdf_params_in_bounds(h.kdf)) return tampered(kHeaderTable, "KDF parameters out of bounds");
  if (h.salt.size() != kSaltBytes || h.passphrase_check.size() != kCheckBytes ||
      h.wrap_nonce.size() != kNonceBytes || h.wrapped_key.size() != 32 + crypto::kAeadTagBytes ||
      h.digest.size() != 32) {
    return tampered(kHeaderTable, "field of the wrong size");
  }
  if (!crypto::ct_equal(header_digest(h), h.digest)) return tampered(kHeaderTable, "digest");
  if (passphrase.size() > kMaxPassphraseBytes) return store_fail(StoreError::kWrongPassphrase);

  SOTTO_TRY(KeyEncryptionKey kek, derive_kek(passphrase, h.kdf, h.salt));
  const Bytes p = encode_kdf_parameters(h);
  KekParts parts = split_kek(kek, p);
  if (!crypto::ct_equal(parts.check, h.passphrase_check)) {
    return store_fail(StoreError::kWrongPassphrase);
  }
  auto opened = crypto::aead_xchacha20poly1305_open(
      std::span<const std::uint8_t, 32>(parts.wrap_key.data(), 32),
      std::span<const std::uint8_t, 24>(h.wrap_nonce.data(), 24),
      concat(label_bytes(kWrapLabel), p), h.wrapped_key);
  // The passphrase is right (the check matched) but the wrapped key does not open.
  if (!opened || opened->size() != StoreKey::kSize) return tampered(kHeaderTable, "wrapped key");
  return StoreKey::adopt(std::move(opened).value());
}

TableSealKey derive_seal_key(const StoreKey& sk, std::string_view table) {
  return TableSealKey::adopt(hkdf32(sk.view(), label_with(kSealLabel, table)));
}

TableLookupKey derive_lookup_key(const StoreKey& sk, std::string_view index) {
  return TableLookupKey::adopt(hkdf32(sk.view(), label_with(kLookupLabel, index)));
}

Bytes row_key(const TableLookupKey& key, ByteView logical_key) {
  return crypto::blake2b(kRowKeyBytes, logical_key, key.view());
}

Bytes record_ad(std::string_view table, ByteView row) {
  // "Sotto/v1/StoreRecord" || u32be(record format) || u8(len t) || t || u16be(len row) || row
  Bytes ad = concat(label_bytes(kRecordLabel));
  put_u32be(ad, kRecordFormatVersion);
  ad.push_back(static_cast<std::uint8_t>(table.size()));
  append(ad, label_bytes(table));
  put_u16be(ad, static_cast<std::uint16_t>(row.size()));
  append(ad, row);
  return ad;
}

SealedRecord seal_record(const TableSealKey& key, std::string_view table, ByteView row,
                         ByteView value, Rng& rng) {
  SealedRecord r;
  r.nonce = crypto::random_bytes(rng, kNonceBytes);
  r.ciphertext = crypto::aead_xchacha20poly1305_seal(
      key.view(), std::span<const std::uint8_t, 24>(r.nonce.data(), 24), record_ad(table, row),
      value);
  return r;
}

StoreResult<SecretBytes> open_record(const TableSealKey& key, std::string_view table, ByteView row,
                                     ByteView nonce, ByteView ciphertext) {
  if (nonce.size() != kNonceBytes || ciphertext.size() < crypto::kAeadTagBytes) {
    return tampered(std::string(table), "record of the wrong size");
  }
  auto opened = crypto::aead_xchacha20poly1305_open(
      key.view(), std::span<const std::uint8_t, 24>(nonce.data(), 24), record_ad(table, row),
      ciphertext);
  if (!opened) return tampered(std::string(table));
  return std::move(opened).value();
}

}  // namespace sotto::client
