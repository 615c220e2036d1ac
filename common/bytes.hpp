// bytes.hpp — byte buffers, views and the small helpers every layer uses.
//
// Bytes holds public data only (ciphertexts, public keys, encodings). Anything
// secret lives in SecretBytes / Secret<N> (secret.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sotto {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;

// Appends `v` to `out`.
inline void append(Bytes& out, ByteView v) { out.insert(out.end(), v.begin(), v.end()); }

// Concatenates any number of views into one buffer.
template <class... Views>
Bytes concat(const Views&... views) {
  Bytes out;
  out.reserve((ByteView(views).size() + ... + 0));
  (append(out, ByteView(views)), ...);
  return out;
}

// The bytes of an ASCII label (no terminating NUL).
inline ByteView label_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Big-endian integer encodings used throughout the wire formats.
inline void put_u16be(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_u32be(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline void put_u64be(Bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
inline std::uint16_t get_u16be(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t get_u32be(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t get_u64be(const std::uint8_t* p) {
  return (std::uint64_t{get_u32be(p)} << 32) | get_u32be(p + 4);
}

// Lower-case hex of public bytes. Never call this on secret material.
std::string to_hex(ByteView v);
// Parses hex (either case); nullopt on odd length or a non-hex digit.
std::optional<Bytes> from_hex(std::string_view hex);

}  // namespace sotto
