// fuzz_client_record.cpp — the client's stored-record decoding: opening a
// sealed profile-store record (client/store_crypto.cpp open_record) made of
// attacker-chosen bytes, and every decoder of the opened plaintext
// (client/store_records.cpp, client/device_keys.cpp, client/outbox.cpp, and the
// ratchet state and X3DH header a session record carries). Whoever can write
// the profile file controls nonce, ciphertext and row; whoever also holds the
// store key controls the plaintext. Input layout: client_record_fixtures.hpp.
//
// Properties (abort on violation):
//   sealed input   a record that opens under the fixed store key came from the
//                  seal of a well-formed record (libFuzzer cannot forge a tag),
//                  so: it decodes as its table's layout and matches its row
//                  (row = keyed hash of what it holds, as the store checks);
//                  and it fails closed anywhere else — under every other
//                  table's key and AD, under another profile's store key,
//                  with one bit of its row or its ciphertext flipped.
//   plaintext      a decoder accepts bytes only if they are the canonical
//                  encoding of what it returns: encode(decode(b)) == b, and
//                  decoding that again gives the same record; sealing the
//                  record and opening it again gives the same bytes. No
//                  decoder reads outside its input (ASan).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "client/device_keys.hpp"
#include "client/outbox.hpp"
#include "client/store_crypto.hpp"
#include "client/store_records.hpp"
#include "client/store_schema.hpp"
#include "common/ratchet.hpp"
#include "common/x3dh.hpp"
#include "fuzz/client_record_fixtures.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::client;
using namespace sotto::fuzz;

namespace {

struct Keys {
  StoreKey sk = record_store_key();
  StoreKey other = other_store_key();
  TableLookupKey contacts_by_id = derive_lookup_key(sk, kContactsByIdIndex);
};
const Keys& keys() {
  static const Keys k;
  return k;
}

Table table_at(std::size_t i) {
  return static_cast<Table>(i % kTableCount);
}

// ---- the plaintext decoders: canonical encodings only ----

void check_contact(ByteView plain) {
  auto c = decode_contact(plain);
  if (!c) return;
  SOTTO_FUZZ_CHECK(!c->name.empty() && c->name.size() <= kMaxContactNameBytes, "contact name");
  const SecretBytes again = encode_contact(*c);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again.view(), plain), "contact is not canonical");
  auto c2 = decode_contact(again.view());
  SOTTO_FUZZ_CHECK(
      c2 && c2->name == c->name && c2->account_id == c->account_id && c2->verified == c->verified,
      "contact round trip");
}

void check_session(ByteView plain) {
  auto s = decode_session(plain);
  if (!s) return;
  const SecretBytes again = encode_session(*s);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again.view(), plain), "session record is not canonical");
  auto s2 = decode_session(again.view());
  SOTTO_FUZZ_CHECK(s2 && s2->ratchet_state.equals(s->ratchet_state) &&
                       s2->pending_header == s->pending_header &&
                       s2->verification == s->verification,
                   "session record round trip");
  // What the messenger does with the parts: restore the ratchet state, decode
  // the pending X3DH header before resending it (messenger_send.cpp).
  auto state = ratchet::State::restore(s->ratchet_state.view());
  if (!state) {
    SOTTO_FUZZ_CHECK(state.error() == ProtocolError::kStateCorrupt, "restore failed otherwise");
  }
  if (s->pending_header) {
    auto h = decode_x3dh_header(*s->pending_header);
    if (h) {
      SOTTO_FUZZ_CHECK(encode_x3dh_header(*h) == *s->pending_header, "X3DH header round trip");
    }
  }
}

void check_message(ByteView plain) {
  auto m = decode_message(plain);
  if (!m) return;
  SOTTO_FUZZ_CHECK(m->direction == Direction::kIncoming || m->direction == Direction::kOutgoing,
                   "message direction");
  SOTTO_FUZZ_CHECK(m->message_id.size() <= kMaxMessageIdBytes, "message id length");
  const SecretBytes again = encode_message(*m);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again.view(), plain), "message is not canonical");
  auto m2 = decode_message(again.view());
  SOTTO_FUZZ_CHECK(m2 && m2->direction == m->direction && m2->time == m->time &&
                       m2->message_id == m->message_id && m2->text.equals(m->text),
                   "message round trip");
}

