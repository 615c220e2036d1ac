// device_keys.hpp — the device's own keys as the profile store keeps them:
// the identity key (IK), the transport key, the signed prekeys (current and
// replaced) and the one-time prekeys, with the byte layouts of their records.
//
// Layouts (values handed to ProfileStore, which seals them; docs/client-store.md):
//   identity         seed (32): the Ed25519 seed, IK = identity_from_seed(seed)
//   transport_key    X25519 secret (32)
//   signed_prekeys   u8(version = 1) || SPK record (116, encode_signed_prekey)
//                    || X25519 secret (32) || u64be(replaced_at; 0 = not replaced)
//   one_time_prekeys X25519 secret (32); the public key is recomputed
// plus the setting "signed_prekey.current" (u64be id of the current SPK).
//
// What fails: every load returns StoreResult; a record that is missing where
// the profile needs it, or does not parse, is kTampered for its table (the
// store already authenticated it: a record that does not parse is damage).
// Ownership: everything returned is the caller's; secrets stay in Secret types.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "client/profile_store.hpp"
#include "common/identity.hpp"
#include "common/prekeys.hpp"

namespace sotto::client {

inline constexpr std::string_view kCurrentSignedPreKeySetting = "signed_prekey.current";

struct StoredSignedPreKey {
  SignedPreKeyPair pair;
  std::uint64_t replaced_at = 0;  // unix seconds; 0 while it is the current one
};

SecretBytes encode_signed_prekey_record(const StoredSignedPreKey& spk);
std::optional<StoredSignedPreKey> decode_signed_prekey_record(ByteView plain);

// A fresh identity key: a seed from `rng`, stored as the seed.
struct NewIdentity {
  Ed25519Seed seed;
  IdentityKeyPair key;
};
NewIdentity generate_identity_seed(Rng& rng);

StoreResult<void> store_identity(ProfileStore& store, const Ed25519Seed& seed);
StoreResult<IdentityKeyPair> load_identity(ProfileStore& store);
StoreResult<void> store_transport_key(ProfileStore& store, const X25519KeyPair& key);
StoreResult<X25519KeyPair> load_transport_key(ProfileStore& store);

StoreResult<void> store_signed_prekey(ProfileStore& store, const StoredSignedPreKey& spk);
// nullopt when no signed prekey with this id is held.
StoreResult<std::optional<StoredSignedPreKey>> load_signed_prekey(ProfileStore& store, PreKeyId id);
// The current signed prekey (kTampered if the setting or the record is missing).
StoreResult<StoredSignedPreKey> load_current_signed_prekey(ProfileStore& store);
StoreResult<void> set_current_signed_prekey(ProfileStore& store, PreKeyId id);

StoreResult<void> store_one_time_prekey(ProfileStore& store, const OneTimePreKeyPair& opk);
StoreResult<std::optional<OneTimePreKeyPair>> load_one_time_prekey(ProfileStore& store,
                                                                   PreKeyId id);
// `count` fresh one-time prekeys with ids reserved in the store (never reused),
// private halves stored (in the caller's transaction if one is open).
StoreResult<std::vector<OneTimePreKeyPublic>> make_one_time_prekeys(ProfileStore& store,
                                                                    std::uint32_t count, Rng& rng);

}  // namespace sotto::client
