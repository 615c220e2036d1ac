// profile_store.hpp — the client's encrypted profile store: one SQLite file
// (`profile.db`, mode 0600) in the profile directory (mode 0700).
//
// A passphrase (SecretBytes) goes through Argon2id to a key-encryption key that
// unwraps a random 32-byte store key; every secret-bearing value is sealed with
// XChaCha20-Poly1305 under a per-table key, with associated data binding it to
// its table, its row and the record format; rows are found by keyed hashes
// (store_crypto.hpp, docs/client-store.md). SQLite only ever sees ciphertext,
// nonces and keyed hashes.
//
// What fails (StoreFailure, store_error.hpp): a wrong passphrase
// ("wrong passphrase"); any record, the header or the file that does not
// authenticate or parse ("store corrupted or tampered: table X") — a read never
// returns data that did not authenticate; an I/O error, a full disk or a lock
// held by another process; a caller error. Reads that find nothing return
// nullopt or an empty list, not an error.
//
// Transactions: every write outside an explicit transaction is atomic on its
// own. begin() / transaction(fn) group several writes (receiving a message:
// ratchet state + stored message + dedup record) into ONE SQLite transaction:
// all of them are durable after commit (WAL, synchronous=FULL), none of them if
// the process dies, the body fails or the Transaction is dropped uncommitted.
//
// Ownership and threads: a ProfileStore owns its connection, the store key and
// the derived table keys (Secret types, wiped on destruction). It is used by
// one thread at a time; several processes may open the same profile (SQLite
// locking, 5 s busy timeout). A Transaction must not outlive its store.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/store_crypto.hpp"
#include "client/store_error.hpp"
#include "client/store_records.hpp"
#include "client/store_schema.hpp"
#include "client/store_sqlite.hpp"
#include "common/identity.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

namespace sotto::client {

inline constexpr char kProfileFileName[] = "profile.db";

struct ProfileStoreOptions {
  // Argon2id cost for create() and change_passphrase() (open() uses the file's).
  KdfParams kdf = KdfParams::moderate();
  // Salts, nonces and the store key; null means the system CSPRNG. Must outlive the store.
  Rng* rng = nullptr;
  int busy_timeout_ms = 5000;
};

// Names of the settings the client keeps (values are sealed like everything else).
namespace setting {
inline constexpr std::string_view kRelayAddress = "relay.address";
inline constexpr std::string_view kRelayKey = "relay.key";
inline constexpr std::string_view kAccountId = "account.id";
inline constexpr std::string_view kDeviceId = "device.id";
inline constexpr std::string_view kSignedPrekeyRotatedAt = "signed_prekey.rotated_at";
}  // namespace setting

class ProfileStore {
 public:
  // Creates `dir` (0700; parents with default permissions) and `dir/profile.db`
  // (0600, created exclusively: kProfileExists if it is there), with a fresh
  // store key wrapped under `passphrase` (non-empty, at most 4096 bytes).
  static StoreResult<std::unique_ptr<ProfileStore>> create(const std::filesystem::path& dir,
                                                           const SecretBytes& passphrase,
                                                           ProfileStoreOptions options = {});
  // Opens an existing profile: kNoProfile, kWrongPassphrase, kTampered, kSchemaTooNew...
  static StoreResult<std::unique_ptr<ProfileStore>> open(const std::filesystem::path& dir,
                                                         const SecretBytes& passphrase,
                                                         ProfileStoreOptions options = {});
  static bool exists(const std::filesystem::path& dir);

