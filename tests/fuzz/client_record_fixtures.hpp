// client_record_fixtures.hpp — the fixed store key and the input layout of
// fuzz_client_record, shared with the corpus generator (make_corpus.cpp) so
// that its seeds are records sealed under the key the fuzzer opens with.
//
// An input is one of two kinds (the first byte says which):
//
//   sealed:    u8(0x80 | table) || u8(len row) || row || nonce (24) || sealed
//              a record as it sits in the profile file (docs/client-store.md
//              section 3): `table` (mod 10) picks the logical table, `row` is
//              the row identity bound into the AD (row_key; row_key || id_key
//              for contacts; conv_key || u64be(seq) for messages), `sealed`
//              the ciphertext || tag. Opened with the fixed store key.
//   plaintext: u8(kind < 0x80) || bytes
//              `bytes` handed straight to the plaintext decoder of `kind` (mod
//              PlainKind::kCount), as if the attacker held the store key.
//
// Nothing here draws from SystemRng: the store keys come from SeededRng
// streams with fixed seeds (kSeed + 80, kSeed + 81).
#pragma once

#include <cstdint>

#include "client/store_crypto.hpp"
#include "client/store_schema.hpp"
#include "common/bytes.hpp"
#include "fuzz/fuzz_fixtures.hpp"

namespace sotto::fuzz {

inline constexpr std::uint8_t kSealedInput = 0x80;

// The plaintext decoders of the profile store's records.
enum class PlainKind : std::uint8_t {
  kKeyed,         // decode_keyed: every keyed table's outer layout
  kContact,       // decode_contact
  kSession,       // decode_session (+ the ratchet state and pending X3DH header in it)
  kMessage,       // decode_message
  kSignedPreKey,  // decode_signed_prekey_record (device_keys.cpp)
  kOutbox,        // decode_outbox (the "outbox" setting)
  kCount,
};

// The store key every fuzzed record is opened with.
inline client::StoreKey record_store_key() {
  SeededRng rng(kSeed + 80);
  return client::generate_store_key(rng);
}
// Another profile's store key: no record of the first may open under it.
inline client::StoreKey other_store_key() {
  SeededRng rng(kSeed + 81);
  return client::generate_store_key(rng);
}

inline Bytes sealed_input(client::Table t, ByteView row, const client::SealedRecord& rec) {
  fixture_check(row.size() <= 0xff && rec.nonce.size() == client::kNonceBytes, "sealed input");
  Bytes out{static_cast<std::uint8_t>(kSealedInput | static_cast<std::uint8_t>(t)),
            static_cast<std::uint8_t>(row.size())};
  append(out, row);
  append(out, rec.nonce);
  append(out, rec.ciphertext);
  return out;
}

inline Bytes plain_input(PlainKind k, ByteView plain) {
  Bytes out{static_cast<std::uint8_t>(k)};
  append(out, plain);
  return out;
}

}  // namespace sotto::fuzz
