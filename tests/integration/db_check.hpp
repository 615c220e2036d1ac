// db_check.hpp — the crash tests' look at a database file after a SIGKILL,
// before anything reopens it for writing: SQLite's own structural check and
// the relay's bookkeeping invariants, on a READ-ONLY connection.
//
//   auto problems = check_sqlite_integrity(path);          // "" when healthy
//   auto more = check_relay_invariants(path);              // relay.db only
//
// PRAGMA integrity_check walks every b-tree and index; foreign_key_check lists
// rows whose parent is missing. The relay invariants are the counters kept by
// its triggers (mailboxes.queued_messages / queued_bytes equal what the
// messages table holds) and next_seq above every stored sequence (a sequence
// never reused). What fails: every function returns a text naming what is
// wrong, never throws; an empty string means all held.
//
// A read-only connection does not checkpoint the WAL nor delete it on close,
// so the relay restarts on exactly the files the crash left (SQLite may
// rebuild the -shm index, which holds no data).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace sotto::test {

// Runs `sql` and concatenates every column of every row ("|" between columns,
// "\n" between rows); an SQLite error becomes "error: ...".
inline std::string sqlite_rows(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
    return std::string("error: ") + sqlite3_errmsg(db);
  std::string out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!out.empty()) out += "\n";
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      if (i > 0) out += "|";
      const unsigned char* t = sqlite3_column_text(stmt, i);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
  }
  if (rc != SQLITE_DONE) out += std::string("\nerror: ") + sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return out;
}

// Opens `path` read-only and runs each query, expecting the given answer.
struct ExpectedRows {
  const char* sql;
  const char* expected;
};
template <std::size_t N>
std::string check_read_only(const std::filesystem::path& path, const ExpectedRows (&checks)[N]) {
  if (!std::filesystem::exists(path)) return path.string() + " does not exist";
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string e = "cannot open " + path.string() +
                    " read-only: " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 5000);
  std::string problems;
  for (const auto& c : checks) {
    auto got = sqlite_rows(db, c.sql);
    if (got != c.expected)
      problems += std::string(c.sql) + " -> \"" + got + "\" (expected \"" + c.expected + "\")\n";
  }
  sqlite3_close(db);
  return problems;
}

// SQLite's structural check and the foreign keys.
inline std::string check_sqlite_integrity(const std::filesystem::path& path) {
  static constexpr ExpectedRows kChecks[] = {
      {"PRAGMA integrity_check", "ok"},
      {"PRAGMA foreign_key_check", ""},
  };
  return check_read_only(path, kChecks);
}

// The relay's relay.db: the same, plus its counters agree with its rows.
inline std::string check_relay_db(const std::filesystem::path& path) {
  static constexpr ExpectedRows kChecks[] = {
      {"PRAGMA integrity_check", "ok"},
      {"PRAGMA foreign_key_check", ""},
      // Mailbox counters (kept by triggers) equal the queued rows.
      {"SELECT count(*) FROM mailboxes b WHERE queued_messages != "
       "(SELECT count(*) FROM messages m WHERE m.recipient = b.account) OR queued_bytes != "
       "(SELECT coalesce(sum(length(ciphertext)), 0) FROM messages m WHERE m.recipient = "
       "b.account)",
       "0"},
      // A sequence is never handed out twice: next_seq is above every stored one.
      {"SELECT count(*) FROM messages m JOIN mailboxes b ON b.account = m.recipient "
       "WHERE m.seq >= b.next_seq",
       "0"},
  };
  return check_read_only(path, kChecks);
}

}  // namespace sotto::test
