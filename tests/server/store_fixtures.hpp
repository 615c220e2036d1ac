// store_fixtures.hpp — what the SqliteStore tests of the held and early paths
// share (test_early_delivery.cpp, test_held_insert.cpp): a store opened or the
// test fails, an account's keys, a recognisable envelope and where it can be
// found on disk, the rows stored.
//
// What fails: open_store and stored_rows fail the calling test case (Catch2).
// Ownership: the caller owns the returned store and the temporary directory.
#pragma once

#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "server/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace sotto::test::store {

using relay::AccountId;
using relay::AccountKeys;
using relay::QueuedEnvelope;
using relay::Sequence;
using relay::SqliteStore;
using relay::SqliteStoreOptions;

inline std::unique_ptr<SqliteStore> open_store(const SqliteStoreOptions& o) {
  auto r = SqliteStore::open(o);
  if (!r) FAIL("open failed: " << r.error().detail);
  return std::move(r).value();
}

inline AccountKeys keys_for(std::uint8_t who) {
  AccountKeys k;
  k.identity_key.fill(who);
  k.transport_key.fill(0x41);
  k.transport_signature.fill(0x81);
  k.device_id = 8;
  k.signed_prekey.id = 101;
  k.signed_prekey.encoded = Bytes(33, 0xC1);
  return k;
}

inline AccountId id_of(std::uint8_t who) {
  return keys_for(who).identity_key;
}

// A recognisable envelope: `fill` repeated, after a marker that appears nowhere else.
inline Bytes envelope(std::uint8_t fill, std::size_t size = 200) {
  Bytes b(size, fill);
  const std::string marker = "sotto-envelope-" + std::to_string(fill) + "-marker";
  std::copy(marker.begin(), marker.end(), b.begin());
  return b;
}

inline std::vector<Sequence> seqs_of(const std::vector<QueuedEnvelope>& v) {
  std::vector<Sequence> out;
  for (const auto& e : v) out.push_back(e.seq);
  return out;
}

inline Bytes file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Whether the envelope's first 32 bytes (its marker and some fill) are anywhere in
// the database file or its WAL.
inline bool on_disk(const TempDir& dir, const Bytes& ct) {
  const Bytes marker(ct.begin(), ct.begin() + 32);
  for (const char* name : {"relay.db", "relay.db-wal"}) {
    const Bytes f = file_bytes(dir.file(name));
    if (std::search(f.begin(), f.end(), marker.begin(), marker.end()) != f.end()) return true;
  }
  return false;
}

inline std::int64_t stored_rows(const TempDir& dir) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(dir.file("relay.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM messages", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

}  // namespace sotto::test::store