void check_signed_prekey(ByteView plain) {
  auto spk = decode_signed_prekey_record(plain);
  if (!spk) return;
  // The store refuses a secret that is not the recorded key's private half.
  SOTTO_FUZZ_CHECK(crypto::x25519_public_from(spk->pair.secret) == spk->pair.public_key.key,
                   "signed prekey secret does not match its public key");
  const SecretBytes again = encode_signed_prekey_record(*spk);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again.view(), plain), "signed prekey record is not canonical");
  auto spk2 = decode_signed_prekey_record(again.view());
  SOTTO_FUZZ_CHECK(spk2 && spk2->pair.public_key == spk->pair.public_key &&
                       spk2->replaced_at == spk->replaced_at,
                   "signed prekey record round trip");
}

void check_outbox(ByteView plain) {
  auto o = decode_outbox(plain);
  if (!o) return;
  const Bytes again = encode_outbox(*o);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again, plain), "outbox is not canonical");
  auto o2 = decode_outbox(again);
  SOTTO_FUZZ_CHECK(o2 && *o2 == *o, "outbox round trip");
}

std::optional<KeyedRecord> check_keyed(ByteView plain) {
  auto k = decode_keyed(plain);
  if (!k) return std::nullopt;
  SOTTO_FUZZ_CHECK(k->logical_key.data() >= plain.data() &&
                       k->value.data() + k->value.size() == plain.data() + plain.size(),
                   "keyed record views outside the plaintext");
  const SecretBytes again = encode_keyed(k->logical_key, k->value);
  SOTTO_FUZZ_CHECK(crypto::ct_equal(again.view(), plain), "keyed record is not canonical");
  return k;
}

void check_plain(PlainKind kind, ByteView plain) {
  switch (kind) {
    case PlainKind::kKeyed:
      (void)check_keyed(plain);
      break;
    case PlainKind::kContact:
      check_contact(plain);
      break;
    case PlainKind::kSession:
      check_session(plain);
      break;
    case PlainKind::kMessage:
      check_message(plain);
      break;
    case PlainKind::kSignedPreKey:
      check_signed_prekey(plain);
      break;
    case PlainKind::kOutbox:
      check_outbox(plain);
      break;
    case PlainKind::kCount:
      break;
  }
  // seal -> open gives the same bytes back (the AEAD layer adds nothing).
  SeededRng rng(kInputSeed);
  const TableSealKey seal = derive_seal_key(keys().sk, "settings");
  const Bytes row(32, 0x52);
  const SealedRecord rec = seal_record(seal, "settings", row, plain, rng);
  auto opened = open_record(seal, "settings", row, rec.nonce, rec.ciphertext);
  SOTTO_FUZZ_CHECK(opened && crypto::ct_equal(opened->view(), plain), "seal/open round trip");
}

// ---- an authentic record: decodes as its table's layout and matches its row ----

bool is_u64(ByteView v) {
  return v.size() == 8;
}

