// profile_store.cpp — creating, opening and unlocking a profile store, its
// transactions and the generic keyed rows every table is built on (see
// profile_store.hpp). Typed tables: profile_store_tables.cpp,
// profile_store_contacts.cpp.
#include "client/profile_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace sotto::client {
namespace fs = std::filesystem;

namespace {

constexpr char kHeaderTable[] = "header";
const char* const kSideFiles[] = {"-wal", "-shm", "-journal"};

StoreFailure io_failure(const std::string& what, const fs::path& p, int err) {
  return StoreFailure{StoreError::kIo, {}, what + " " + p.string() + ": " + std::strerror(err)};
}

// The profile directory: created 0700 (parents with the default permissions),
// and made 0700 if it already existed.
StoreResult<void> make_profile_dir(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return fail(io_failure("cannot create", dir.parent_path(), ec.value()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(io_failure("cannot create", dir, errno));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return fail(io_failure("cannot stat", dir, errno));
  if (!S_ISDIR(st.st_mode)) return fail(io_failure("not a directory:", dir, ENOTDIR));
  if (::chmod(dir.c_str(), 0700) != 0) return fail(io_failure("cannot chmod", dir, errno));
  return {};
}

void remove_side_files(const fs::path& db_path) {
  std::error_code ec;
  for (const char* suffix : kSideFiles) fs::remove(fs::path(db_path.string() + suffix), ec);
}

// profile.db is created by us, exclusively and 0600, before SQLite opens it:
// SQLite then gives its -wal and -shm files the same mode.
StoreResult<void> make_profile_file(const fs::path& db_path) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(db_path, ec))) {
    return store_fail(StoreError::kProfileExists, {}, db_path.string());
  }
  // A WAL left beside a missing database would be replayed into the new one.
  remove_side_files(db_path);
  const int fd = ::open(db_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return store_fail(StoreError::kProfileExists, {}, db_path.string());
    return fail(io_failure("cannot create", db_path, errno));
  }
  const bool ok = ::fchmod(fd, 0600) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return fail(io_failure("cannot chmod", db_path, err));
  return {};
}

// WAL, synchronous=FULL, secure_delete, no temporary files, no trust in the schema.
StoreResult<void> configure(sqlite::Db& db, int busy_timeout_ms) {
  const std::string timeout = "PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms);
  SOTTO_TRY_VOID(db.exec(timeout.c_str()));
  SOTTO_TRY(std::string mode, db.query_text("PRAGMA journal_mode = WAL"));
  if (mode != "wal") return store_fail(StoreError::kIo, {}, "cannot enable WAL (" + mode + ")");
  SOTTO_TRY_VOID(
      db.exec("PRAGMA synchronous = FULL;"
              "PRAGMA secure_delete = ON;"
              "PRAGMA temp_store = MEMORY;"
              "PRAGMA trusted_schema = OFF;"
              "PRAGMA cell_size_check = ON;"));
  return {};
}

}  // namespace

bool ProfileStore::exists(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / kProfileFileName, ec);
}

ProfileStore::ProfileStore(fs::path path, sqlite::Db db, StoreKey sk, ProfileStoreOptions options,
                           std::unique_ptr<Rng> owned_rng)
    : path_(std::move(path)),
      db_(std::move(db)),
      store_key_(std::move(sk)),
      contacts_by_id_(derive_lookup_key(store_key_, kContactsByIdIndex)),
      options_(options),
      owned_rng_(std::move(owned_rng)),
      rng_(options.rng != nullptr ? options.rng : owned_rng_.get()) {
  table_keys_.reserve(kTableCount);
  for (std::size_t i = 0; i < kTableCount; ++i) {
    const std::string_view name = table_name(static_cast<Table>(i));
    // seal key = HKDF(SK, "Sotto/v1/StoreSeal/<t>"), lookup key = HKDF(SK,
    // "Sotto/v1/StoreLookup/<t>")
    table_keys_.push_back(
        TableKeys{derive_seal_key(store_key_, name), derive_lookup_key(store_key_, name)});
  }
}

ProfileStore::~ProfileStore() {
  if (db_.in_transaction()) (void)db_.exec("ROLLBACK");  // nothing to report from a destructor
}

StoreResult<std::unique_ptr<ProfileStore>> ProfileStore::finish_open(
    fs::path path, sqlite::Db db, StoreKey sk, ProfileStoreOptions options,
    std::unique_ptr<Rng> owned_rng) {
  return std::unique_ptr<ProfileStore>(new ProfileStore(
      std::move(path), std::move(db), std::move(sk), options, std::move(owned_rng)));
}

