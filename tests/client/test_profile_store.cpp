// test_profile_store.cpp — the encrypted profile store on real files: create and
// open, wrong passphrase, changing the passphrase, every logical table through its
// keyed-hash lookups, file and directory permissions, the pragmas that persist in
// the file, and a search of the raw files (database, WAL, shared memory) for the
// plaintexts, names, ids and keys that were stored: none may appear.
#include <sys/stat.h>

#include "tests/client/store_test_helpers.hpp"

using namespace store_test;

TEST_CASE("create, then open with the right passphrase", "[profile_store]") {
  TempDir t;
  const SecretBytes ik = SecretBytes::copy_of(Bytes(64, 0x5a));
  {
    auto s = create_store(t);
    REQUIRE(s->put_identity(ik).ok());
    REQUIRE(s->put_transport_key(SecretBytes::copy_of(Bytes(32, 0x3c))).ok());
  }
  CHECK(ProfileStore::exists(t.profile()));
  auto s = open_store(t);
  auto got = s->identity();
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->equals(ik));
  auto tk = s->transport_key();
  REQUIRE(tk.ok());
  REQUIRE(tk->has_value());
  CHECK((*tk)->view()[0] == 0x3c);
}

TEST_CASE("a wrong passphrase is refused with a clear error", "[profile_store]") {
  TempDir t;
  create_store(t, "right one");
  auto s = ProfileStore::open(t.profile(), pass("wrong one"), fast());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == StoreError::kWrongPassphrase);
  CHECK(describe(s.error()) == "wrong passphrase");
  auto empty = ProfileStore::open(t.profile(), SecretBytes{}, fast());
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == StoreError::kWrongPassphrase);
}

TEST_CASE("create refuses an existing profile, open refuses a missing one", "[profile_store]") {
  TempDir t;
  auto missing = ProfileStore::open(t.profile(), pass("pw"), fast());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == StoreError::kNoProfile);
  create_store(t);
  auto again = ProfileStore::create(t.profile(), pass("pw"), fast());
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == StoreError::kProfileExists);
  auto empty = ProfileStore::create(t.root() / "other", SecretBytes{}, fast());
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == StoreError::kInvalidArgument);
  ProfileStoreOptions weak = fast();
  weak.kdf.memlimit = 1024;
  auto bad_kdf = ProfileStore::create(t.root() / "other", pass("pw"), weak);
  REQUIRE_FALSE(bad_kdf.ok());
  CHECK(bad_kdf.error().code == StoreError::kInvalidArgument);
  CHECK_FALSE(fs::exists(t.root() / "other" / kProfileFileName));
}

TEST_CASE("an empty or foreign file is not a profile, a newer schema is refused",
          "[profile_store]") {
  TempDir t;
  fs::create_directories(t.profile());
  { std::ofstream(t.db(), std::ios::binary); }
  auto empty = ProfileStore::open(t.profile(), pass("pw"), fast());
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == StoreError::kNoProfile);
  fs::remove(t.db());

  create_store(t);
  { RawDb(t.db()).exec("PRAGMA user_version = 99"); }
  auto newer = ProfileStore::open(t.profile(), pass("pw"), fast());
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.error().code == StoreError::kSchemaTooNew);
}

TEST_CASE("change_passphrase re-wraps the store key only, the old passphrase stops working",
          "[profile_store]") {
  TempDir t;
  Bytes sealed_before;
  {
    auto s = create_store(t, "old passphrase");
    REQUIRE(s->add_contact({"alice", peer_id(1), false}).ok());
    StoredMessage m;
    m.time = 5;
    m.text = pass("hello alice");
    REQUIRE(s->append_message(peer_id(1), m).ok());
    sealed_before = RawDb(t.db()).blob("SELECT sealed FROM contacts");
    const Bytes wrapped_before = RawDb(t.db()).blob("SELECT wrapped_key FROM header");

    auto wrong_old = s->change_passphrase(pass("not it"), pass("new passphrase"));
    REQUIRE_FALSE(wrong_old.ok());
    CHECK(wrong_old.error().code == StoreError::kWrongPassphrase);
    CHECK(RawDb(t.db()).blob("SELECT wrapped_key FROM header") == wrapped_before);

    REQUIRE(s->change_passphrase(pass("old passphrase"), pass("new passphrase")).ok());
    CHECK(RawDb(t.db()).blob("SELECT wrapped_key FROM header") != wrapped_before);
    // Still usable in this session.
    auto c = s->contact_by_name("alice");
    REQUIRE(c.ok());
    CHECK(c->has_value());
  }
  auto old = ProfileStore::open(t.profile(), pass("old passphrase"), fast());
  REQUIRE_FALSE(old.ok());
  CHECK(old.error().code == StoreError::kWrongPassphrase);

  auto s = open_store(t, "new passphrase");
  // The records were not re-encrypted: the same sealed bytes, still readable.
  CHECK(RawDb(t.db()).blob("SELECT sealed FROM contacts") == sealed_before);
  auto c = s->contact_by_name("alice");
  REQUIRE(c.ok());
  REQUIRE(c->has_value());
  CHECK((*c)->account_id == peer_id(1));
  auto h = s->history(peer_id(1));
  REQUIRE(h.ok());
  REQUIRE(h->size() == 1);
  CHECK((*h)[0].text.equals(pass("hello alice")));
}