  ~ProfileStore();
  ProfileStore(const ProfileStore&) = delete;
  ProfileStore& operator=(const ProfileStore&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Re-wraps the store key under `new_passphrase` (fresh salt, options.kdf) in one
  // transaction; records are not re-encrypted. kWrongPassphrase if `old_passphrase`
  // does not unlock this store. The old header is overwritten (secure_delete) and
  // the WAL checkpointed, so the old wrapped key does not linger in the files.
  StoreResult<void> change_passphrase(const SecretBytes& old_passphrase,
                                      const SecretBytes& new_passphrase);

  // ---- transactions ----
  class Transaction {
   public:
    Transaction(Transaction&& other) noexcept : store_(std::exchange(other.store_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    // Rolls back unless committed.
    ~Transaction();
    // Makes every write since begin() durable; on failure nothing was written.
    StoreResult<void> commit();
    void rollback();

   private:
    friend class ProfileStore;
    explicit Transaction(ProfileStore* store) : store_(store) {}
    ProfileStore* store_;
  };
  // BEGIN IMMEDIATE (takes the write lock now). kInvalidState if one is open.
  StoreResult<Transaction> begin();
  // Runs `body` (returning StoreResult<void>) in a transaction: commits when it
  // succeeds, rolls back when it fails or throws.
  template <class F>
  StoreResult<void> transaction(F&& body) {
    SOTTO_TRY(Transaction tx, begin());
    SOTTO_TRY_VOID(body());
    return tx.commit();
  }
  bool in_transaction() const { return db_.in_transaction(); }

  // ---- identity and transport key (one row each; the client's own encodings) ----
  StoreResult<void> put_identity(const SecretBytes& identity);
  StoreResult<std::optional<SecretBytes>> identity();
  StoreResult<void> put_transport_key(const SecretBytes& transport_key);
  StoreResult<std::optional<SecretBytes>> transport_key();

  // ---- prekeys (by id) ----
  StoreResult<void> put_signed_prekey(std::uint32_t id, const SecretBytes& prekey);
  StoreResult<std::optional<SecretBytes>> signed_prekey(std::uint32_t id);
  StoreResult<bool> remove_signed_prekey(std::uint32_t id);
  StoreResult<std::vector<std::uint32_t>> signed_prekey_ids();  // ascending

  StoreResult<void> put_one_time_prekey(std::uint32_t id, const SecretBytes& prekey);
  StoreResult<std::optional<SecretBytes>> one_time_prekey(std::uint32_t id);
  StoreResult<bool> remove_one_time_prekey(std::uint32_t id);
  StoreResult<std::vector<std::uint32_t>> one_time_prekey_ids();  // ascending
  StoreResult<std::uint64_t> one_time_prekey_count();
  // Reserves `count` consecutive ids and returns the first (the counter starts at 1
  // and never goes back, so an id is never reused).
  StoreResult<std::uint32_t> reserve_one_time_prekey_ids(std::uint32_t count);

  // ---- sessions (by peer account id) ----
  StoreResult<void> put_session(const IdentityPublicKey& peer, const SessionRecord& session);
  StoreResult<std::optional<SessionRecord>> session(const IdentityPublicKey& peer);
  StoreResult<bool> remove_session(const IdentityPublicKey& peer);
  // At most one previous session per peer: the peer-started session a crossing
  // first message created and lost (messenger.hpp, "Crossing first messages"),
  // kept only to decrypt what the peer sent on it before it switched. Same
  // table and session layout; logical key "previous:" || peer identity key.
  StoreResult<void> put_previous_session(const IdentityPublicKey& peer,
                                         const SessionRecord& session);
  StoreResult<std::optional<SessionRecord>> previous_session(const IdentityPublicKey& peer);
  StoreResult<bool> remove_previous_session(const IdentityPublicKey& peer);

  // ---- contacts (name <-> account id, both unique) ----
  // kAlreadyExists if the name or the account id is taken; kInvalidArgument for a
  // name that is empty or longer than 255 bytes.
  StoreResult<void> add_contact(const Contact& contact);
  StoreResult<void> set_contact_verified(std::string_view name, bool verified);  // kNotFound
  StoreResult<void> remove_contact(std::string_view name);                       // kNotFound
  StoreResult<std::optional<Contact>> contact_by_name(std::string_view name);
  StoreResult<std::optional<Contact>> contact_by_id(const IdentityPublicKey& account_id);
  StoreResult<std::vector<Contact>> contacts();  // sorted by name

  // ---- message history (per peer account id, in the order appended) ----
  // Returns the message's sequence number (increasing across the whole store).
  StoreResult<std::uint64_t> append_message(const IdentityPublicKey& peer,
                                            const StoredMessage& message);
  // The last `limit` messages with `peer`, oldest first (0: all of them).
  StoreResult<std::vector<StoredMessage>> history(const IdentityPublicKey& peer,
                                                  std::size_t limit = 0);
  StoreResult<std::uint64_t> remove_history(const IdentityPublicKey& peer);

  // ---- redelivered envelopes (by a keyed hash of the envelope bytes) ----
  StoreResult<void> mark_envelope_seen(ByteView envelope, std::uint64_t time);
  StoreResult<bool> envelope_seen(ByteView envelope);
  // Keeps the `keep` most recently marked envelopes, deletes the rest.
  StoreResult<std::uint64_t> trim_seen_envelopes(std::uint64_t keep);

  // ---- settings (by name) ----
  StoreResult<void> put_setting(std::string_view name, ByteView value);
  StoreResult<std::optional<SecretBytes>> setting(std::string_view name);
  StoreResult<bool> remove_setting(std::string_view name);
  StoreResult<void> put_setting_u64(std::string_view name, std::uint64_t value);
  StoreResult<std::optional<std::uint64_t>> setting_u64(std::string_view name);

  // Rows in a table (what anyone holding the file can count anyway).
  StoreResult<std::uint64_t> row_count(Table t);

 private:
  struct TableKeys {
    TableSealKey seal;
    TableLookupKey lookup;
  };
  ProfileStore(std::filesystem::path path, sqlite::Db db, StoreKey sk, ProfileStoreOptions options,
               std::unique_ptr<Rng> owned_rng);
  static StoreResult<std::unique_ptr<ProfileStore>> finish_open(std::filesystem::path path,
                                                                sqlite::Db db, StoreKey sk,
                                                                ProfileStoreOptions options,
                                                                std::unique_ptr<Rng> owned_rng);

  const TableKeys& keys(Table t) const { return table_keys_[static_cast<std::size_t>(t)]; }
  Rng& rng() { return *rng_; }

  // Keyed rows: plaintext = u16be(len logical key) || logical key || value.
  StoreResult<void> put_keyed(Table t, ByteView logical_key, ByteView value);
  StoreResult<std::optional<SecretBytes>> get_keyed(Table t, ByteView logical_key);
  StoreResult<bool> remove_keyed(Table t, ByteView logical_key);
  struct KeyedEntry {
    SecretBytes logical_key;
    SecretBytes value;
  };
  StoreResult<std::vector<KeyedEntry>> list_keyed(Table t);
  StoreResult<std::vector<std::uint32_t>> list_u32_ids(Table t);

  // Opens a contacts row and checks that its content hashes to its keys.
  StoreResult<Contact> open_contact(ByteView row_key, ByteView id_key, ByteView nonce,
                                    ByteView sealed);
  StoreResult<void> write_contact(const Contact& c);

  // Runs `body` in the open transaction, or in its own one if none is open.
  template <class F>
  StoreResult<void> atomically(F&& body) {
    if (db_.in_transaction()) return body();
    return transaction(std::forward<F>(body));
  }

  std::filesystem::path path_;
  sqlite::Db db_;
  StoreKey store_key_;
  std::vector<TableKeys> table_keys_;
  TableLookupKey contacts_by_id_;
  ProfileStoreOptions options_;
  std::unique_ptr<Rng> owned_rng_;
  Rng* rng_;
};

}  // namespace sotto::client
