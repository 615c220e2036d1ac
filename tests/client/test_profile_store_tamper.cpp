// test_profile_store_tamper.cpp — a store edited behind its back fails closed with
// "store corrupted or tampered: table X": a flipped byte in a sealed value or a
// nonce, two rows' values swapped, a value moved to another row, conversation or
// table, a row copied in from another table, a column of the wrong SQL type, a
// changed or deleted KDF-parameter row, and random byte flips anywhere in the
// file (never a crash, never wrong data).
#include <set>

#include "client/store_schema.hpp"
#include "tests/client/store_test_helpers.hpp"

using namespace store_test;

namespace {

void flip_blob(RawDb& raw, const std::string& table, const std::string& column,
               const std::string& where, std::size_t index) {
  Bytes b = raw.blob("SELECT " + column + " FROM " + table + " WHERE " + where);
  REQUIRE(index < b.size());
  b[index] ^= 0x01;
  raw.exec_with_blob("UPDATE " + table + " SET " + column + " = ?1 WHERE " + where, b);
}

// A store with two contacts, messages with two peers, prekeys, a session, settings.
void populate(ProfileStore& s) {
  REQUIRE(s.put_identity(pass("identity key")).ok());
  REQUIRE(s.add_contact({"alice", peer_id(1), false}).ok());
  REQUIRE(s.add_contact({"bob", peer_id(2), true}).ok());
  for (int i = 0; i < 3; ++i) {
    StoredMessage m;
    m.text = pass("to alice " + std::to_string(i));
    REQUIRE(s.append_message(peer_id(1), m).ok());
    m.text = pass("to bob " + std::to_string(i));
    REQUIRE(s.append_message(peer_id(2), m).ok());
  }
  REQUIRE(s.put_signed_prekey(7, pass("signed prekey 7")).ok());
  REQUIRE(s.put_one_time_prekey(7, pass("one-time prekey 7")).ok());
  REQUIRE(s.put_one_time_prekey(8, pass("one-time prekey 8")).ok());
  SessionRecord rec;
  rec.ratchet_state = pass("ratchet state");
  REQUIRE(s.put_session(peer_id(1), rec).ok());
  REQUIRE(s.put_setting(setting::kRelayAddress, label_bytes("sotto://relay")).ok());
}

}  // namespace

TEST_CASE("a flipped byte in a sealed value or its nonce", "[tamper]") {
  TempDir t;
  auto s = create_store(t);
  populate(*s);
  s.reset();
  SECTION("contacts value") {
    {
      RawDb raw(t.db());
      flip_blob(raw, "contacts", "sealed", "row_key = (SELECT min(row_key) FROM contacts)", 10);
    }
    auto st = open_store(t);
    require_tampered(st->contacts(), "contacts");
  }
  SECTION("contacts nonce") {
    {
      RawDb raw(t.db());
      flip_blob(raw, "contacts", "nonce", "row_key = (SELECT min(row_key) FROM contacts)", 0);
    }
    auto st = open_store(t);
    require_tampered(st->contacts(), "contacts");
  }
  SECTION("identity value: the tag") {
    {
      RawDb raw(t.db());
      Bytes b = raw.blob("SELECT sealed FROM identity");
      b.back() ^= 0x80;
      raw.exec_with_blob("UPDATE identity SET sealed = ?1", b);
    }
    auto st = open_store(t);
    require_tampered(st->identity(), "identity");
  }
  SECTION("sessions value") {
    {
      RawDb raw(t.db());
      flip_blob(raw, "sessions", "sealed", "1", 0);
    }
    auto st = open_store(t);
    require_tampered(st->session(peer_id(1)), "sessions");
  }
  SECTION("messages value") {
    {
      RawDb raw(t.db());
      flip_blob(raw, "messages", "sealed", "seq = 3", 4);
    }
    auto st = open_store(t);
    require_tampered(st->history(peer_id(1)), "messages");
    // The other conversation is intact.
    CHECK(st->history(peer_id(2))->size() == 3);
  }
  SECTION("settings value, truncated") {
    {
      RawDb raw(t.db());
      raw.exec("UPDATE settings SET sealed = substr(sealed, 1, 10)");
    }
    auto st = open_store(t);
    require_tampered(st->setting(setting::kRelayAddress), "settings");
  }
}

