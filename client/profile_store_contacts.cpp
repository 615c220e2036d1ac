// profile_store_contacts.cpp — contacts (name <-> account id) and the message
// history of the profile store (see profile_store.hpp).
//
// contacts: row_key = BLAKE2b(lookup key "contacts", name),
//           id_key  = BLAKE2b(lookup key "contacts/by_id", account id),
//           AD row  = row_key || id_key, so a record is bound to both lookups.
// messages: conv_key = BLAKE2b(lookup key "messages", peer account id),
//           AD row   = conv_key || u64be(seq): a record cannot move to another
//           conversation or another position in the history.
// A record whose content does not hash to the keys it is stored under is
// tampered, even if it authenticates.
#include <algorithm>
#include <limits>

#include "client/profile_store.hpp"

namespace sotto::client {
namespace {

constexpr char kContacts[] = "contacts";
constexpr char kMessages[] = "messages";

Bytes message_row(ByteView conv_key, std::uint64_t seq) {
  Bytes row(conv_key.begin(), conv_key.end());
  put_u64be(row, seq);
  return row;
}

}  // namespace

// ---- contacts ----

StoreResult<Contact> ProfileStore::open_contact(ByteView row, ByteView id_row, ByteView nonce,
                                                ByteView sealed) {
  const TableKeys& k = keys(Table::kContacts);
  SOTTO_TRY(SecretBytes plain, open_record(k.seal, kContacts, concat(row, id_row), nonce, sealed));
  auto contact = decode_contact(plain.view());
  if (!contact) return tampered(kContacts, "record does not parse");
  if (!crypto::ct_equal(row_key(k.lookup, label_bytes(contact->name)), row) ||
      !crypto::ct_equal(row_key(contacts_by_id_, contact->account_id.view()), id_row)) {
    return tampered(kContacts, "record does not match its keys");
  }
  return std::move(*contact);
}

StoreResult<void> ProfileStore::write_contact(const Contact& c) {
  const TableKeys& k = keys(Table::kContacts);
  const Bytes row = row_key(k.lookup, label_bytes(c.name));
  const Bytes id_row = row_key(contacts_by_id_, c.account_id.view());
  const SecretBytes plain = encode_contact(c);
  const SealedRecord rec = seal_record(k.seal, kContacts, concat(row, id_row), plain.view(), rng());
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("INSERT OR REPLACE INTO contacts (row_key, id_key, nonce, sealed) "
                        "VALUES (?1, ?2, ?3, ?4)",
                        kContacts));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY_VOID(stmt.bind(2, ByteView(id_row)));
  SOTTO_TRY_VOID(stmt.bind(3, ByteView(rec.nonce)));
  SOTTO_TRY_VOID(stmt.bind(4, ByteView(rec.ciphertext)));
  return stmt.run();
}

StoreResult<void> ProfileStore::add_contact(const Contact& contact) {
  if (contact.name.empty() || contact.name.size() > kMaxContactNameBytes) {
    return store_fail(StoreError::kInvalidArgument, kContacts, "a contact name is 1 to 255 bytes");
  }
  return atomically([&]() -> StoreResult<void> {
    SOTTO_TRY(std::optional<Contact> by_name, contact_by_name(contact.name));
    if (by_name) return store_fail(StoreError::kAlreadyExists, kContacts, "name already used");
    SOTTO_TRY(std::optional<Contact> by_id, contact_by_id(contact.account_id));
    if (by_id) {
      return store_fail(StoreError::kAlreadyExists, kContacts,
                        "account id already a contact as another name");
    }
    return write_contact(contact);
  });
}

StoreResult<void> ProfileStore::set_contact_verified(std::string_view name, bool verified) {
  return atomically([&]() -> StoreResult<void> {
    SOTTO_TRY(std::optional<Contact> c, contact_by_name(name));
    if (!c) return store_fail(StoreError::kNotFound, kContacts, "unknown contact");
    c->verified = verified;
    return write_contact(*c);
  });
}

StoreResult<void> ProfileStore::remove_contact(std::string_view name) {
  const Bytes row = row_key(keys(Table::kContacts).lookup, label_bytes(name));
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("DELETE FROM contacts WHERE row_key = ?1", kContacts));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY_VOID(stmt.run());
  if (db_.changes() == 0) return store_fail(StoreError::kNotFound, kContacts, "unknown contact");
  return {};
}

StoreResult<std::optional<Contact>> ProfileStore::contact_by_name(std::string_view name) {
  const Bytes row = row_key(keys(Table::kContacts).lookup, label_bytes(name));
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("SELECT row_key, id_key, nonce, sealed FROM contacts WHERE row_key = ?1",
                        kContacts));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(row)));
  SOTTO_TRY(bool found, stmt.step());
  if (!found) return std::optional<Contact>{};
  auto r = stmt.column_blob(0), id = stmt.column_blob(1), n = stmt.column_blob(2),
       s = stmt.column_blob(3);
  if (!r || !id || !n || !s) return tampered(kContacts, "a column of the wrong type");
  SOTTO_TRY(Contact c, open_contact(*r, *id, *n, *s));
  if (c.name != name) return tampered(kContacts, "record does not match its key");
  return std::optional<Contact>(std::move(c));
}

