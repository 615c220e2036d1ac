// test_client_disclosure.cpp — the disclosure test (issue 4): three real
// clients hold a scripted conversation with known, unique plaintexts through a
// real relay; then everything the relay has — every file of its data
// directory (database, WAL, SHM, config, key), its log, and the `disclose`
// output (JSON and text) for every account — is searched byte-wise for:
//
//   1. any plaintext (raw and hex);
//   2. any private key of any client (raw and hex);
//   3. any record of who sent which message: no sender's account id, in any
//      encoding (raw 32 bytes, its X25519 form, hex lower/upper, the sotto1
//      text lower/upper, base64), in any queued message row, in the
//      `disclose` output of any other account, or anywhere in the log; and the
//      messages table has exactly the columns recipient, seq, arrival_bucket,
//      ciphertext.
//
// The search runs twice: with the relay running (data still in the WAL) and
// after it stopped. The test fails if anything is found.
//
// Where the private keys come from: the test is the profiles' owner — it wrote
// their passphrase files — so after the `sotto` processes have exited it opens
// each profile in-process with the same store library the CLI uses
// (client/profile_store.hpp) and reads the records that hold secrets: the
// identity seed (and its X25519 form), the transport key, the signed prekeys'
// secret halves, the one-time prekeys, and every ratchet session state (root,
// chain and ratchet private keys, skipped message keys). No test-only hook in
// the product is needed, and the bytes searched for are exactly the ones the
// real client holds. A session state also holds public keys (our own ratchet
// public keys, the peer's signed prekey, identity keys) that the relay may
// legitimately hold, so every 32-byte window of those records is a needle
// except windows that equal a public key derivable from any client's secrets
// (X25519 base point, Ed25519 seed) or an account id, windows that overlap
// such a public key by 16 bytes or more, and windows with fewer than 20
// distinct byte values (lengths, counters, padding: they would match by
// chance). A random 32-byte key has about 30 distinct values; the odds that a
// real key is skipped by this filter are below 2^-40.
//
// The test checks that it CAN fail: the same scanners run over a copy of the
// relay's files with one plaintext, one private key and one sender id planted,
// and must find each.
#include "integration/client_helpers.hpp"
#include "integration/leak_scan.hpp"

#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <cstdio>
#include <set>

#include "client/profile_store.hpp"

using namespace sotto;
using namespace sotto::test;
namespace fs = std::filesystem;

