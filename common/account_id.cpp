// account_id.cpp — the "sotto1..." text form of an identity key.
#include "common/account_id.hpp"

#include <cstdlib>

#include "common/bech32m.hpp"

namespace sotto {
namespace {
constexpr std::size_t kDataChars = 52;  // ceil(256 / 5)
}  // namespace

std::string AccountId::to_text() const {
  auto text = bech32m::encode(kHrp, bech32m::bytes_to_5bit(key_.view()));
  // The hrp is a constant and 32 bytes always fit: encode cannot fail here.
  if (!text) std::abort();
  return *text;
}

Result<AccountId, DecodeError> AccountId::parse(std::string_view text) {
  SOTTO_TRY(bech32m::Decoded decoded, bech32m::decode(text));
  if (decoded.hrp != kHrp) return fail(DecodeError::kWrongPrefix);
  if (decoded.data.size() != kDataChars) return fail(DecodeError::kBadLength);
  auto bytes = bech32m::bytes_from_5bit(decoded.data);
  if (!bytes) return fail(DecodeError::kBadPadding);
  auto key = Ed25519PublicKey::from(*bytes);
  if (!key) return fail(DecodeError::kBadLength);
  // An id must name a key that can be used: the same check X3DH and the
  // envelope apply before converting the identity key to X25519.
  if (!crypto::ed25519_public_to_x25519(*key).ok()) return fail(DecodeError::kMalformed);
  return AccountId(*key);
}

}  // namespace sotto