StoreResult<std::unique_ptr<ProfileStore>> ProfileStore::create(const fs::path& dir,
                                                                const SecretBytes& passphrase,
                                                                ProfileStoreOptions options) {
  ensure_sodium();
  if (!kdf_params_in_bounds(options.kdf)) {
    return store_fail(StoreError::kInvalidArgument, {}, "KDF parameters out of bounds");
  }
  if (passphrase.empty()) return store_fail(StoreError::kInvalidArgument, {}, "empty passphrase");
  std::unique_ptr<Rng> owned_rng;
  if (options.rng == nullptr) owned_rng = std::make_unique<SystemRng>();
  Rng& rng = options.rng != nullptr ? *options.rng : *owned_rng;

  // SK is random; the header wraps it under the passphrase (Argon2id before any file work).
  StoreKey sk = generate_store_key(rng);
  SOTTO_TRY(KeyHeader header, wrap_store_key(sk, passphrase, options.kdf, rng));

  SOTTO_TRY_VOID(make_profile_dir(dir));
  const fs::path db_path = dir / kProfileFileName;
  SOTTO_TRY_VOID(make_profile_file(db_path));

  auto build = [&]() -> StoreResult<sqlite::Db> {
    SOTTO_TRY(sqlite::Db db, sqlite::Db::open(db_path.string()));
    SOTTO_TRY_VOID(configure(db, options.busy_timeout_ms));
    // Schema, header and version in one transaction: a crash leaves an empty file.
    SOTTO_TRY_VOID(db.exec("BEGIN IMMEDIATE"));
    auto body = [&]() -> StoreResult<void> {
      SOTTO_TRY_VOID(create_schema(db));
      SOTTO_TRY_VOID(write_header(db, header));
      const std::string version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
      SOTTO_TRY_VOID(db.exec(version.c_str()));
      return db.exec("COMMIT");
    };
    if (auto r = body(); !r) {
      if (db.in_transaction()) (void)db.exec("ROLLBACK");  // the error reported is r's
      return fail(r.error());
    }
    return db;
  };
  auto db = build();
  if (!db) {
    std::error_code ec;
    fs::remove(db_path, ec);
    remove_side_files(db_path);
    return fail(db.error());
  }
  return finish_open(db_path, std::move(db).value(), std::move(sk), options, std::move(owned_rng));
}

StoreResult<std::unique_ptr<ProfileStore>> ProfileStore::open(const fs::path& dir,
                                                              const SecretBytes& passphrase,
                                                              ProfileStoreOptions options) {
  ensure_sodium();
  const fs::path db_path = dir / kProfileFileName;
  if (!exists(dir)) return store_fail(StoreError::kNoProfile, {}, "no profile in " + dir.string());
  SOTTO_TRY(sqlite::Db db, sqlite::Db::open(db_path.string()));
  SOTTO_TRY_VOID(configure(db, options.busy_timeout_ms));
  SOTTO_TRY(std::int64_t version, db.query_int("PRAGMA user_version"));
  if (version == 0) {
    return store_fail(StoreError::kNoProfile, {}, db_path.string() + " is not a Sotto profile");
  }
  if (version > kSchemaVersion || version < 0) SOTTO_TRY_VOID(migrate_schema(db, version));

  SOTTO_TRY(KeyHeader header, read_header(db));
  SOTTO_TRY(StoreKey sk, unwrap_store_key(header, passphrase));
  if (version < kSchemaVersion) {
    // Migrations may need the store key to re-seal records: run them unlocked, atomically.
    SOTTO_TRY_VOID(db.exec("BEGIN IMMEDIATE"));
    auto migrated = migrate_schema(db, version);
    if (!migrated) {
      (void)db.exec("ROLLBACK");
      return fail(migrated.error());
    }
    SOTTO_TRY_VOID(db.exec("COMMIT"));
  }
  std::unique_ptr<Rng> owned_rng;
  if (options.rng == nullptr) owned_rng = std::make_unique<SystemRng>();
  return finish_open(db_path, std::move(db), std::move(sk), options, std::move(owned_rng));
}

StoreResult<void> ProfileStore::change_passphrase(const SecretBytes& old_passphrase,
                                                  const SecretBytes& new_passphrase) {
  if (db_.in_transaction()) {
    return store_fail(StoreError::kInvalidState, {}, "change_passphrase inside a transaction");
  }
  // Both Argon2id runs happen before the write lock is taken.
  SOTTO_TRY(KeyHeader current, read_header(db_));
  SOTTO_TRY(StoreKey sk, unwrap_store_key(current, old_passphrase));
  if (!sk.equals(store_key_)) return tampered(kHeaderTable, "the store key changed");
  SOTTO_TRY(KeyHeader next, wrap_store_key(store_key_, new_passphrase, options_.kdf, rng()));
  auto done = transaction([&]() -> StoreResult<void> {
    SOTTO_TRY(KeyHeader again, read_header(db_));
    if (!crypto::ct_equal(again.digest, current.digest)) {
      return store_fail(StoreError::kBusy, kHeaderTable, "the passphrase was changed meanwhile");
    }
    return write_header(db_, next);
  });
  if (!done) return fail(done.error());
  // Move the new header into the main file and empty the WAL (old header frames).
  (void)db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");  // best effort: the commit is durable
  return {};
}

// ---- transactions ----

ProfileStore::Transaction::~Transaction() {
  rollback();
}

StoreResult<void> ProfileStore::Transaction::commit() {
  ProfileStore* store = std::exchange(store_, nullptr);
  if (store == nullptr) return store_fail(StoreError::kInvalidState, {}, "no open transaction");
  auto r = store->db_.exec("COMMIT");
  if (!r && store->db_.in_transaction()) (void)store->db_.exec("ROLLBACK");  // r is reported
  return r;
}