namespace {

using Window32 = std::array<std::uint8_t, 32>;

std::string as_string(ByteView v) {
  return std::string(v.begin(), v.end());
}
std::string hex_upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string base64(ByteView v) {
  std::string out(sodium_base64_encoded_len(v.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), v.data(), v.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Every regular file under `dir`, by path.
std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().string()] = slurp(e.path());
  return out;
}

// ---- the private keys of a profile ----

struct SecretRecord {
  std::string what;
  std::string bytes;  // the secret-bearing part of the record
};

std::vector<SecretRecord> secret_records(const SottoProfile& p,
                                         const std::vector<std::string>& peer_ids) {
  std::vector<SecretRecord> out;
  std::unique_ptr<client::ProfileStore> store;
  // The passphrase file holds the passphrase and a newline; the CLI may or may
  // not keep the newline: try both.
  for (std::string pass : {p.passphrase(), p.passphrase() + "\n"}) {
    auto s = client::ProfileStore::open(p.profile_dir(), SecretBytes::copy_of(label_bytes(pass)));
    if (s) {
      store = std::move(*s);
      break;
    }
  }
  INFO("opening " << p.name() << "'s profile in-process");
  REQUIRE(store);
  auto text = [](const SecretBytes& s) { return as_string(s.view()); };

  auto id = store->identity();
  REQUIRE(id);
  REQUIRE(*id);
  out.push_back({p.name() + " identity seed", text(**id)});
  auto transport = store->transport_key();
  REQUIRE(transport);
  REQUIRE(*transport);
  out.push_back({p.name() + " transport key", text(**transport)});
  auto spks = store->signed_prekey_ids();
  REQUIRE(spks);
  for (auto spk_id : *spks) {
    auto r = store->signed_prekey(spk_id);
    REQUIRE(r);
    REQUIRE(*r);
    // u8(version) || SPK public record (116) || X25519 secret (32) || u64be(replaced_at):
    // the public record (key, signature) is the relay's to hold; the secret is not.
    const std::string rec = text(**r);
    REQUIRE(rec.size() >= 1 + 116 + 32);
    out.push_back({p.name() + " signed prekey " + std::to_string(spk_id), rec.substr(117, 32)});
  }
  auto opks = store->one_time_prekey_ids();
  REQUIRE(opks);
  for (auto opk_id : *opks) {
    auto r = store->one_time_prekey(opk_id);
    REQUIRE(r);
    REQUIRE(*r);
    out.push_back({p.name() + " one-time prekey " + std::to_string(opk_id), text(**r)});
  }
  for (const auto& peer : peer_ids) {
    auto key = IdentityPublicKey::from(id_bytes(peer));
    REQUIRE(key);
    auto s = store->session(*key);
    REQUIRE(s);
    if (!*s) continue;
    out.push_back(
        {p.name() + " session state with " + peer.substr(0, 12), text((*s)->ratchet_state)});
  }
  return out;
}

std::size_t distinct(const std::uint8_t* p) {
  std::set<std::uint8_t> s(p, p + 32);
  return s.size();
}

// Public keys derivable from a 32-byte value: as an X25519 secret, and as an
// Ed25519 seed (the public key and its X25519 form).
void add_derived_publics(const std::uint8_t* w, std::set<Window32>& publics) {
  Window32 pub{};
  crypto_scalarmult_base(pub.data(), w);
  publics.insert(pub);
  std::array<std::uint8_t, 32> ed_pk{};
  std::array<std::uint8_t, 64> ed_sk{};
  crypto_sign_seed_keypair(ed_pk.data(), ed_sk.data(), w);
  publics.insert(ed_pk);
  Window32 x{};
  if (crypto_sign_ed25519_pk_to_curve25519(x.data(), ed_pk.data()) == 0) publics.insert(x);
  sodium_memzero(ed_sk.data(), ed_sk.size());
}

// Adds the needles of one record to `scan` (raw and hex); returns how many.
std::size_t add_key_needles(const SecretRecord& rec, const std::set<Window32>& publics,
                            LeakScanner& scan) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(rec.bytes.data());
  const std::size_t n = rec.bytes.size();
  if (n < 32) return 0;
  // Bytes covered by a public key found inside the record.
  std::vector<bool> is_public(n, false);
  for (std::size_t i = 0; i + 32 <= n; ++i) {
    Window32 w;
    std::memcpy(w.data(), b + i, 32);
    if (publics.count(w))
      for (std::size_t k = 0; k < 32; ++k) is_public[i + k] = true;
  }
  std::size_t added = 0;
  for (std::size_t i = 0; i + 32 <= n; ++i) {
    std::size_t covered = 0;
    for (std::size_t k = 0; k < 32; ++k) covered += is_public[i + k] ? 1 : 0;
    if (covered >= 16 || distinct(b + i) < 20) continue;
    const std::string w = rec.bytes.substr(i, 32);
    const std::string what = rec.what + " (bytes " + std::to_string(i) + "..)";
    scan.add(what, w);
    scan.add(what + " as hex", to_hex(label_bytes(w)));
    ++added;
  }
  return added;
}

// Every encoding of an account id a relay could write down.
void add_id_needles(const SottoProfile& p, LeakScanner& scan) {
  const Bytes raw = id_bytes(p.account_id());
  REQUIRE(raw.size() == 32);
  Bytes x(32);
  REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x.data(), raw.data()) == 0);
  const std::string who = p.name() + "'s account id";
  scan.add(who + " (raw)", as_string(raw));
  scan.add(who + " (X25519 form, raw)", as_string(x));
  scan.add(who + " (hex)", to_hex(raw));
  scan.add(who + " (HEX)", hex_upper(to_hex(raw)));
  scan.add(who + " (X25519 form, hex)", to_hex(x));
  scan.add(who + " (X25519 form, HEX)", hex_upper(to_hex(x)));
  scan.add(who + " (text)", p.account_id());
  scan.add(who + " (TEXT)", hex_upper(p.account_id()));
  scan.add(who + " (base64)", base64(raw));
}

struct MessageRow {
  std::string recipient;  // raw
  std::string bytes;      // every column's bytes, concatenated
};

// The relay's queued messages, read directly from its database.
std::vector<MessageRow> message_rows(const fs::path& db_path, std::vector<std::string>& columns) {
  std::vector<MessageRow> rows;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('messages')", -1, &st,
                             nullptr) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT * FROM messages", -1, &st, nullptr) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    MessageRow row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const void* p = sqlite3_column_blob(st, c);
      const int n = sqlite3_column_bytes(st, c);
      std::string v =
          p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
      if (std::string(sqlite3_column_name(st, c)) == "recipient") row.recipient = v;
      row.bytes += v;
      row.bytes += '\0';
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

// The relay's database file in its data directory.
fs::path relay_db(const fs::path& data_dir) {
  for (const auto& e : fs::directory_iterator(data_dir)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 3 && name.substr(name.size() - 3) == ".db")
      return e.path();
  }
  for (const auto& e : fs::directory_iterator(data_dir))
    if (e.is_regular_file() && e.path().extension() == ".sqlite") return e.path();
  return {};
}

}  // namespace