TEST_CASE("two rows' values swapped", "[tamper]") {
  TempDir t;
  auto s = create_store(t);
  populate(*s);
  s.reset();
  SECTION("contacts") {
    {
      RawDb raw(t.db());
      raw.exec("CREATE TEMP TABLE c AS SELECT row_key, nonce, sealed FROM contacts");
      raw.exec(
          "UPDATE contacts SET nonce = (SELECT nonce FROM c WHERE c.row_key != contacts.row_key), "
          "sealed = (SELECT sealed FROM c WHERE c.row_key != contacts.row_key)");
    }
    auto st = open_store(t);
    require_tampered(st->contact_by_name("alice"), "contacts");
    require_tampered(st->contact_by_name("bob"), "contacts");
    require_tampered(st->contact_by_id(peer_id(2)), "contacts");
  }
  SECTION("two messages of one conversation (reordering)") {
    {
      RawDb raw(t.db());
      // Alice's messages are seq 1, 3, 5.
      raw.exec("UPDATE messages SET seq = -1 WHERE seq = 1");
      raw.exec("UPDATE messages SET seq = 1 WHERE seq = 3");
      raw.exec("UPDATE messages SET seq = 3 WHERE seq = -1");
    }
    auto st = open_store(t);
    require_tampered(st->history(peer_id(1)), "messages");
  }
  SECTION("one-time prekeys 7 and 8") {
    {
      RawDb raw(t.db());
      raw.exec("CREATE TEMP TABLE o AS SELECT row_key, nonce, sealed FROM one_time_prekeys");
      raw.exec(
          "UPDATE one_time_prekeys SET nonce = (SELECT nonce FROM o WHERE o.row_key != "
          "one_time_prekeys.row_key), sealed = (SELECT sealed FROM o WHERE o.row_key != "
          "one_time_prekeys.row_key)");
    }
    auto st = open_store(t);
    require_tampered(st->one_time_prekey(7), "one_time_prekeys");
    require_tampered(st->one_time_prekey_ids(), "one_time_prekeys");
  }
}

TEST_CASE("a value moved to another row, conversation or table", "[tamper]") {
  TempDir t;
  auto s = create_store(t);
  populate(*s);
  s.reset();
  SECTION("a signed prekey's value over the one-time prekey with the same id") {
    {
      RawDb raw(t.db());
      const Bytes nonce = raw.blob("SELECT nonce FROM signed_prekeys");
      const Bytes sealed = raw.blob("SELECT sealed FROM signed_prekeys");
      // One-time prekeys 7 and 8: overwrite both, whichever is 7.
      raw.exec_with_blob("UPDATE one_time_prekeys SET nonce = ?1", nonce);
      raw.exec_with_blob("UPDATE one_time_prekeys SET sealed = ?1", sealed);
    }
    auto st = open_store(t);
    require_tampered(st->one_time_prekey(7), "one_time_prekeys");
  }
  SECTION("a whole row copied into another table") {
    {
      RawDb raw(t.db());
      raw.exec("INSERT INTO signed_prekeys SELECT row_key, nonce, sealed FROM sessions");
    }
    auto st = open_store(t);
    require_tampered(st->signed_prekey_ids(), "signed_prekeys");
    // The genuine row is still readable by its own key.
    CHECK((*st->signed_prekey(7))->equals(pass("signed prekey 7")));
  }
  SECTION("the identity record moved over the session's row") {
    {
      RawDb raw(t.db());
      raw.exec(
          "UPDATE sessions SET nonce = (SELECT nonce FROM identity), "
          "sealed = (SELECT sealed FROM identity)");
    }
    auto st = open_store(t);
    require_tampered(st->session(peer_id(1)), "sessions");
  }
  SECTION("a message moved to the other conversation") {
    {
      RawDb raw(t.db());
      raw.exec(
          "UPDATE messages SET conv_key = (SELECT conv_key FROM messages WHERE seq = 2) "
          "WHERE seq = 1");
    }
    auto st = open_store(t);
    require_tampered(st->history(peer_id(2)), "messages");
  }
  SECTION("a contact's account-id index pointed at another contact") {
    {
      RawDb raw(t.db());
      raw.exec(
          "UPDATE contacts SET id_key = zeroblob(32) WHERE row_key = "
          "(SELECT min(row_key) FROM contacts)");
    }
    auto st = open_store(t);
    require_tampered(st->contacts(), "contacts");
  }
}

TEST_CASE("a column of the wrong SQL type or a dropped table", "[tamper]") {
  TempDir t;
  auto s = create_store(t);
  populate(*s);
  s.reset();
  SECTION("text instead of a blob") {
    { RawDb(t.db()).exec("UPDATE identity SET sealed = 'hello'"); }
    auto st = open_store(t);
    require_tampered(st->identity(), "identity");
  }
  SECTION("a dropped table") {
    { RawDb(t.db()).exec("DROP TABLE sessions"); }
    auto st = open_store(t);
    require_tampered(st->session(peer_id(1)), "sessions");
  }
}

