// profile_store_tables.cpp — the keyed tables of the profile store: identity,
// transport key, prekeys, sessions, settings, counters and seen envelopes (see
// profile_store.hpp; contacts and messages are in profile_store_contacts.cpp).
//
// Logical keys (hashed into row keys, and repeated inside the sealed record):
//   identity, transport_key  the empty string (one row)
//   signed/one_time_prekeys  u32be(id)
//   sessions                 the peer's 32-byte identity key; a previous
//                            session: "previous:" (9 ASCII bytes) || the key
//   settings                 the setting's ASCII name
//   counters                 the counter's ASCII name
//   seen_envelopes           BLAKE2b-256(envelope bytes)
#include <algorithm>
#include <limits>

#include "client/profile_store.hpp"

namespace sotto::client {
namespace {

constexpr std::string_view kNextOneTimePrekeyId = "one_time_prekeys.next_id";

Bytes id_key(std::uint32_t id) {
  Bytes b;
  put_u32be(b, id);
  return b;
}

SecretBytes u64_value(std::uint64_t v) {
  SecretWriter w(8);
  w.u64(v);
  return w.finish();
}

}  // namespace

// ---- identity and transport key ----

StoreResult<void> ProfileStore::put_identity(const SecretBytes& identity) {
  return put_keyed(Table::kIdentity, {}, identity.view());
}
StoreResult<std::optional<SecretBytes>> ProfileStore::identity() {
  return get_keyed(Table::kIdentity, {});
}
StoreResult<void> ProfileStore::put_transport_key(const SecretBytes& transport_key) {
  return put_keyed(Table::kTransportKey, {}, transport_key.view());
}
StoreResult<std::optional<SecretBytes>> ProfileStore::transport_key() {
  return get_keyed(Table::kTransportKey, {});
}

// ---- prekeys ----

StoreResult<std::vector<std::uint32_t>> ProfileStore::list_u32_ids(Table t) {
  SOTTO_TRY(std::vector<KeyedEntry> entries, list_keyed(t));
  std::vector<std::uint32_t> ids;
  ids.reserve(entries.size());
  for (const KeyedEntry& e : entries) {
    if (e.logical_key.size() != 4) return tampered(std::string(table_name(t)), "bad id");
    ids.push_back(get_u32be(e.logical_key.data()));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

StoreResult<void> ProfileStore::put_signed_prekey(std::uint32_t id, const SecretBytes& prekey) {
  return put_keyed(Table::kSignedPrekeys, id_key(id), prekey.view());
}
StoreResult<std::optional<SecretBytes>> ProfileStore::signed_prekey(std::uint32_t id) {
  return get_keyed(Table::kSignedPrekeys, id_key(id));
}
StoreResult<bool> ProfileStore::remove_signed_prekey(std::uint32_t id) {
  return remove_keyed(Table::kSignedPrekeys, id_key(id));
}
StoreResult<std::vector<std::uint32_t>> ProfileStore::signed_prekey_ids() {
  return list_u32_ids(Table::kSignedPrekeys);
}

StoreResult<void> ProfileStore::put_one_time_prekey(std::uint32_t id, const SecretBytes& prekey) {
  return put_keyed(Table::kOneTimePrekeys, id_key(id), prekey.view());
}
StoreResult<std::optional<SecretBytes>> ProfileStore::one_time_prekey(std::uint32_t id) {
  return get_keyed(Table::kOneTimePrekeys, id_key(id));
}
StoreResult<bool> ProfileStore::remove_one_time_prekey(std::uint32_t id) {
  return remove_keyed(Table::kOneTimePrekeys, id_key(id));
}
StoreResult<std::vector<std::uint32_t>> ProfileStore::one_time_prekey_ids() {
  return list_u32_ids(Table::kOneTimePrekeys);
}
StoreResult<std::uint64_t> ProfileStore::one_time_prekey_count() {
  return row_count(Table::kOneTimePrekeys);
}

StoreResult<std::uint32_t> ProfileStore::reserve_one_time_prekey_ids(std::uint32_t count) {
  const std::string name(table_name(Table::kCounters));
  std::uint32_t first = 0;
  auto done = atomically([&]() -> StoreResult<void> {
    SOTTO_TRY(std::optional<SecretBytes> stored,
              get_keyed(Table::kCounters, label_bytes(kNextOneTimePrekeyId)));
    std::uint64_t next = 1;
    if (stored) {
      if (stored->size() != 8) return tampered(name, "bad counter");
      next = get_u64be(stored->data());
    }
    if (next == 0 || next + count > std::numeric_limits<std::uint32_t>::max()) {
      return store_fail(StoreError::kInvalidArgument, name, "one-time prekey ids exhausted");
    }
    first = static_cast<std::uint32_t>(next);
    const SecretBytes value = u64_value(next + count);
    return put_keyed(Table::kCounters, label_bytes(kNextOneTimePrekeyId), value.view());
  });
  if (!done) return fail(done.error());
  return first;
}

// ---- sessions ----

StoreResult<void> ProfileStore::put_session(const IdentityPublicKey& peer,
                                            const SessionRecord& session) {
  if (session.ratchet_state.size() > std::numeric_limits<std::uint32_t>::max() ||
      (session.pending_header && session.pending_header->size() > 0xffff)) {
    return store_fail(StoreError::kInvalidArgument, "sessions", "session too large");
  }
  const SecretBytes value = encode_session(session);
  return put_keyed(Table::kSessions, peer.view(), value.view());
}

StoreResult<std::optional<SessionRecord>> ProfileStore::session(const IdentityPublicKey& peer) {
  SOTTO_TRY(std::optional<SecretBytes> value, get_keyed(Table::kSessions, peer.view()));
  if (!value) return std::optional<SessionRecord>{};
  auto decoded = decode_session(value->view());
  if (!decoded) return tampered("sessions", "record does not parse");
  return std::optional<SessionRecord>(std::move(decoded));
}

StoreResult<bool> ProfileStore::remove_session(const IdentityPublicKey& peer) {
  return remove_keyed(Table::kSessions, peer.view());
}

namespace {
// "previous:" || peer (41 bytes): never equal to a 32-byte current-session key.
Bytes previous_session_key(const IdentityPublicKey& peer) {
  return concat(label_bytes("previous:"), peer.view());
}
}  // namespace

StoreResult<void> ProfileStore::put_previous_session(const IdentityPublicKey& peer,
                                                     const SessionRecord& session) {
  if (session.ratchet_state.size() > std::numeric_limits<std::uint32_t>::max() ||
      (session.pending_header && session.pending_header->size() > 0xffff)) {
    return store_fail(StoreError::kInvalidArgument, "sessions", "session too large");
  }
  const SecretBytes value = encode_session(session);
  return put_keyed(Table::kSessions, previous_session_key(peer), value.view());
}

StoreResult<std::optional<SessionRecord>> ProfileStore::previous_session(
    const IdentityPublicKey& peer) {
  SOTTO_TRY(std::optional<SecretBytes> value,
            get_keyed(Table::kSessions, previous_session_key(peer)));
  if (!value) return std::optional<SessionRecord>{};
  auto decoded = decode_session(value->view());
  if (!decoded) return tampered("sessions", "record does not parse");
  return std::optional<SessionRecord>(std::move(decoded));
}

StoreResult<bool> ProfileStore::remove_previous_session(const IdentityPublicKey& peer) {
  return remove_keyed(Table::kSessions, previous_session_key(peer));
}

// ---- seen envelopes ----

StoreResult<void> ProfileStore::mark_envelope_seen(ByteView envelope, std::uint64_t time) {
  const Bytes digest = crypto::blake2b(32, envelope);
  const SecretBytes value = u64_value(time);
  return put_keyed(Table::kSeenEnvelopes, digest, value.view());
}

StoreResult<bool> ProfileStore::envelope_seen(ByteView envelope) {
  const Bytes digest = crypto::blake2b(32, envelope);
  SOTTO_TRY(std::optional<SecretBytes> value, get_keyed(Table::kSeenEnvelopes, digest));
  if (value && value->size() != 8) return tampered("seen_envelopes", "bad record");
  return value.has_value();
}

StoreResult<std::uint64_t> ProfileStore::trim_seen_envelopes(std::uint64_t keep) {
  if (keep > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return 0;
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("DELETE FROM seen_envelopes WHERE position NOT IN "
                        "(SELECT position FROM seen_envelopes ORDER BY position DESC LIMIT ?1)",
                        "seen_envelopes"));
  SOTTO_TRY_VOID(stmt.bind(1, static_cast<std::int64_t>(keep)));
  SOTTO_TRY_VOID(stmt.run());
  return static_cast<std::uint64_t>(db_.changes());
}

// ---- settings ----

StoreResult<void> ProfileStore::put_setting(std::string_view name, ByteView value) {
  return put_keyed(Table::kSettings, label_bytes(name), value);
}
StoreResult<std::optional<SecretBytes>> ProfileStore::setting(std::string_view name) {
  return get_keyed(Table::kSettings, label_bytes(name));
}
StoreResult<bool> ProfileStore::remove_setting(std::string_view name) {
  return remove_keyed(Table::kSettings, label_bytes(name));
}
StoreResult<void> ProfileStore::put_setting_u64(std::string_view name, std::uint64_t value) {
  const SecretBytes v = u64_value(value);
  return put_setting(name, v.view());
}
StoreResult<std::optional<std::uint64_t>> ProfileStore::setting_u64(std::string_view name) {
  SOTTO_TRY(std::optional<SecretBytes> v, setting(name));
  if (!v) return std::optional<std::uint64_t>{};
  if (v->size() != 8) return tampered("settings", "not a number");
  return std::optional<std::uint64_t>(get_u64be(v->data()));
}

}  // namespace sotto::client