TEST_CASE("client: the relay holds no plaintext, no private key and no sender",
          "[client][integration][disclosure]") {
  REQUIRE(sodium_init() >= 0);
  auto net = make_network({"alice", "bob", "carol"});
  const std::vector<std::string> names{"alice", "bob", "carol"};

  // ---- the scripted conversation ----
  // Unique plaintexts: a random tag per run, sender, recipient and round.
  Bytes tag(8);
  randombytes_buf(tag.data(), tag.size());
  const std::string run_tag = "SottoDisclosure-" + to_hex(tag);
  std::vector<std::string> plaintexts;
  auto say = [&](const std::string& from, const std::string& to, int round) {
    const std::string text =
        run_tag + " " + from + " tells " + to + " secret #" + std::to_string(round);
    send_ok(net->client(from), to, text);
    plaintexts.push_back(text);
  };
  // Round 1 opens the sessions one way at a time (alice -> bob, alice -> carol,
  // bob -> carol: both sides writing first at once is a separate test in
  // test_client_conversation.cpp); rounds 1 and 2 are delivered (and deleted
  // at the relay: they must not linger in the database or the WAL); round 3
  // stays queued, so the messages table has rows to inspect.
  say("alice", "bob", 1);
  say("alice", "carol", 1);
  say("bob", "carol", 1);
  REQUIRE(receive(net->client("bob"), 1).size() == 1);
  REQUIRE(receive(net->client("carol"), 2).size() == 2);
  for (const auto& from : names)
    for (const auto& to : names)
      if (from != to) say(from, to, 2);
  for (const auto& to : names) {
    auto got = receive(net->client(to), 2);
    INFO(to << " received " << got.size());
    REQUIRE(got.size() == 2);
    for (const auto& m : got)
      CHECK(m.text.find(" tells " + to + " secret #2") != std::string::npos);
  }
  for (const auto& from : names)
    for (const auto& to : names)
      if (from != to) say(from, to, 3);

  // ---- the needles ----
  LeakScanner plain_scan;
  for (const auto& t : plaintexts) {
    plain_scan.add("plaintext \"" + t.substr(run_tag.size() + 1) + "\"", t);
    plain_scan.add("plaintext \"" + t.substr(run_tag.size() + 1) + "\" as hex",
                   to_hex(label_bytes(t)));
  }
  plain_scan.add("the run's plaintext tag", run_tag);

  std::vector<std::string> ids;
  for (const auto& n : names) ids.push_back(net->client(n).account_id());
  std::vector<SecretRecord> records;
  for (const auto& n : names)
    for (auto& r : secret_records(net->client(n), ids)) records.push_back(std::move(r));
  // The identity key's X25519 form is a private key too.
  for (const auto& n : names) {
    auto recs = secret_records(net->client(n), {});
    REQUIRE(recs.front().bytes.size() == 32);
    std::array<std::uint8_t, 32> pk{};
    std::array<std::uint8_t, 64> sk{};
    crypto_sign_seed_keypair(pk.data(), sk.data(),
                             reinterpret_cast<const std::uint8_t*>(recs.front().bytes.data()));
    std::array<std::uint8_t, 32> x{};
    REQUIRE(crypto_sign_ed25519_sk_to_curve25519(x.data(), sk.data()) == 0);
    // The seed's public key is the account id: the store holds the key it announced.
    CHECK(Bytes(pk.begin(), pk.end()) == id_bytes(net->client(n).account_id()));
    records.push_back({n + " identity key, X25519 form", as_string(ByteView(x.data(), 32))});
    sodium_memzero(sk.data(), sk.size());
  }
  std::set<Window32> publics;
  for (const auto& id : ids) {
    Window32 k{};
    const Bytes raw = id_bytes(id);
    std::memcpy(k.data(), raw.data(), 32);
    publics.insert(k);
    Window32 x{};
    REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x.data(), k.data()) == 0);
    publics.insert(x);
  }
  for (const auto& r : records)
    for (std::size_t i = 0; i + 32 <= r.bytes.size(); ++i)
      add_derived_publics(reinterpret_cast<const std::uint8_t*>(r.bytes.data()) + i, publics);
  LeakScanner key_scan;
  std::size_t key_needles = 0;
  for (const auto& r : records) {
    const std::size_t added = add_key_needles(r, publics, key_scan);
    // Every key record and every session state contributes needles.
    INFO(r.what);
    CHECK(added >= 1);
    key_needles += added;
  }
  CHECK(key_needles >= 3 * 4);

  std::map<std::string, LeakScanner> id_scan;  // per client
  for (const auto& n : names) add_id_needles(net->client(n), id_scan[n]);

  // ---- what the relay has, and the searches ----
  // `sotto-relay disclose`, run directly (RelayProcess::command would append
  // its output, which names the account, to the relay's log searched below).
  auto disclose = [&](const std::string& name, bool json) {
    std::string cmd = std::string("'") + SOTTO_RELAY_BIN + "' disclose --data '" +
                      net->relay.data_dir().string() + "' --account " +
                      id_hex(net->client(name).account_id()) + (json ? " --json" : "");
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    std::string out;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    INFO(out);
    REQUIRE(::pclose(p) == 0);
    return out;
  };

  auto search_everything = [&](const std::string& when) {
    INFO("searching " << when);
    std::map<std::string, std::string> hay = files_under(net->relay.data_dir());
    REQUIRE(hay.size() >= 2);
    hay["relay log"] = net->relay.log();
    std::map<std::string, std::string> disclosures;
    for (const auto& n : names) {
      disclosures["disclose --json " + n] = disclose(n, true);
      disclosures["disclose " + n] = disclose(n, false);
      // The disclosure is about the right account, and it has queued messages.
      CHECK(disclosures["disclose --json " + n].find(id_hex(net->client(n).account_id())) !=
            std::string::npos);
    }
    for (const auto& [k, v] : disclosures) hay[k] = v;

    std::vector<LeakHit> plain_hits, key_hits, id_hits;
    for (const auto& [where, bytes] : hay) {
      for (auto& h : plain_scan.find_in(where, bytes)) plain_hits.push_back(h);
      for (auto& h : key_scan.find_in(where, bytes)) key_hits.push_back(h);
    }
    {
      INFO("plaintext found at the relay:\n" << describe(plain_hits));
      CHECK(plain_hits.empty());
    }
    {
      INFO("private key material found at the relay:\n" << describe(key_hits));
      CHECK(key_hits.empty());
    }
    // Senders: no id at all in the log; no other account's id in a disclosure.
    for (const auto& n : names) {
      for (auto& h : id_scan[n].find_in("relay log", hay["relay log"])) id_hits.push_back(h);
      for (const auto& other : names) {
        if (other == n) continue;
        for (const char* kind : {"disclose --json ", "disclose "})
          for (auto& h : id_scan[other].find_in(kind + n, disclosures[kind + n]))
            id_hits.push_back(h);
      }
    }
    // The queued messages: exactly the documented columns, and no client's id
    // (the recipient's only in its own column) in any row.
    const fs::path db = relay_db(net->relay.data_dir());
    REQUIRE_FALSE(db.empty());
    std::vector<std::string> columns;
    const auto rows = message_rows(db, columns);
    std::sort(columns.begin(), columns.end());
    CHECK(columns == std::vector<std::string>{"arrival_bucket", "ciphertext", "recipient", "seq"});
    CHECK(rows.size() == 6);  // round 3 is queued
    for (const auto& row : rows) {
      for (const auto& n : names) {
        const Bytes raw = id_bytes(net->client(n).account_id());
        std::string bytes = row.bytes;
        if (row.recipient == as_string(raw)) {
          // Blank out the recipient column's one occurrence (the row's first).
          auto pos = bytes.find(row.recipient);
          bytes.replace(pos, 32, std::string(32, '\0'));
        }
        for (auto& h : id_scan[n].find_in("a queued message row", bytes)) id_hits.push_back(h);
      }
    }
    INFO("a record of who sent a message:\n" << describe(id_hits));
    CHECK(id_hits.empty());
    return hay;
  };

  auto running = search_everything("with the relay running");
  REQUIRE(net->relay.stop());
  auto stopped = search_everything("with the relay stopped");

  // ---- the test can fail: planted leaks are found ----
  {
    std::string copy = stopped.begin()->second;
    const std::string plain = plaintexts.front();
    const std::string key = records.front().bytes.substr(0, 32);  // alice's identity seed
    const std::string sender = as_string(id_bytes(net->client("alice").account_id()));
    const std::string planted =
        copy.substr(0, copy.size() / 2) + plain + key + sender + copy.substr(copy.size() / 2);
    CHECK(plain_scan.find_in("planted", planted).size() >= 1);
    CHECK(key_scan.find_in("planted", planted).size() >= 1);
    CHECK(id_scan["alice"].find_in("planted", planted).size() >= 1);
    CHECK_FALSE(plain_scan.find_in("planted", to_hex(label_bytes(plain))).empty());
    CHECK_FALSE(id_scan["alice"].find_in("planted", net->client("alice").account_id()).empty());
  }
}