void ProfileStore::Transaction::rollback() {
  ProfileStore* store = std::exchange(store_, nullptr);
  if (store != nullptr && store->db_.in_transaction()) {
    (void)store->db_.exec("ROLLBACK");  // failing to roll back leaves SQLite to do it on close
  }
}

StoreResult<ProfileStore::Transaction> ProfileStore::begin() {
  if (db_.in_transaction()) {
    return store_fail(StoreError::kInvalidState, {}, "a transaction is already open");
  }
  SOTTO_TRY_VOID(db_.exec("BEGIN IMMEDIATE"));
  return Transaction(this);
}

// ---- keyed rows ----
// plaintext = u16be(len logical key) || logical key || value
// AD row    = row_key = BLAKE2b-256(key = lookup key of the table, logical key)

StoreResult<void> ProfileStore::put_keyed(Table t, ByteView logical_key, ByteView value) {
  const std::string name(table_name(t));
  if (logical_key.size() > kMaxLogicalKeyBytes) {
    return store_fail(StoreError::kInvalidArgument, name, "key too long");
  }
  const TableKeys& k = keys(t);
  const Bytes row = row_key(k.lookup, logical_key);
  const SecretBytes plain = encode_keyed(logical_key, value);
  const SealedRecord rec = seal_record(k.seal, name, row, plain.view(), rng());
  const std::string sql =
      "INSERT OR REPLACE INTO " + name + " (row_key, nonce, sealed) VALUES (?1, ?2, ?3)";
  SOTTO_TRY(sqlite::Statement stmt, db_.prepare(sql.c_str(), name));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY_VOID(stmt.bind(2, ByteView(rec.nonce)));
  SOTTO_TRY_VOID(stmt.bind(3, ByteView(rec.ciphertext)));
  return stmt.run();
}

StoreResult<std::optional<SecretBytes>> ProfileStore::get_keyed(Table t, ByteView logical_key) {
  const std::string name(table_name(t));
  const TableKeys& k = keys(t);
  const Bytes row = row_key(k.lookup, logical_key);
  const std::string sql = "SELECT nonce, sealed FROM " + name + " WHERE row_key = ?1";
  SOTTO_TRY(sqlite::Statement stmt, db_.prepare(sql.c_str(), name));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY(bool found, stmt.step());
  if (!found) return std::optional<SecretBytes>{};
  auto nonce = stmt.column_blob(0);
  auto sealed = stmt.column_blob(1);
  if (!nonce || !sealed) return tampered(name, "a column of the wrong type");
  SOTTO_TRY(SecretBytes plain, open_record(k.seal, name, row, *nonce, *sealed));
  auto parts = decode_keyed(plain.view());
  if (!parts || !crypto::ct_equal(parts->logical_key, logical_key)) {
    return tampered(name, "record does not match its key");
  }
  return std::optional<SecretBytes>(SecretBytes::copy_of(parts->value));
}

StoreResult<bool> ProfileStore::remove_keyed(Table t, ByteView logical_key) {
  const std::string name(table_name(t));
  const Bytes row = row_key(keys(t).lookup, logical_key);
  const std::string sql = "DELETE FROM " + name + " WHERE row_key = ?1";
  SOTTO_TRY(sqlite::Statement stmt, db_.prepare(sql.c_str(), name));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY_VOID(stmt.run());
  return db_.changes() > 0;
}

StoreResult<std::vector<ProfileStore::KeyedEntry>> ProfileStore::list_keyed(Table t) {
  const std::string name(table_name(t));
  const TableKeys& k = keys(t);
  const std::string sql = "SELECT row_key, nonce, sealed FROM " + name + " ORDER BY row_key";
  SOTTO_TRY(sqlite::Statement stmt, db_.prepare(sql.c_str(), name));
  std::vector<KeyedEntry> out;
  for (;;) {
    SOTTO_TRY(bool found, stmt.step());
    if (!found) break;
    auto row = stmt.column_blob(0);
    auto nonce = stmt.column_blob(1);
    auto sealed = stmt.column_blob(2);
    if (!row || !nonce || !sealed) return tampered(name, "a column of the wrong type");
    SOTTO_TRY(SecretBytes plain, open_record(k.seal, name, *row, *nonce, *sealed));
    auto parts = decode_keyed(plain.view());
    if (!parts || !crypto::ct_equal(row_key(k.lookup, parts->logical_key), *row)) {
      return tampered(name, "record does not match its key");
    }
    out.push_back(
        KeyedEntry{SecretBytes::copy_of(parts->logical_key), SecretBytes::copy_of(parts->value)});
  }
  return out;
}

StoreResult<std::uint64_t> ProfileStore::row_count(Table t) {
  const std::string name(table_name(t));
  const std::string sql = "SELECT count(*) FROM " + name;
  SOTTO_TRY(std::int64_t n, db_.query_int(sql.c_str(), name));
  return static_cast<std::uint64_t>(n);
}

}  // namespace sotto::client
