// store_records.cpp — byte layouts of the profile store's typed records (see store_records.hpp).
#include "client/store_records.hpp"

#include <cstdlib>
#include <cstring>

namespace sotto::client {

// ---- SecretWriter / SecretReader ----

void SecretWriter::put(const std::uint8_t* p, std::size_t n) {
  if (n == 0) return;
  if (pos_ + n > out_.size()) std::abort();  // the declared size was wrong: a bug
  std::memcpy(out_.data() + pos_, p, n);
  pos_ += n;
}
void SecretWriter::u16(std::uint16_t v) {
  const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  put(b, 2);
}
void SecretWriter::u32(std::uint32_t v) {
  u16(static_cast<std::uint16_t>(v >> 16));
  u16(static_cast<std::uint16_t>(v));
}
void SecretWriter::u64(std::uint64_t v) {
  u32(static_cast<std::uint32_t>(v >> 32));
  u32(static_cast<std::uint32_t>(v));
}
SecretBytes SecretWriter::finish() {
  if (pos_ != out_.size()) std::abort();
  return std::move(out_);
}

std::optional<ByteView> SecretReader::bytes(std::size_t n) {
  if (failed_ || n > v_.size() - pos_) {
    failed_ = true;
    return std::nullopt;
  }
  ByteView out = v_.subspan(pos_, n);
  pos_ += n;
  return out;
}
std::optional<std::uint8_t> SecretReader::u8() {
  auto b = bytes(1);
  if (!b) return std::nullopt;
  return (*b)[0];
}
std::optional<std::uint16_t> SecretReader::u16() {
  auto b = bytes(2);
  if (!b) return std::nullopt;
  return get_u16be(b->data());
}
std::optional<std::uint32_t> SecretReader::u32() {
  auto b = bytes(4);
  if (!b) return std::nullopt;
  return get_u32be(b->data());
}
std::optional<std::uint64_t> SecretReader::u64() {
  auto b = bytes(8);
  if (!b) return std::nullopt;
  return get_u64be(b->data());
}
ByteView SecretReader::rest() {
  if (failed_) return {};
  ByteView out = v_.subspan(pos_);
  pos_ = v_.size();
  return out;
}

// ---- keyed layout ----

SecretBytes encode_keyed(ByteView logical_key, ByteView value) {
  if (logical_key.size() > kMaxLogicalKeyBytes) std::abort();  // checked by the caller
  SecretWriter w(2 + logical_key.size() + value.size());
  // u16be(len logical key) || logical key || value
  w.u16(static_cast<std::uint16_t>(logical_key.size()));
  w.bytes(logical_key);
  w.bytes(value);
  return w.finish();
}

std::optional<KeyedRecord> decode_keyed(ByteView plain) {
  SecretReader r(plain);
  auto len = r.u16();
  if (!len) return std::nullopt;
  auto key = r.bytes(*len);
  if (!key) return std::nullopt;
  return KeyedRecord{*key, r.rest()};
}

// ---- contact ----

SecretBytes encode_contact(const Contact& c) {
  SecretWriter w(1 + c.name.size() + IdentityPublicKey::kSize + 1);
  // u8(len name) || name || account_id || u8(verified)
  w.u8(static_cast<std::uint8_t>(c.name.size()));
  w.bytes(label_bytes(c.name));
  w.bytes(c.account_id.view());
  w.u8(c.verified ? 1 : 0);
  return w.finish();
}

std::optional<Contact> decode_contact(ByteView plain) {
  SecretReader r(plain);
  auto name_len = r.u8();
  if (!name_len || *name_len == 0) return std::nullopt;
  auto name = r.bytes(*name_len);
  auto id = r.bytes(IdentityPublicKey::kSize);
  auto verified = r.u8();
  if (!name || !id || !verified || *verified > 1 || !r.at_end()) return std::nullopt;
  Contact c;
  c.name.assign(reinterpret_cast<const char*>(name->data()), name->size());
  c.account_id = *IdentityPublicKey::from(*id);
  c.verified = *verified == 1;
  return c;
}

// ---- session ----

SecretBytes encode_session(const SessionRecord& s) {
  const std::size_t header_size = s.pending_header ? 2 + s.pending_header->size() : 0;
  SecretWriter w(4 + s.ratchet_state.size() + 1 + header_size + 1);
  // u32be(len state) || state || u8(has header) || [u16be(len) || header] || u8(verification)
  w.u32(static_cast<std::uint32_t>(s.ratchet_state.size()));
  w.bytes(s.ratchet_state.view());
  w.u8(s.pending_header ? 1 : 0);
  if (s.pending_header) {
    w.u16(static_cast<std::uint16_t>(s.pending_header->size()));
    w.bytes(*s.pending_header);
  }
  w.u8(static_cast<std::uint8_t>(s.verification));
  return w.finish();
}

std::optional<SessionRecord> decode_session(ByteView plain) {
  SecretReader r(plain);
  auto state_len = r.u32();
  if (!state_len) return std::nullopt;
  auto state = r.bytes(*state_len);
  auto has_header = r.u8();
  if (!state || !has_header || *has_header > 1) return std::nullopt;
  SessionRecord s;
  if (*has_header == 1) {
    auto len = r.u16();
    if (!len) return std::nullopt;
    auto header = r.bytes(*len);
    if (!header) return std::nullopt;
    s.pending_header = Bytes(header->begin(), header->end());
  }
  auto verification = r.u8();
  if (!verification || *verification > 1 || !r.at_end()) return std::nullopt;
  s.ratchet_state = SecretBytes::copy_of(*state);
  s.verification = static_cast<Verification>(*verification);
  return s;
}

// ---- message ----

SecretBytes encode_message(const StoredMessage& m) {
  SecretWriter w(1 + 8 + 1 + m.message_id.size() + m.text.size());
  // u8(direction) || u64be(time) || u8(len id) || id || text
  w.u8(static_cast<std::uint8_t>(m.direction));
  w.u64(m.time);
  w.u8(static_cast<std::uint8_t>(m.message_id.size()));
  w.bytes(m.message_id);
  w.bytes(m.text.view());
  return w.finish();
}

std::optional<StoredMessage> decode_message(ByteView plain) {
  SecretReader r(plain);
  auto direction = r.u8();
  auto time = r.u64();
  auto id_len = r.u8();
  if (!direction || !time || !id_len) return std::nullopt;
  if (*direction != 1 && *direction != 2) return std::nullopt;
  auto id = r.bytes(*id_len);
  if (!id) return std::nullopt;
  StoredMessage m;
  m.direction = static_cast<Direction>(*direction);
  m.time = *time;
  m.message_id.assign(id->begin(), id->end());
  m.text = SecretBytes::copy_of(r.rest());
  return m;
}

}  // namespace sotto::client
