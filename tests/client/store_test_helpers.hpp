// store_test_helpers.hpp — shared fixtures of the profile-store tests: a temporary
// profile directory, passphrases, fast Argon2id options, and raw SQL access to
// the profile file (the tamper tests edit it behind the store's back).
#pragma once

#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "client/profile_store.hpp"

namespace store_test {

namespace fs = std::filesystem;
using namespace sotto;
using namespace sotto::client;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sotto-profile-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The profile directory (not yet created: the store creates it 0700).
  fs::path profile() const { return root_ / "profile"; }
  fs::path db() const { return profile() / kProfileFileName; }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

inline SecretBytes pass(std::string_view s) {
  return SecretBytes::copy_of(label_bytes(s));
}

// The cheapest Argon2id: tests create and open many stores.
inline ProfileStoreOptions fast() {
  ProfileStoreOptions o;
  o.kdf = KdfParams::minimum();
  return o;
}

inline std::unique_ptr<ProfileStore> create_store(const TempDir& t, std::string_view p = "pw") {
  auto s = ProfileStore::create(t.profile(), pass(p), fast());
  if (!s) FAIL(describe(s.error()));
  return std::move(s).value();
}

inline std::unique_ptr<ProfileStore> open_store(const TempDir& t, std::string_view p = "pw") {
  auto s = ProfileStore::open(t.profile(), pass(p), fast());
  if (!s) FAIL(describe(s.error()));
  return std::move(s).value();
}

inline IdentityPublicKey peer_id(std::uint8_t n) {
  IdentityPublicKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i)
    k.bytes[i] = static_cast<std::uint8_t>(n + i * 7);
  return k;
}

inline Bytes file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline bool contains(const Bytes& hay, ByteView needle) {
  if (needle.empty() || hay.size() < needle.size()) return false;
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// A raw SQLite connection to the profile file, for tampering.
class RawDb {
 public:
  explicit RawDb(const fs::path& p) {
    REQUIRE(sqlite3_open_v2(p.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const std::int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::string v(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return v;
  }
  // The first column of the first row of `sql`, as a blob.
  Bytes blob(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
    Bytes v(p, p + sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    return v;
  }
  // Runs `sql` with ?1 bound to `b`.
  void exec_with_blob(const std::string& sql, ByteView b) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_bind_blob(st, 1, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Expects a kTampered failure naming `table`, with the documented message.
template <class R>
void require_tampered(const R& r, const std::string& table) {
  REQUIRE_FALSE(r.ok());
  INFO(describe(r.error()));
  CHECK(r.error().code == StoreError::kTampered);
  CHECK(r.error().table == table);
  CHECK(describe(r.error()).rfind("store corrupted or tampered: table " + table, 0) == 0);
}

}  // namespace store_test
