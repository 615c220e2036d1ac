// sqlite_db.cpp — checked SQLite connection and statement wrappers (see sqlite_db.hpp).
#include "server/sqlite_db.hpp"

#include <sqlite3.h>

#include <limits>
#include <utility>

namespace sotto::relay::sqlite {

StoreError map_sqlite_rc(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:   // disk full, or the max_page_count cap reached
    case SQLITE_IOERR:  // read/write/fsync failed
    case SQLITE_BUSY:   // another connection holds the lock past the busy timeout
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:  // e.g. the WAL or -shm file cannot be created
    case SQLITE_READONLY:  // file made read-only underneath us
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
      return StoreError::kBusy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StoreError::kCorrupt;
    case SQLITE_TOOBIG:
      return StoreError::kInvalidArgument;
    default:
      return StoreError::kInternal;
  }
}

// ---- Statement ----

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    (void)sqlite3_finalize(stmt_);  // repeats the last step's error, already reported
    return;
  }
  // reset() repeats the last step's error code; that error was already reported.
  (void)sqlite3_reset(stmt_);
  (void)sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

StoreResult<void> Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return fail(map_sqlite_rc(rc));
  return {};
}

StoreResult<void> Statement::bind(int index, ByteView blob) {
  if (blob.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(StoreError::kInvalidArgument);
  }
  // A zero-length blob must not be bound as a null pointer: that would bind NULL.
  const int rc = blob.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                              : sqlite3_bind_blob(stmt_, index, blob.data(),
                                                  static_cast<int>(blob.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) return fail(map_sqlite_rc(rc));
  return {};
}

StoreResult<void> Statement::bind_u64(int index, std::uint64_t value) {
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail(StoreError::kInvalidArgument);
  }
  return bind(index, static_cast<std::int64_t>(value));
}

StoreResult<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(map_sqlite_rc(rc));
}

StoreResult<void> Statement::run() {
  SOTTO_TRY(bool row, step());
  if (row) return fail(StoreError::kInternal);  // a statement we expected to return nothing
  return {};
}

std::int64_t Statement::column_int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

StoreResult<std::uint64_t> Statement::column_u64(int col) const {
  const std::int64_t v = sqlite3_column_int64(stmt_, col);
  if (v < 0) return fail(StoreError::kCorrupt);
  return static_cast<std::uint64_t>(v);
}

Bytes Statement::column_blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  const auto* b = static_cast<const std::uint8_t*>(p);
  return Bytes(b, b + n);
}

std::string Statement::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool Statement::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// ---- Connection ----

Result<Connection, StoreOpenError> Connection::open(const std::string& path, bool create) {
  if (sqlite3_threadsafe() == 0) {
    return fail(StoreOpenError{StoreError::kInternal,
                               "SQLite was built without thread support (SQLITE_THREADSAFE=0)"});
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = "cannot open database " + path + ": " +
                         (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (db != nullptr) (void)sqlite3_close(db);  // nothing else to report: open already failed
    return fail(StoreOpenError{map_sqlite_rc(rc), std::move(detail)});
  }
  Connection conn(db);
  if (sqlite3_extended_result_codes(db, 1) != SQLITE_OK) {
    return fail(StoreOpenError{StoreError::kInternal, "cannot enable extended result codes"});
  }
  return conn;
}

Connection::~Connection() {
  (void)close();
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {
  other.cache_.clear();
}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    (void)close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
    other.cache_.clear();
  }
  return *this;
}

StoreResult<void> Connection::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(map_sqlite_rc(rc));
  return {};
}

StoreResult<Statement> Connection::prepare(const char* sql) {
  if (db_ == nullptr) return fail(StoreError::kClosed);
  const std::string_view key(sql);
  auto it = cache_.find(key);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(it->second.stmt, &it->second.in_use);
  }
  const bool cache = it == cache_.end();
  sqlite3_stmt* stmt = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    (void)sqlite3_finalize(stmt);  // null-safe
    return fail(map_sqlite_rc(rc));
  }
  if (stmt == nullptr) return fail(StoreError::kInternal);  // empty SQL: a bug
  if (!cache) return Statement(stmt, nullptr);              // the cached one is busy: a one-off
  auto [pos, inserted] = cache_.emplace(std::string(key), Cached{stmt, true});
  (void)inserted;
  return Statement(stmt, &pos->second.in_use);
}

StoreResult<std::int64_t> Connection::query_int(const char* sql) {
  SOTTO_TRY(Statement stmt, prepare(sql));
  SOTTO_TRY(bool row, stmt.step());
  if (!row) return fail(StoreError::kInternal);
  return stmt.column_int(0);
}

StoreResult<std::string> Connection::query_text(const char* sql) {
  SOTTO_TRY(Statement stmt, prepare(sql));
  SOTTO_TRY(bool row, stmt.step());
  if (!row) return fail(StoreError::kInternal);
  return stmt.column_text(0);
}

bool Connection::in_transaction() const {
  return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

std::int64_t Connection::changes() const {
  return sqlite3_changes64(db_);
}

std::string Connection::last_error_message() const {
  return db_ != nullptr ? std::string(sqlite3_errmsg(db_)) : std::string("connection closed");
}

StoreResult<void> Connection::close() {
  if (db_ == nullptr) return {};
  for (auto& [sql, cached] : cache_) (void)sqlite3_finalize(cached.stmt);  // repeats old errors
  cache_.clear();
  const int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    // Something still holds the handle: let SQLite close it when that is released.
    (void)sqlite3_close_v2(db_);
    db_ = nullptr;
    return fail(map_sqlite_rc(rc));
  }
  db_ = nullptr;
  return {};
}

}  // namespace sotto::relay::sqlite