TEST_CASE("contacts: lookups by name and by id, uniqueness, verified flag, removal",
          "[profile_store]") {
  TempDir t;
  auto s = create_store(t);
  REQUIRE(s->add_contact({"carol", peer_id(3), false}).ok());
  REQUIRE(s->add_contact({"alice", peer_id(1), true}).ok());
  REQUIRE(s->add_contact({"bob", peer_id(2), false}).ok());

  auto by_name = s->contact_by_name("bob");
  REQUIRE(by_name.ok());
  REQUIRE(by_name->has_value());
  CHECK((*by_name)->account_id == peer_id(2));
  auto by_id = s->contact_by_id(peer_id(1));
  REQUIRE(by_id.ok());
  REQUIRE(by_id->has_value());
  CHECK((*by_id)->name == "alice");
  CHECK((*by_id)->verified);
  auto none = s->contact_by_name("dave");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  auto none_id = s->contact_by_id(peer_id(9));
  REQUIRE(none_id.ok());
  CHECK_FALSE(none_id->has_value());

  auto dup_name = s->add_contact({"bob", peer_id(4), false});
  REQUIRE_FALSE(dup_name.ok());
  CHECK(dup_name.error().code == StoreError::kAlreadyExists);
  auto dup_id = s->add_contact({"robert", peer_id(2), false});
  REQUIRE_FALSE(dup_id.ok());
  CHECK(dup_id.error().code == StoreError::kAlreadyExists);
  CHECK_FALSE(s->add_contact({"", peer_id(5), false}).ok());
  CHECK_FALSE(s->add_contact({std::string(256, 'x'), peer_id(5), false}).ok());

  REQUIRE(s->set_contact_verified("bob", true).ok());
  CHECK((*s->contact_by_name("bob"))->verified);
  CHECK(s->set_contact_verified("nobody", true).error().code == StoreError::kNotFound);

  auto list = s->contacts();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK((*list)[0].name == "alice");
  CHECK((*list)[1].name == "bob");
  CHECK((*list)[2].name == "carol");

  REQUIRE(s->remove_contact("bob").ok());
  CHECK_FALSE(s->contact_by_name("bob")->has_value());
  CHECK_FALSE(s->contact_by_id(peer_id(2))->has_value());
  CHECK(s->remove_contact("bob").error().code == StoreError::kNotFound);
  // The id is free again.
  REQUIRE(s->add_contact({"robert", peer_id(2), false}).ok());
  CHECK(*s->row_count(Table::kContacts) == 3);
}

TEST_CASE("messages: history per peer, ordered, with a limit", "[profile_store]") {
  TempDir t;
  auto s = create_store(t);
  for (int i = 0; i < 10; ++i) {
    StoredMessage m;
    m.direction = i % 2 == 0 ? Direction::kOutgoing : Direction::kIncoming;
    m.time = 1000 + static_cast<std::uint64_t>(i);
    m.message_id = {static_cast<std::uint8_t>(i)};
    m.text = pass("message " + std::to_string(i));
    REQUIRE(s->append_message(peer_id(i < 7 ? 1 : 2), m).ok());
  }
  auto all = s->history(peer_id(1));
  REQUIRE(all.ok());
  REQUIRE(all->size() == 7);
  for (std::size_t i = 0; i < 7; ++i) {
    CHECK((*all)[i].text.equals(pass("message " + std::to_string(i))));
    CHECK((*all)[i].time == 1000 + i);
    CHECK((*all)[i].message_id == Bytes{static_cast<std::uint8_t>(i)});
    if (i > 0) CHECK((*all)[i].seq > (*all)[i - 1].seq);
  }
  CHECK((*all)[0].direction == Direction::kOutgoing);
  CHECK((*all)[1].direction == Direction::kIncoming);
  auto last3 = s->history(peer_id(1), 3);
  REQUIRE(last3.ok());
  REQUIRE(last3->size() == 3);
  CHECK((*last3)[0].text.equals(pass("message 4")));
  CHECK((*last3)[2].text.equals(pass("message 6")));
  auto other = s->history(peer_id(2));
  REQUIRE(other->size() == 3);
  CHECK(s->history(peer_id(3))->empty());

  // A removed history does not give its positions to new messages.
  const std::uint64_t last_seq = (*all)[6].seq;
  CHECK(*s->remove_history(peer_id(1)) == 7);
  CHECK(s->history(peer_id(1))->empty());
  StoredMessage m;
  m.text = pass("after");
  auto seq = s->append_message(peer_id(1), m);
  REQUIRE(seq.ok());
  CHECK(*seq > last_seq);
  CHECK(*seq > (*other)[2].seq);
}

