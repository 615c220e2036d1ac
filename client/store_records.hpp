// store_records.hpp — the typed records of the profile store and the fixed byte
// layouts they are sealed as (docs/client-store.md, "Record layouts").
//
// Every layout is a simple concatenation of big-endian integers and
// length-prefixed byte strings, encoded straight into SecretBytes (a record may
// hold message text or key material). Decoding returns nullopt for bytes that
// do not parse — trailing bytes included — and the store turns that into
// kTampered for the table: an authenticated record that does not parse can only
// come from a bug or a forged key, and is never half-used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/identity.hpp"
#include "common/secret.hpp"

namespace sotto::client {

inline constexpr std::size_t kMaxContactNameBytes = 255;
inline constexpr std::size_t kMaxMessageIdBytes = 255;

struct Contact {
  std::string name;              // 1..255 bytes, chosen by the user
  IdentityPublicKey account_id;  // the contact's identity key
  bool verified = false;         // the safety number was compared
};

enum class Verification : std::uint8_t { kUnverified = 0, kVerified = 1 };

// A session with one peer account: the Double Ratchet state (ratchet_state_codec
// bytes), the X3DH header still to be sent with every message until the peer
// replies, and whether the peer's identity key was verified.
struct SessionRecord {
  SecretBytes ratchet_state;
  std::optional<Bytes> pending_header;
  Verification verification = Verification::kUnverified;
};

enum class Direction : std::uint8_t { kIncoming = 1, kOutgoing = 2 };

struct StoredMessage {
  Direction direction = Direction::kIncoming;
  std::uint64_t time = 0;  // seconds since the Unix epoch (sent or received)
  Bytes message_id;        // up to 255 bytes, the client's choice
  SecretBytes text;        // the plaintext
  std::uint64_t seq = 0;   // position in the history, set by the store on read
};

// The keyed layout every keyed table (identity, prekeys, sessions, settings,
// counters, seen envelopes) seals: u16be(len logical key) || logical key || value.
// The logical key is repeated inside the record so that a read can check the
// record belongs to the key it was looked up by. The views point into `plain`.
inline constexpr std::size_t kMaxLogicalKeyBytes = 0xffff;
struct KeyedRecord {
  ByteView logical_key;
  ByteView value;
};
// Aborts if the logical key is longer than kMaxLogicalKeyBytes (the caller checks).
SecretBytes encode_keyed(ByteView logical_key, ByteView value);
std::optional<KeyedRecord> decode_keyed(ByteView plain);

// u8(len name) || name || account_id (32) || u8(verified)
SecretBytes encode_contact(const Contact& c);
std::optional<Contact> decode_contact(ByteView plain);

// u32be(len state) || state || u8(has header) || [u16be(len header) || header] || u8(verification)
SecretBytes encode_session(const SessionRecord& s);
std::optional<SessionRecord> decode_session(ByteView plain);

// u8(direction) || u64be(time) || u8(len id) || id || text (the rest)
SecretBytes encode_message(const StoredMessage& m);
std::optional<StoredMessage> decode_message(ByteView plain);

// Writes a fixed-size layout into SecretBytes; the size is given up front.
class SecretWriter {
 public:
  explicit SecretWriter(std::size_t size) : out_(size) {}
  void u8(std::uint8_t v) { put(&v, 1); }
  void u16(std::uint16_t v);
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void bytes(ByteView v) { put(v.data(), v.size()); }
  // Aborts if the declared size was not filled exactly (a programming error).
  SecretBytes finish();

 private:
  void put(const std::uint8_t* p, std::size_t n);
  SecretBytes out_;
  std::size_t pos_ = 0;
};

// Reads a layout; every getter fails (and stays failed) past the end.
class SecretReader {
 public:
  explicit SecretReader(ByteView v) : v_(v) {}
  std::optional<std::uint8_t> u8();
  std::optional<std::uint16_t> u16();
  std::optional<std::uint32_t> u32();
  std::optional<std::uint64_t> u64();
  std::optional<ByteView> bytes(std::size_t n);
  ByteView rest();
  bool at_end() const { return !failed_ && pos_ == v_.size(); }

 private:
  ByteView v_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace sotto::client
