// store_crypto.hpp — the key hierarchy and record sealing of the profile store
// (docs/client-store.md is the byte-level description; this file implements it).
//
//   passphrase --Argon2id(salt, opslimit, memlimit)--> KEK (32 bytes)
//   KEK --HKDF "Sotto/v1/StoreKeyWrap"-----------------> wrap key
//   KEK --HKDF "Sotto/v1/StorePassphraseCheck" || P----> passphrase check (public, 32 bytes)
//   wrap key: XChaCha20-Poly1305(random store key SK), AD = "Sotto/v1/StoreKeyWrap" || P
//   SK --HKDF "Sotto/v1/StoreSeal/<table>"-------------> per-table seal key
//   SK --HKDF "Sotto/v1/StoreLookup/<index>"-----------> per-index lookup key
//   row key = BLAKE2b-256(key = lookup key, logical key)
//   record  = XChaCha20-Poly1305(seal key, random 24-byte nonce, AD, value)
//   AD      = "Sotto/v1/StoreRecord" || u32be(record format) || u8(len t) || t
//             || u16be(len row) || row
// where P is the encoded KDF parameters (format, algorithm, opslimit, memlimit,
// salt), so the wrapped key authenticates the parameters it was made with.
//
// Everything here is a pure function of its inputs and the Rng it is given (no
// file, no clock). What fails: Argon2id without enough memory (kOutOfMemory),
// parameters outside the accepted bounds (kInvalidArgument when creating,
// kTampered when reading), a passphrase check that does not match
// (kWrongPassphrase), and any record or wrapped key that does not authenticate
// (kTampered, naming the table). Keys are returned as Secret types the caller owns.
#pragma once

#include <cstdint>
#include <string_view>

#include "client/store_error.hpp"
#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

namespace sotto::client {

using KeyEncryptionKey = Secret<struct KeyEncryptionKeyTag, 32>;
using StoreKey = Secret<struct StoreKeyTag, 32>;
using TableSealKey = Secret<struct TableSealKeyTag, 32>;
using TableLookupKey = Secret<struct TableLookupKeyTag, 32>;

inline constexpr std::uint32_t kStoreFormatVersion = 1;   // the header row's layout
inline constexpr std::uint32_t kKdfArgon2id13 = 2;        // = crypto_pwhash_ALG_ARGON2ID13
inline constexpr std::uint32_t kRecordFormatVersion = 1;  // bound into every record's AD
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::size_t kNonceBytes = 24;
inline constexpr std::size_t kRowKeyBytes = 32;
inline constexpr std::size_t kCheckBytes = 32;
inline constexpr std::size_t kMaxPassphraseBytes = 4096;

// Argon2id cost. memlimit is in bytes.
struct KdfParams {
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;

  // libsodium's MODERATE: 3 passes over 256 MiB (about a second on a laptop).
  static KdfParams moderate();
  // libsodium's INTERACTIVE: 2 passes over 64 MiB.
  static KdfParams interactive();
  // The smallest Argon2id allows (1 pass, 8 KiB): for tests only.
  static KdfParams minimum();
  bool operator==(const KdfParams&) const = default;
};

// Bounds a file's parameters must respect: opslimit 1..64, memlimit 8 KiB..4 GiB.
// Outside them a file is refused before any Argon2id work is done.
bool kdf_params_in_bounds(const KdfParams& p);

// The header row: everything needed to turn a passphrase into the store key.
struct KeyHeader {
  std::uint32_t format = kStoreFormatVersion;
  std::uint32_t kdf_algorithm = kKdfArgon2id13;
  KdfParams kdf;
  Bytes salt;              // 16 bytes
  Bytes passphrase_check;  // 32 bytes
  Bytes wrap_nonce;        // 24 bytes
  Bytes wrapped_key;       // 48 bytes: SK sealed under the wrap key
  Bytes digest;            // 32 bytes: unkeyed BLAKE2b of the above (damage check only)
};

// P = u32be(format) || u32be(algorithm) || u64be(opslimit) || u64be(memlimit) || salt.
Bytes encode_kdf_parameters(const KeyHeader& h);
// BLAKE2b-256("Sotto/v1/StoreHeaderDigest" || P || check || wrap_nonce || wrapped_key).
Bytes header_digest(const KeyHeader& h);

// A fresh random store key.
StoreKey generate_store_key(Rng& rng);

// Argon2id13(passphrase, salt, opslimit, memlimit) -> 32 bytes.
[[nodiscard]] StoreResult<KeyEncryptionKey> derive_kek(const SecretBytes& passphrase,
                                                       const KdfParams& params, ByteView salt);

// Wraps `sk` under a passphrase: fresh salt and nonce from `rng`, with `params`.
[[nodiscard]] StoreResult<KeyHeader> wrap_store_key(const StoreKey& sk,
                                                    const SecretBytes& passphrase,
                                                    const KdfParams& params, Rng& rng);

// Checks the header (format, bounds, sizes, digest: kTampered "header"), runs
// Argon2id, compares the passphrase check (kWrongPassphrase) and unwraps the
// store key (kTampered "header" if the check matched but the key does not open).
[[nodiscard]] StoreResult<StoreKey> unwrap_store_key(const KeyHeader& h,
                                                     const SecretBytes& passphrase);

// Per-table keys: HKDF-SHA-256(salt = empty, IKM = SK, info = label || name, 32).
TableSealKey derive_seal_key(const StoreKey& sk, std::string_view table);
TableLookupKey derive_lookup_key(const StoreKey& sk, std::string_view index);

// row key = BLAKE2b-256(key = lookup key, data = logical key).
Bytes row_key(const TableLookupKey& key, ByteView logical_key);

// The associated data of a record (see the top of this file).
Bytes record_ad(std::string_view table, ByteView row);

struct SealedRecord {
  Bytes nonce;       // 24 bytes
  Bytes ciphertext;  // value || 16-byte tag
};

SealedRecord seal_record(const TableSealKey& key, std::string_view table, ByteView row,
                         ByteView value, Rng& rng);
// kTampered(table) when the nonce is not 24 bytes or authentication fails.
[[nodiscard]] StoreResult<SecretBytes> open_record(const TableSealKey& key, std::string_view table,
                                                   ByteView row, ByteView nonce,
                                                   ByteView ciphertext);

}  // namespace sotto::client
