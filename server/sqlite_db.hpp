// sqlite_db.hpp — a thin, checked wrapper over one SQLite connection and its cached
// prepared statements.
//
// Every sqlite3 return code is checked and turned into a StoreError (map_sqlite_rc):
// full disk, I/O errors, busy and locked become kBusy; a damaged file kCorrupt;
// anything else kInternal. A Connection is used by one thread at a time (it is opened
// with SQLITE_OPEN_NOMUTEX); the store gives the write connection to its writer thread
// and lends read connections from a pool.
//
// Ownership: a Connection owns its sqlite3 handle and every statement in its cache
// (finalized before the handle is closed). A Statement borrows a cached sqlite3_stmt
// and resets it (and clears its bindings) when it goes out of scope. Blobs are bound
// without copying (SQLITE_STATIC): the bound bytes must outlive the step that reads them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "server/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sotto::relay::sqlite {

// Maps an SQLite (extended) result code that is not OK/ROW/DONE to a StoreError.
StoreError map_sqlite_rc(int rc);

class Statement {
 public:
  // A cached statement (in_use is its cache entry's flag, cleared when this ends), or,
  // when in_use is null, a one-off statement this object finalizes.
  Statement(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  ~Statement();
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)),
        in_use_(std::exchange(other.in_use_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in SQL's ?1, ?2...
  StoreResult<void> bind(int index, std::int64_t value);
  StoreResult<void> bind(int index, ByteView blob);
  // Binds an unsigned value; kInvalidArgument if it does not fit SQLite's int64.
  StoreResult<void> bind_u64(int index, std::uint64_t value);

  // true: a row is available; false: the statement is done.
  StoreResult<bool> step();
  // Steps a statement that must not return rows (INSERT/UPDATE/DELETE without RETURNING).
  StoreResult<void> run();

  // Columns are numbered from 0.
  std::int64_t column_int(int col) const;
  // The column as an unsigned value; kCorrupt if the stored value is negative.
  StoreResult<std::uint64_t> column_u64(int col) const;
  Bytes column_blob(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;

 private:
  sqlite3_stmt* stmt_;
  bool* in_use_;
};

class Connection {
 public:
  // Opens (and creates when `create`) the database file. The detail names the path and
  // SQLite's message, never stored content.
  static Result<Connection, StoreOpenError> open(const std::string& path, bool create);

  Connection() = default;
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL that returns no rows we need (DDL, BEGIN/COMMIT, PRAGMA assignments).
  StoreResult<void> exec(const char* sql);
  // A statement from this connection's cache (prepared once, reused).
  StoreResult<Statement> prepare(const char* sql);
  // Runs a one-row, one-column query such as "PRAGMA user_version".
  StoreResult<std::int64_t> query_int(const char* sql);
  StoreResult<std::string> query_text(const char* sql);

  // True while a transaction is open (SQLite may roll one back by itself after
  // SQLITE_FULL or an I/O error: callers check this before ROLLBACK TO).
  bool in_transaction() const;
  std::int64_t changes() const;
  // SQLite's message for the last error, for operator logs (no stored data).
  std::string last_error_message() const;

  // Finalizes the cached statements and closes the handle; reports a failed close.
  StoreResult<void> close();
  bool is_open() const { return db_ != nullptr; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;  // a Statement holds it: a second use of the same SQL gets its own
  };
  // Looked up by the SQL text without building a std::string (one malloc and free per
  // statement run on the writer's hot path): transparent hash and equality.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Node-based: a Cached entry keeps its address while the map grows or is moved.
  std::unordered_map<std::string, Cached, SqlHash, std::equal_to<>> cache_;
};

}  // namespace sotto::relay::sqlite
