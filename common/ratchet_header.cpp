// ratchet_header.cpp — encoding and parsing of the Double Ratchet header.
#include "common/ratchet_header.hpp"

#include <algorithm>

namespace sotto::ratchet {

std::array<std::uint8_t, kHeaderBytes> encode_header(const Header& h) {
  std::array<std::uint8_t, kHeaderBytes> out{};
  out[0] = kHeaderVersion;
  std::copy(h.ratchet_key.bytes.begin(), h.ratchet_key.bytes.end(), out.begin() + 1);
  for (int i = 0; i < 4; ++i) {
    const int shift = 24 - 8 * i;
    out[33 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(h.previous_count >> shift);
    out[37 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(h.counter >> shift);
  }
  return out;
}

Result<ParsedMessage, ProtocolError> parse_message(ByteView message) {
  // Sizes first, then the version, then the fields.
  if (message.size() < kMinMessageBytes || message.size() > kMaxMessageBytes) {
    return fail(ProtocolError::kMalformed);
  }
  if (message[0] != kHeaderVersion) return fail(ProtocolError::kMalformed);
  ParsedMessage m;
  std::copy_n(message.begin() + 1, 32, m.header.ratchet_key.bytes.begin());
  m.header.previous_count = get_u32be(message.data() + 33);
  m.header.counter = get_u32be(message.data() + 37);
  // No sender ever numbers a message above kMaxCounter (and Nr must not wrap).
  if (m.header.counter > kMaxCounter) return fail(ProtocolError::kMalformed);
  m.header_bytes = message.first(kHeaderBytes);
  m.ciphertext = message.subspan(kHeaderBytes);
  return m;
}

}  // namespace sotto::ratchet
