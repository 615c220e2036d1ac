// store_sqlite.cpp — checked SQLite wrappers for the profile store (see store_sqlite.hpp).
#include "client/store_sqlite.hpp"

#include <sqlite3.h>

#include <limits>

namespace sotto::client::sqlite {

StoreFailure failure_from_rc(int rc, std::string_view table, std::string detail) {
  StoreError code = StoreError::kInternal;
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = StoreError::kTampered;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = StoreError::kBusy;
      break;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      code = StoreError::kIo;
      break;
    case SQLITE_NOMEM:
      code = StoreError::kOutOfMemory;
      break;
    case SQLITE_TOOBIG:
      code = StoreError::kInvalidArgument;
      break;
    default:
      break;
  }
  if (detail.empty()) detail = sqlite3_errstr(rc);
  return StoreFailure{code, std::string(table), std::move(detail)};
}

// ---- Statement ----

Statement::~Statement() {
  if (stmt_ != nullptr) (void)sqlite3_finalize(stmt_);  // repeats the last step's error, reported
}

StoreResult<void> Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) return fail(failure_from_rc(rc, table_));
  return {};
}

StoreResult<void> Statement::bind(int index, ByteView blob) {
  if (blob.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return store_fail(StoreError::kInvalidArgument, table_, "value too large");
  }
  // An empty blob must not be bound as a null pointer (that would bind NULL).
  const int rc = blob.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                              : sqlite3_bind_blob(stmt_, index, blob.data(),
                                                  static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) return fail(failure_from_rc(rc, table_));
  return {};
}

StoreResult<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(failure_from_rc(rc, table_));
}

StoreResult<void> Statement::run() {
  SOTTO_TRY(bool row, step());
  if (row) return store_fail(StoreError::kInternal, table_, "statement returned a row");
  return {};
}

std::optional<Bytes> Statement::column_blob(int col) const {
  if (sqlite3_column_type(stmt_, col) != SQLITE_BLOB) return std::nullopt;
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return Bytes{};
  const auto* b = static_cast<const std::uint8_t*>(p);
  return Bytes(b, b + n);
}

std::string Statement::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

std::optional<std::int64_t> Statement::column_int(int col) const {
  if (sqlite3_column_type(stmt_, col) != SQLITE_INTEGER) return std::nullopt;
  return sqlite3_column_int64(stmt_, col);
}

// ---- Db ----

StoreResult<Db> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail =
        "cannot open " + path + ": " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    if (raw != nullptr) (void)sqlite3_close(raw);  // open already failed: nothing more to report
    return fail(failure_from_rc(rc, {}, std::move(detail)));
  }
  Db db(raw);
  (void)sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::~Db() {
  close();
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

StoreResult<void> Db::exec(const char* sql, std::string_view table) {
  if (db_ == nullptr) return store_fail(StoreError::kInvalidState, std::string(table), "closed");
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return fail(failure_from_rc(rc, table, sqlite3_errmsg(db_)));
  return {};
}

StoreResult<Statement> Db::prepare(const char* sql, std::string_view table) {
  if (db_ == nullptr) return store_fail(StoreError::kInvalidState, std::string(table), "closed");
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    (void)sqlite3_finalize(stmt);  // null-safe
    // A missing table or column means the schema was edited under us.
    const bool schema = (rc & 0xff) == SQLITE_ERROR;
    if (schema) return tampered(std::string(table), sqlite3_errmsg(db_));
    return fail(failure_from_rc(rc, table, sqlite3_errmsg(db_)));
  }
  if (stmt == nullptr) return store_fail(StoreError::kInternal, std::string(table), "empty SQL");
  return Statement(stmt, std::string(table));
}

StoreResult<std::int64_t> Db::query_int(const char* sql, std::string_view table) {
  SOTTO_TRY(Statement stmt, prepare(sql, table));
  SOTTO_TRY(bool row, stmt.step());
  if (!row) return store_fail(StoreError::kInternal, std::string(table), "no row");
  auto v = stmt.column_int(0);
  if (!v) return tampered(std::string(table), "not an integer");
  return *v;
}

StoreResult<std::string> Db::query_text(const char* sql, std::string_view table) {
  SOTTO_TRY(Statement stmt, prepare(sql, table));
  SOTTO_TRY(bool row, stmt.step());
  if (!row) return store_fail(StoreError::kInternal, std::string(table), "no row");
  return stmt.column_text(0);
}

bool Db::in_transaction() const {
  return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
}

std::int64_t Db::changes() const {
  return db_ != nullptr ? sqlite3_changes64(db_) : 0;
}

void Db::close() {
  if (db_ == nullptr) return;
  // Statements are finalized by their owners first; close_v2 defers if one is left.
  (void)sqlite3_close_v2(db_);
  db_ = nullptr;
}

}  // namespace sotto::client::sqlite