TEST_CASE("sessions, prekeys, counters, settings and seen envelopes", "[profile_store]") {
  TempDir t;
  auto s = create_store(t);

  SessionRecord rec;
  rec.ratchet_state = pass("serialized ratchet state");
  rec.pending_header = Bytes{9, 8, 7};
  REQUIRE(s->put_session(peer_id(1), rec).ok());
  auto got = s->session(peer_id(1));
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->ratchet_state.equals(rec.ratchet_state));
  CHECK((*got)->pending_header == rec.pending_header);
  CHECK((*got)->verification == Verification::kUnverified);
  rec.pending_header.reset();
  rec.verification = Verification::kVerified;
  REQUIRE(s->put_session(peer_id(1), rec).ok());
  CHECK_FALSE((*s->session(peer_id(1)))->pending_header.has_value());
  CHECK((*s->session(peer_id(1)))->verification == Verification::kVerified);
  CHECK_FALSE(s->session(peer_id(2))->has_value());
  // A previous session is a separate row: independent of the current one.
  SessionRecord prev;
  prev.ratchet_state = pass("previous ratchet state");
  CHECK_FALSE(s->previous_session(peer_id(1))->has_value());
  REQUIRE(s->put_previous_session(peer_id(1), prev).ok());
  REQUIRE(s->previous_session(peer_id(1))->has_value());
  CHECK((*s->previous_session(peer_id(1)))->ratchet_state.equals(prev.ratchet_state));
  CHECK((*s->session(peer_id(1)))->ratchet_state.equals(rec.ratchet_state));
  CHECK_FALSE(s->previous_session(peer_id(2))->has_value());
  CHECK(*s->remove_session(peer_id(1)));
  CHECK_FALSE(*s->remove_session(peer_id(1)));
  CHECK(s->previous_session(peer_id(1))->has_value());
  CHECK(*s->remove_previous_session(peer_id(1)));
  CHECK_FALSE(*s->remove_previous_session(peer_id(1)));
  CHECK_FALSE(s->previous_session(peer_id(1))->has_value());

  REQUIRE(s->put_signed_prekey(7, pass("spk seven")).ok());
  REQUIRE(s->put_signed_prekey(3, pass("spk three")).ok());
  CHECK((*s->signed_prekey(7))->equals(pass("spk seven")));
  CHECK(*s->signed_prekey_ids() == std::vector<std::uint32_t>{3, 7});
  CHECK(*s->remove_signed_prekey(3));
  CHECK(*s->signed_prekey_ids() == std::vector<std::uint32_t>{7});

  auto first = s->reserve_one_time_prekey_ids(5);
  REQUIRE(first.ok());
  CHECK(*first == 1);
  for (std::uint32_t id = *first; id < *first + 5; ++id) {
    REQUIRE(s->put_one_time_prekey(id, pass("opk " + std::to_string(id))).ok());
  }
  CHECK(*s->reserve_one_time_prekey_ids(3) == 6);
  CHECK(*s->one_time_prekey_count() == 5);
  CHECK((*s->one_time_prekey(4))->equals(pass("opk 4")));
  CHECK(*s->remove_one_time_prekey(4));
  CHECK_FALSE(s->one_time_prekey(4)->has_value());
  CHECK(*s->one_time_prekey_ids() == std::vector<std::uint32_t>{1, 2, 3, 5});
  CHECK(s->reserve_one_time_prekey_ids(0xffffffffu).error().code == StoreError::kInvalidArgument);

  REQUIRE(s->put_setting(setting::kRelayAddress, label_bytes("sotto://relay:7000/abcd")).ok());
  CHECK((*s->setting(setting::kRelayAddress))->equals(pass("sotto://relay:7000/abcd")));
  REQUIRE(s->put_setting_u64(setting::kDeviceId, 42).ok());
  CHECK(**s->setting_u64(setting::kDeviceId) == 42);
  CHECK_FALSE(s->setting("nothing")->has_value());
  CHECK(*s->remove_setting(setting::kRelayAddress));
  CHECK_FALSE(s->setting(setting::kRelayAddress)->has_value());

  const Bytes env1(100, 1), env2(100, 2), env3(50, 3);
  CHECK_FALSE(*s->envelope_seen(env1));
  REQUIRE(s->mark_envelope_seen(env1, 10).ok());
  REQUIRE(s->mark_envelope_seen(env2, 11).ok());
  REQUIRE(s->mark_envelope_seen(env3, 12).ok());
  CHECK(*s->envelope_seen(env1));
  CHECK_FALSE(*s->envelope_seen(Bytes(100, 4)));
  CHECK(*s->trim_seen_envelopes(2) == 1);
  CHECK_FALSE(*s->envelope_seen(env1));
  CHECK(*s->envelope_seen(env2));
  CHECK(*s->envelope_seen(env3));
}

