// store_sqlite.hpp — a small checked wrapper over the profile's one SQLite
// connection (client side; the relay has its own in server/, and client/ and
// server/ never depend on each other).
//
// Every SQLite return code is checked and mapped to a StoreFailure: a damaged
// file (SQLITE_CORRUPT, SQLITE_NOTADB) is kTampered, a lock held past the busy
// timeout kBusy, a full disk, an I/O or a permission failure kIo, anything else
// kInternal. Each statement is prepared with the logical table it touches, so a
// failure names that table. Column readers check the stored type: a value of
// the wrong SQL type (someone edited the file) is reported as missing and the
// caller turns it into kTampered.
//
// Ownership: Db owns the sqlite3 handle; a Statement owns its sqlite3_stmt and
// finalizes it; statements must not outlive their Db. Used by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "client/store_error.hpp"
#include "common/bytes.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sotto::client::sqlite {

// The failure for an SQLite result code that is not OK/ROW/DONE.
StoreFailure failure_from_rc(int rc, std::string_view table, std::string detail = {});

class Statement {
 public:
  Statement(sqlite3_stmt* stmt, std::string table) : stmt_(stmt), table_(std::move(table)) {}
  ~Statement();
  Statement(Statement&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), table_(std::move(other.table_)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1 (?1, ?2...). Blobs are copied by SQLite.
  StoreResult<void> bind(int index, std::int64_t value);
  StoreResult<void> bind(int index, ByteView blob);

  // true: a row is available; false: done.
  StoreResult<bool> step();
  // Steps a statement that returns no rows.
  StoreResult<void> run();

  // Columns from 0. nullopt when the stored value is not of the expected type.
  std::optional<Bytes> column_blob(int col) const;
  std::optional<std::int64_t> column_int(int col) const;
  // For PRAGMA results only (never stored data).
  std::string column_text(int col) const;

  const std::string& table() const { return table_; }

 private:
  sqlite3_stmt* stmt_;
  std::string table_;
};

class Db {
 public:
  // Opens an existing file read-write (never creates one: the store creates the
  // file itself with mode 0600 before SQLite touches it).
  static StoreResult<Db> open(const std::string& path);

  Db() = default;
  ~Db();
  Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // SQL without results we need (DDL, PRAGMA assignments, BEGIN/COMMIT).
  StoreResult<void> exec(const char* sql, std::string_view table = {});
  StoreResult<Statement> prepare(const char* sql, std::string_view table);
  // A one-row, one-integer query such as "PRAGMA user_version".
  StoreResult<std::int64_t> query_int(const char* sql, std::string_view table = {});
  // A one-row, one-text query such as "PRAGMA journal_mode = WAL".
  StoreResult<std::string> query_text(const char* sql, std::string_view table = {});

  bool in_transaction() const;
  std::int64_t changes() const;
  void close();
  bool is_open() const { return db_ != nullptr; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace sotto::client::sqlite