StoreResult<std::optional<Contact>> ProfileStore::contact_by_id(
    const IdentityPublicKey& account_id) {
  const Bytes id_row = row_key(contacts_by_id_, account_id.view());
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("SELECT row_key, id_key, nonce, sealed FROM contacts WHERE id_key = ?1",
                        kContacts));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(id_row)));
  SOTTO_TRY(bool found, stmt.step());
  if (!found) return std::optional<Contact>{};
  auto r = stmt.column_blob(0), id = stmt.column_blob(1), n = stmt.column_blob(2),
       s = stmt.column_blob(3);
  if (!r || !id || !n || !s) return tampered(kContacts, "a column of the wrong type");
  SOTTO_TRY(Contact c, open_contact(*r, *id, *n, *s));
  if (c.account_id != account_id) return tampered(kContacts, "record does not match its key");
  return std::optional<Contact>(std::move(c));
}

StoreResult<std::vector<Contact>> ProfileStore::contacts() {
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("SELECT row_key, id_key, nonce, sealed FROM contacts ORDER BY row_key",
                        kContacts));
  std::vector<Contact> out;
  for (;;) {
    SOTTO_TRY(bool found, stmt.step());
    if (!found) break;
    auto r = stmt.column_blob(0), id = stmt.column_blob(1), n = stmt.column_blob(2),
         s = stmt.column_blob(3);
    if (!r || !id || !n || !s) return tampered(kContacts, "a column of the wrong type");
    SOTTO_TRY(Contact c, open_contact(*r, *id, *n, *s));
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const Contact& a, const Contact& b) { return a.name < b.name; });
  return out;
}

// ---- messages ----

StoreResult<std::uint64_t> ProfileStore::append_message(const IdentityPublicKey& peer,
                                                        const StoredMessage& message) {
  if (message.message_id.size() > kMaxMessageIdBytes) {
    return store_fail(StoreError::kInvalidArgument, kMessages, "message id longer than 255 bytes");
  }
  if (message.direction != Direction::kIncoming && message.direction != Direction::kOutgoing) {
    return store_fail(StoreError::kInvalidArgument, kMessages, "bad direction");
  }
  const TableKeys& k = keys(Table::kMessages);
  const Bytes conv = row_key(k.lookup, peer.view());
  std::uint64_t seq = 0;
  auto done = atomically([&]() -> StoreResult<void> {
    // seq = 1 + the largest ever used (AUTOINCREMENT's counter), so a deleted
    // position is never reused for another record.
    SOTTO_TRY(std::int64_t last,
              db_.query_int("SELECT max(coalesce((SELECT seq FROM sqlite_sequence "
                            "WHERE name = 'messages'), 0), coalesce((SELECT max(seq) FROM "
                            "messages), 0))",
                            kMessages));
    if (last < 0 || last == std::numeric_limits<std::int64_t>::max()) {
      return tampered(kMessages, "bad sequence");
    }
    seq = static_cast<std::uint64_t>(last) + 1;
    const SecretBytes plain = encode_message(message);
    const SealedRecord rec =
        seal_record(k.seal, kMessages, message_row(conv, seq), plain.view(), rng());
    SOTTO_TRY(sqlite::Statement stmt,
              db_.prepare("INSERT INTO messages (seq, conv_key, nonce, sealed) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          kMessages));
    SOTTO_TRY_VOID(stmt.bind(1, static_cast<std::int64_t>(seq)));
    SOTTO_TRY_VOID(stmt.bind(2, ByteView(conv)));
    SOTTO_TRY_VOID(stmt.bind(3, ByteView(rec.nonce)));
    SOTTO_TRY_VOID(stmt.bind(4, ByteView(rec.ciphertext)));
    return stmt.run();
  });
  if (!done) return fail(done.error());
  return seq;
}

StoreResult<std::vector<StoredMessage>> ProfileStore::history(const IdentityPublicKey& peer,
                                                              std::size_t limit) {
  const TableKeys& k = keys(Table::kMessages);
  const Bytes conv = row_key(k.lookup, peer.view());
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("SELECT seq, nonce, sealed FROM messages WHERE conv_key = ?1 "
                        "ORDER BY seq DESC LIMIT ?2",
                        kMessages));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(conv)));
  const std::int64_t sql_limit =
      limit == 0 || limit > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
          ? -1
          : static_cast<std::int64_t>(limit);
  SOTTO_TRY_VOID(stmt.bind(2, sql_limit));
  std::vector<StoredMessage> out;
  for (;;) {
    SOTTO_TRY(bool found, stmt.step());
    if (!found) break;
    auto seq = stmt.column_int(0);
    auto nonce = stmt.column_blob(1);
    auto sealed = stmt.column_blob(2);
    if (!seq || *seq <= 0 || !nonce || !sealed)
      return tampered(kMessages, "a column of the wrong type");
    const auto useq = static_cast<std::uint64_t>(*seq);
    SOTTO_TRY(SecretBytes plain,
              open_record(k.seal, kMessages, message_row(conv, useq), *nonce, *sealed));
    auto m = decode_message(plain.view());
    if (!m) return tampered(kMessages, "record does not parse");
    m->seq = useq;
    out.push_back(std::move(*m));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

StoreResult<std::uint64_t> ProfileStore::remove_history(const IdentityPublicKey& peer) {
  const Bytes conv = row_key(keys(Table::kMessages).lookup, peer.view());
  SOTTO_TRY(sqlite::Statement stmt,
            db_.prepare("DELETE FROM messages WHERE conv_key = ?1", kMessages));
  SOTTO_TRY_VOID(stmt.bind(1, ByteView(conv)));
  SOTTO_TRY_VOID(stmt.run());
  return static_cast<std::uint64_t>(db_.changes());
}

}  // namespace sotto::client
