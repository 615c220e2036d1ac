// fuzz_account_id.cpp — AccountId::parse (common/account_id.hpp) on arbitrary
// text: ids are typed, pasted and scanned by people.
//
// Properties (abort on violation): a text that parses is exactly the
// canonical form of the key it names, in lower or (all) upper case; the
// canonical form parses back to the same key.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/account_id.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto id = AccountId::parse(text);
  if (!id.ok()) return 0;
  const std::string canonical = id->to_text();
  std::string upper = canonical;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  SOTTO_FUZZ_CHECK(text == canonical || text == upper, "parsed a non-canonical id");
  SOTTO_FUZZ_CHECK(canonical.size() == AccountId::kTextLength, "id length");
  auto back = AccountId::parse(canonical);
  SOTTO_FUZZ_CHECK(back.ok() && *back == *id, "canonical id does not parse back");
  return 0;
}
