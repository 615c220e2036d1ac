// account_id.hpp — AccountId: a Sotto account is named by its identity public
// key (Ed25519, 32 bytes), written as a Bech32m string (BIP-350) with the
// human-readable part "sotto":
//
//   sotto1 <52 data characters> <6 checksum characters>     (64 characters)
//
// The 52 data characters are the 32 key bytes regrouped into 5-bit values,
// most significant bit first, the last value padded with 4 zero bits. Ids are
// self-certifying: the text *is* the key, so nobody (the relay included) can
// map a known id to another key.
//
// to_text() always writes lower case. parse() accepts exactly that form, or
// the same string entirely in upper case (BIP-173; convenient for QR codes).
// It accepts nothing else: no mixed case, no surrounding or inner whitespace,
// no dashes or grouping (a caller that displays ids grouped strips its own
// separators). A mistyped id never parses as another valid id: up to 4
// substituted characters (so any adjacent swap) are always caught by the
// checksum, and an insertion or deletion also changes the length or the
// prefix. Errors (DecodeError):
//   kBadChecksum   the checksum does not match (the usual typo)
//   kBadCharacter  a character outside the Bech32 alphabet, or mixed case
//   kBadLength     not 52 data characters (or longer than 90 overall)
//   kWrongPrefix   a valid Bech32m string whose hrp is not "sotto"
//   kMalformed     no "1" separator, or the 32 bytes are not a usable Ed25519
//                  key: crypto::ed25519_public_to_x25519 rejects it (libsodium
//                  refuses points off the curve and points of small order)
//   kBadPadding    the 4 padding bits are not zero (a non-canonical string)
#pragma once

#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto {

class AccountId {
 public:
  static constexpr std::string_view kHrp = "sotto";
  // "sotto" + "1" + 52 data + 6 checksum characters.
  static constexpr std::size_t kTextLength = 64;

  explicit AccountId(const Ed25519PublicKey& key) : key_(key) {}

  const Ed25519PublicKey& key() const { return key_; }

  // The canonical text form: lower case, 64 characters.
  std::string to_text() const;

  static Result<AccountId, DecodeError> parse(std::string_view text);

  bool operator==(const AccountId&) const = default;
  auto operator<=>(const AccountId&) const = default;

 private:
  Ed25519PublicKey key_;
};

}  // namespace sotto