TEST_CASE("the KDF parameter row changed or removed", "[tamper]") {
  TempDir t;
  create_store(t, "pw");
  auto open_error = [&](const char* p = "pw") {
    auto r = ProfileStore::open(t.profile(), pass(p), fast());
    REQUIRE_FALSE(r.ok());
    return r.error();
  };
  SECTION("opslimit") {
    RawDb(t.db()).exec("UPDATE header SET opslimit = opslimit + 1");
    const auto e = open_error();
    CHECK(e.code == StoreError::kTampered);
    CHECK(describe(e).rfind("store corrupted or tampered: table header", 0) == 0);
  }
  SECTION("memlimit absurdly large: refused without trying to allocate it") {
    RawDb(t.db()).exec("UPDATE header SET memlimit = 1099511627776");
    CHECK(open_error().code == StoreError::kTampered);
  }
  SECTION("salt") {
    RawDb raw(t.db());
    flip_blob(raw, "header", "salt", "id = 1", 0);
    CHECK(open_error().code == StoreError::kTampered);
  }
  SECTION("wrapped key") {
    RawDb raw(t.db());
    flip_blob(raw, "header", "wrapped_key", "id = 1", 0);
    CHECK(open_error().code == StoreError::kTampered);
  }
  SECTION("algorithm") {
    RawDb(t.db()).exec("UPDATE header SET kdf_algorithm = 1");
    CHECK(open_error().code == StoreError::kTampered);
  }
  SECTION("row deleted") {
    RawDb(t.db()).exec("DELETE FROM header");
    const auto e = open_error();
    CHECK(e.code == StoreError::kTampered);
    CHECK(e.table == "header");
  }
  SECTION("a column of the wrong type") {
    RawDb(t.db()).exec("UPDATE header SET opslimit = 'one'");
    CHECK(open_error().code == StoreError::kTampered);
  }
  SECTION("changed consistently (digest recomputed): refused as a wrong passphrase") {
    {
      auto db = sqlite::Db::open(t.db().string());
      REQUIRE(db.ok());
      auto h = read_header(*db);
      REQUIRE(h.ok());
      h->kdf.opslimit = 2;
      h->digest = header_digest(*h);
      REQUIRE(write_header(*db, *h).ok());
    }
    CHECK(open_error().code == StoreError::kWrongPassphrase);
  }
}

TEST_CASE("random byte flips anywhere in the file: an error or the right data, never a crash",
          "[tamper]") {
  TempDir t;
  {
    auto s = create_store(t);
    populate(*s);
  }  // closed: everything checkpointed into profile.db
  REQUIRE_FALSE(fs::exists(t.db().string() + "-wal"));
  const Bytes pristine = file_bytes(t.db());
  REQUIRE(pristine.size() > 4096);
  SeededRng rng(2024);
  std::set<StoreError> outcomes;
  int intact = 0;
  for (int round = 0; round < 60; ++round) {
    Bytes bytes = pristine;
    const std::size_t at = rng.uniform(static_cast<std::uint32_t>(bytes.size()));
    bytes[at] ^= static_cast<std::uint8_t>(1u << rng.uniform(8));
    {
      std::ofstream out(t.db(), std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
    fs::remove(t.db().string() + "-wal");
    fs::remove(t.db().string() + "-shm");
    INFO("flipped byte " << at);
    auto st = ProfileStore::open(t.profile(), pass("pw"), fast());
    if (!st) {
      outcomes.insert(st.error().code);
      CHECK((st.error().code == StoreError::kTampered ||
             st.error().code == StoreError::kWrongPassphrase ||
             st.error().code == StoreError::kNoProfile ||
             st.error().code == StoreError::kSchemaTooNew));
      continue;
    }
    // Every read either fails closed or returns exactly what was written.
    ProfileStore& store = **st;
    bool all_ok = true;
    auto check = [&](auto&& r, auto&& good) {
      if (!r.ok()) {
        outcomes.insert(r.error().code);
        CHECK(r.error().code == StoreError::kTampered);
        all_ok = false;
        return;
      }
      CHECK(good(*r));
    };
    check(store.identity(), [](auto& v) { return v && v->equals(pass("identity key")); });
    check(store.contacts(), [](auto& v) {
      return v.size() == 2 && v[0].name == "alice" && v[0].account_id == peer_id(1) &&
             v[1].name == "bob" && v[1].verified;
    });
    check(store.history(peer_id(1)),
          [](auto& v) { return v.size() == 3 && v[2].text.equals(pass("to alice 2")); });
    check(store.history(peer_id(2)), [](auto& v) { return v.size() == 3; });
    check(store.signed_prekey(7), [](auto& v) { return v && v->equals(pass("signed prekey 7")); });
    check(store.one_time_prekey_ids(), [](auto& v) {
      return v == std::vector<std::uint32_t>{7, 8};
    });
    check(store.session(peer_id(1)),
          [](auto& v) { return v && v->ratchet_state.equals(pass("ratchet state")); });
    check(store.setting(setting::kRelayAddress),
          [](auto& v) { return v && v->equals(pass("sotto://relay")); });
    if (all_ok) ++intact;
  }
  // Both kinds of outcome occur for a file of this size (free space and live data).
  CHECK(outcomes.count(StoreError::kTampered) == 1);
  CHECK(intact > 0);
}

TEST_CASE("tampering while the store is open is caught on the next read", "[tamper]") {
  TempDir t;
  auto s = create_store(t);
  populate(*s);
  REQUIRE(s->contact_by_name("alice")->has_value());
  {
    RawDb raw(t.db());
    flip_blob(raw, "contacts", "sealed", "row_key = (SELECT min(row_key) FROM contacts)", 3);
  }
  require_tampered(s->contacts(), "contacts");
}