TEST_CASE("profile directory is 0700, the database and its WAL files 0600", "[profile_store]") {
  TempDir t;
  const mode_t old = ::umask(022);
  auto s = create_store(t);
  REQUIRE(s->put_identity(pass("identity")).ok());  // the WAL now exists
  ::umask(old);
  auto mode = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
  };
  CHECK(mode(t.profile()) == 0700);
  CHECK(mode(t.db()) == 0600);
  REQUIRE(fs::exists(t.db().string() + "-wal"));
  CHECK(mode(t.db().string() + "-wal") == 0600);
  CHECK(mode(t.db().string() + "-shm") == 0600);

  // An existing directory with loose permissions is tightened.
  TempDir t2;
  fs::create_directories(t2.profile());
  fs::permissions(t2.profile(), fs::perms::all);
  create_store(t2);
  CHECK(mode(t2.profile()) == 0700);
}

TEST_CASE("the file is in WAL mode with the schema version set", "[profile_store]") {
  TempDir t;
  auto s = create_store(t);
  RawDb raw(t.db());
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(raw.integer("PRAGMA user_version") == kSchemaVersion);
  CHECK(raw.integer("SELECT count(*) FROM header") == 1);
  CHECK(raw.integer("SELECT opslimit FROM header") ==
        static_cast<std::int64_t>(KdfParams::minimum().opslimit));
  CHECK(raw.integer("SELECT memlimit FROM header") ==
        static_cast<std::int64_t>(KdfParams::minimum().memlimit));
}

TEST_CASE("the files hold no plaintext, names, ids or keys", "[profile_store]") {
  TempDir t;
  const std::string name = "zq-contact-name-5f1c9e";
  const std::string text = "xq-message-text-a83b27-never-in-the-file";
  const std::string relay = "sotto://xq-relay-host-3d7e:7000";
  const std::string passphrase = "xq-passphrase-71c0ee";
  const Bytes identity_secret(64, 0xd7);
  const IdentityPublicKey peer = peer_id(0x61);

  auto check_files = [&](const char* when) {
    INFO(when);
    bool schema_seen = false;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const fs::path p = t.db().string() + suffix;
      if (!fs::exists(p)) continue;
      INFO(p.string());
      const Bytes raw = file_bytes(p);
      schema_seen = schema_seen || contains(raw, label_bytes("CREATE TABLE seen_envelopes"));
      CHECK_FALSE(contains(raw, label_bytes(name)));
      CHECK_FALSE(contains(raw, label_bytes(text)));
      CHECK_FALSE(contains(raw, label_bytes("xq-message-text")));
      CHECK_FALSE(contains(raw, label_bytes(relay)));
      CHECK_FALSE(contains(raw, label_bytes(passphrase)));
      CHECK_FALSE(contains(raw, ByteView(identity_secret).first(16)));
      CHECK_FALSE(contains(raw, peer.view().first(16)));
      CHECK_FALSE(contains(raw, label_bytes(to_hex(peer.view()).substr(0, 32))));
    }
    // The search works: the schema's own text is in the database or its WAL.
    CHECK(schema_seen);
  };
  {
    auto s = create_store(t, passphrase);
    REQUIRE(s->put_identity(SecretBytes::copy_of(identity_secret)).ok());
    REQUIRE(s->add_contact({name, peer, true}).ok());
    REQUIRE(s->put_setting(setting::kRelayAddress, label_bytes(relay)).ok());
    SessionRecord rec;
    rec.ratchet_state = SecretBytes::copy_of(identity_secret);
    REQUIRE(s->put_session(peer, rec).ok());
    for (int i = 0; i < 20; ++i) {
      StoredMessage m;
      m.text = pass(text + std::to_string(i));
      REQUIRE(s->append_message(peer, m).ok());
    }
    // Deleted records are overwritten (secure_delete), not left in free pages.
    REQUIRE(s->remove_history(peer).ok());
    StoredMessage m;
    m.text = pass(text);
    REQUIRE(s->append_message(peer, m).ok());
    REQUIRE(fs::exists(t.db().string() + "-wal"));
    check_files("while open (WAL not checkpointed)");
  }
  check_files("after close");
  // And the data is really there, for the right passphrase.
  auto s = open_store(t, passphrase);
  CHECK((*s->history(peer)).at(0).text.equals(pass(text)));
}
