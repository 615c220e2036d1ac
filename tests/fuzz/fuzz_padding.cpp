// fuzz_padding.cpp — unpadded_length (common/padding.hpp) on arbitrary bytes,
// and pad() of them: the padding is checked on every opened envelope.
//
// Properties (abort on violation): what unpads re-pads to the same bytes (the
// format is canonical); pad() of any content up to the maximum unpads to its
// length and has the size padded_size() announces.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/padding.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);
  auto n = unpadded_length(in);
  if (n.ok()) {
    SOTTO_FUZZ_CHECK(is_padded_size(size), "unpadded an input of a non-bucket size");
    auto again = pad(in.first(*n));
    SOTTO_FUZZ_CHECK(again.ok(), "pad of an unpadded content");
    SOTTO_FUZZ_CHECK(again->size() == size && std::equal(in.begin(), in.end(), again->data()),
                     "padding is not canonical");
  }

  auto padded = pad(in);
  if (size > kPadMaxContent) {
    SOTTO_FUZZ_CHECK(!padded.ok() && padded.error() == DecodeError::kTooLarge, "pad too large");
    return 0;
  }
  SOTTO_FUZZ_CHECK(padded.ok(), "pad of a content up to the maximum");
  SOTTO_FUZZ_CHECK(padded_size(size) == padded->size(), "padded_size() disagrees with pad()");
  auto back = unpadded_length(padded->view());
  SOTTO_FUZZ_CHECK(back.ok() && *back == size, "pad/unpad round trip");
  return 0;
}