void check_authentic(Table t, ByteView row, ByteView plain) {
  const std::string_view name = table_name(t);
  const TableLookupKey lookup = derive_lookup_key(keys().sk, name);
  if (t == Table::kContacts) {
    auto c = decode_contact(plain);
    SOTTO_FUZZ_CHECK(c.has_value(), "an authentic contact does not parse");
    const Bytes expected = concat(row_key(lookup, label_bytes(c->name)),
                                  row_key(keys().contacts_by_id, c->account_id.view()));
    SOTTO_FUZZ_CHECK(crypto::ct_equal(expected, row), "an authentic contact is not its row's");
    check_contact(plain);
    return;
  }
  if (t == Table::kMessages) {
    SOTTO_FUZZ_CHECK(decode_message(plain).has_value(), "an authentic message does not parse");
    SOTTO_FUZZ_CHECK(row.size() == kRowKeyBytes + 8, "a message row is conv_key || u64be(seq)");
    check_message(plain);
    return;
  }
  // Keyed tables: the row is the keyed hash of the logical key inside.
  auto k = check_keyed(plain);
  SOTTO_FUZZ_CHECK(k.has_value(), "an authentic keyed record does not parse");
  SOTTO_FUZZ_CHECK(crypto::ct_equal(row_key(lookup, k->logical_key), row),
                   "an authentic keyed record is not its row's");
  const std::string_view key(reinterpret_cast<const char*>(k->logical_key.data()),
                             k->logical_key.size());
  bool ok = true;
  switch (t) {
    case Table::kIdentity:
      ok = k->logical_key.empty() && k->value.size() == 32;
      if (ok) (void)identity_from_seed(Ed25519Seed::copy_of(k->value));
      break;
    case Table::kTransportKey:
    case Table::kOneTimePrekeys:
      ok = k->value.size() == 32;
      if (ok) (void)crypto::x25519_from_secret(X25519SecretKey::copy_of(k->value));
      break;
    case Table::kSignedPrekeys: {
      auto spk = decode_signed_prekey_record(k->value);
      ok = spk && k->logical_key.size() == 4 &&
           spk->pair.public_key.id == get_u32be(k->logical_key.data());
      check_signed_prekey(k->value);
      break;
    }
    case Table::kSessions:
      ok = decode_session(k->value).has_value() &&
           (k->logical_key.size() == 32 || k->logical_key.size() == 41);
      check_session(k->value);
      break;
    case Table::kSettings:
      if (key == kOutboxSetting) {
        ok = decode_outbox(k->value).has_value();
        check_outbox(k->value);
      } else if (key == kCurrentSignedPreKeySetting || key == setting::kSignedPrekeyRotatedAt) {
        ok = is_u64(k->value);
      }
      break;
    case Table::kSeenEnvelopes:
    case Table::kCounters:
      ok = is_u64(k->value);
      break;
    case Table::kContacts:
    case Table::kMessages:
      break;
  }
  SOTTO_FUZZ_CHECK(ok, "an authentic record does not decode as its table's layout");
}

// ---- a sealed record: opens only where it was sealed ----

void check_sealed(std::size_t table, ByteView rest) {
  if (rest.empty()) return;
  const std::size_t row_len = rest[0];
  if (rest.size() < 1 + row_len + kNonceBytes) return;
  const ByteView row = rest.subspan(1, row_len);
  const ByteView nonce = rest.subspan(1 + row_len, kNonceBytes);
  const ByteView sealed = rest.subspan(1 + row_len + kNonceBytes);
  const Table t = table_at(table);
  const std::string_view name = table_name(t);

  auto opened = open_record(derive_seal_key(keys().sk, name), name, row, nonce, sealed);
  if (!opened) {
    SOTTO_FUZZ_CHECK(opened.error().code == StoreError::kTampered, "open failed otherwise");
    return;
  }
  check_authentic(t, row, opened->view());

  // Fail closed: every other table (its seal key and its name in the AD)...
  for (std::size_t i = 0; i < kTableCount; ++i) {
    if (i == static_cast<std::size_t>(t)) continue;
    const std::string_view other = table_name(table_at(i));
    SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, other), other, row, nonce, sealed),
                     "a record opens under another table");
    // ...and this table's name in the AD under another table's key.
    SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, other), name, row, nonce, sealed),
                     "a record opens under another table's key");
  }
  // ...another profile's store key...
  SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().other, name), name, row, nonce, sealed),
                   "a record opens under another store key");
  // ...one bit of the row flipped (the record moved to another row), or cut...
  const std::size_t bit = sealed.size() * 8 > 0 ? (sealed[0] + row_len) : 0;
  if (!row.empty()) {
    Bytes moved(row.begin(), row.end());
    moved[(bit / 8) % moved.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, name), name, moved, nonce, sealed),
                     "a record opens under another row");
    SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, name), name, row.first(row.size() - 1),
                                  nonce, sealed),
                     "a record opens under a shorter row");
  }
  // ...one bit of the nonce or the ciphertext flipped.
  Bytes nonce2(nonce.begin(), nonce.end());
  nonce2[bit % nonce2.size()] ^= 0x01;
  SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, name), name, row, nonce2, sealed),
                   "a record opens under another nonce");
  Bytes flipped(sealed.begin(), sealed.end());
  flipped[(bit / 8) % flipped.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  SOTTO_FUZZ_CHECK(!open_record(derive_seal_key(keys().sk, name), name, row, nonce, flipped),
                   "a flipped ciphertext opens");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView in(data, size);
  const std::uint8_t selector = in[0];
  if (selector & kSealedInput) {
    check_sealed(selector & 0x7f, in.subspan(1));
  } else {
    check_plain(static_cast<PlainKind>(selector % static_cast<std::uint8_t>(PlainKind::kCount)),
                in.subspan(1));
  }
  return 0;
}
