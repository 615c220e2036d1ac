// device_keys.cpp — see device_keys.hpp.
#include "client/device_keys.hpp"

#include <string>

namespace sotto::client {
namespace {

constexpr std::uint8_t kSignedPreKeyRecordVersion = 1;
constexpr std::size_t kStoredSignedPreKeySize = 1 + kSignedPreKeyRecordSize + 32 + 8;

StoreResult<X25519SecretKey> secret32(const SecretBytes& b, const char* table) {
  if (b.size() != 32) return tampered(table, "key record of the wrong size");
  return X25519SecretKey::copy_of(b.view());
}

}  // namespace

SecretBytes encode_signed_prekey_record(const StoredSignedPreKey& spk) {
  SecretWriter w(kStoredSignedPreKeySize);
  w.u8(kSignedPreKeyRecordVersion);
  w.bytes(encode_signed_prekey(spk.pair.public_key));
  w.bytes(spk.pair.secret.view());
  w.u64(spk.replaced_at);
  return w.finish();
}

std::optional<StoredSignedPreKey> decode_signed_prekey_record(ByteView plain) {
  SecretReader r(plain);
  auto version = r.u8();
  auto record = r.bytes(kSignedPreKeyRecordSize);
  auto secret = r.bytes(32);
  auto replaced_at = r.u64();
  if (!version || *version != kSignedPreKeyRecordVersion || !record || !secret || !replaced_at ||
      !r.at_end())
    return std::nullopt;
  auto pub = decode_signed_prekey(*record);
  if (!pub) return std::nullopt;
  auto sk = X25519SecretKey::copy_of(*secret);
  // The secret must be the private half of the recorded public key.
  if (crypto::x25519_public_from(sk) != pub->key) return std::nullopt;
  return StoredSignedPreKey{SignedPreKeyPair{*pub, std::move(sk)}, *replaced_at};
}

NewIdentity generate_identity_seed(Rng& rng) {
  Ed25519Seed seed;
  rng.fill(seed.mutable_view());
  auto key = identity_from_seed(seed);
  return NewIdentity{std::move(seed), std::move(key)};
}

StoreResult<void> store_identity(ProfileStore& store, const Ed25519Seed& seed) {
  return store.put_identity(seed.bytes());
}

StoreResult<IdentityKeyPair> load_identity(ProfileStore& store) {
  SOTTO_TRY(auto stored, store.identity());
  if (!stored || stored->size() != 32) return tampered("identity", "no identity key");
  return identity_from_seed(Ed25519Seed::copy_of(stored->view()));
}

StoreResult<void> store_transport_key(ProfileStore& store, const X25519KeyPair& key) {
  return store.put_transport_key(key.secret.bytes());
}

StoreResult<X25519KeyPair> load_transport_key(ProfileStore& store) {
  SOTTO_TRY(auto stored, store.transport_key());
  if (!stored) return tampered("transport_key", "no transport key");
  SOTTO_TRY(auto secret, secret32(*stored, "transport_key"));
  return crypto::x25519_from_secret(std::move(secret));
}

StoreResult<void> store_signed_prekey(ProfileStore& store, const StoredSignedPreKey& spk) {
  return store.put_signed_prekey(spk.pair.public_key.id, encode_signed_prekey_record(spk));
}

StoreResult<std::optional<StoredSignedPreKey>> load_signed_prekey(ProfileStore& store,
                                                                  PreKeyId id) {
  SOTTO_TRY(auto stored, store.signed_prekey(id));
  if (!stored) return std::optional<StoredSignedPreKey>{};
  auto decoded = decode_signed_prekey_record(stored->view());
  if (!decoded || decoded->pair.public_key.id != id)
    return tampered("signed_prekeys", "record does not parse");
  return std::optional<StoredSignedPreKey>{std::move(*decoded)};
}

StoreResult<StoredSignedPreKey> load_current_signed_prekey(ProfileStore& store) {
  SOTTO_TRY(auto id, store.setting_u64(kCurrentSignedPreKeySetting));
  if (!id || *id > 0xFFFFFFFFu) return tampered("settings", "no current signed prekey");
  SOTTO_TRY(auto spk, load_signed_prekey(store, static_cast<PreKeyId>(*id)));
  if (!spk) return tampered("signed_prekeys", "the current signed prekey is missing");
  return std::move(*spk);
}

StoreResult<void> set_current_signed_prekey(ProfileStore& store, PreKeyId id) {
  return store.put_setting_u64(kCurrentSignedPreKeySetting, id);
}

StoreResult<void> store_one_time_prekey(ProfileStore& store, const OneTimePreKeyPair& opk) {
  return store.put_one_time_prekey(opk.public_key.id, opk.secret.bytes());
}

StoreResult<std::optional<OneTimePreKeyPair>> load_one_time_prekey(ProfileStore& store,
                                                                   PreKeyId id) {
  SOTTO_TRY(auto stored, store.one_time_prekey(id));
  if (!stored) return std::optional<OneTimePreKeyPair>{};
  SOTTO_TRY(auto secret, secret32(*stored, "one_time_prekeys"));
  return std::optional<OneTimePreKeyPair>{one_time_prekey_from_secret(id, std::move(secret))};
}

StoreResult<std::vector<OneTimePreKeyPublic>> make_one_time_prekeys(ProfileStore& store,
                                                                    std::uint32_t count, Rng& rng) {
  std::vector<OneTimePreKeyPublic> publics;
  if (count == 0) return publics;
  auto body = [&]() -> StoreResult<void> {
    SOTTO_TRY(PreKeyId next, store.reserve_one_time_prekey_ids(count));
    auto keys = generate_one_time_prekeys(next, count, rng);
    for (const auto& k : keys) {
      SOTTO_TRY_VOID(store_one_time_prekey(store, k));
      publics.push_back(k.public_key);
    }
    return {};
  };
  // In the caller's transaction when one is open, else in one of its own.
  SOTTO_TRY_VOID(store.in_transaction() ? body() : store.transaction(body));
  return publics;
}

}  // namespace sotto::client
