// floor_wire.hpp — the wire of the relay load benchmark's *floor*: the least
// work any relay must do for one message of Sotto's exchange, with nothing of
// Sotto's besides it (docs/performance.md, "The floor").
//
// The floor relay (floor_relay.cpp) and its clients (peer_floor.cpp) exchange
// exactly the frames Sotto's relay and clients do for one message, with the
// same sizes, and no storage, no protobuf, no handshake, no authentication:
//
//   sender   -> relay    SEND      'M' || message (609 B)
//   relay    -> sender   ACCEPTED  'A' || counter u64be
//   relay    -> receiver PUSH      'P' || message
//   receiver -> relay    ACK       'K' || count u32be   (one per read, as Sotto's client)
//
// A frame is a u16be length then the body (Sotto's framing, protocol.md 20).
// In the `aead` mode a body is ChaCha20-Poly1305 (IETF) of the plaintext under
// a per-direction key, nonce = 4 zero bytes || counter u64le, empty associated
// data: exactly what a Noise transport message costs (protocol.md 20). In the
// `tcp` mode the body is the plaintext followed by 16 zero bytes (the same
// sizes, no cryptography). Keys are fixed functions of the pair and role (a
// floor measures cost, not security): BLAKE2b-256 keyed with "floor" of
// direction || role || pair.
//
// A connection opens with a 5-byte hello, role ('S' sender, 'R' receiver) ||
// pair u32be, answered by the relay with one byte 'H' once it is registered.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sotto::bench::floor {

inline constexpr std::size_t kTag = 16;
inline constexpr std::size_t kMaxBody = 65535;

enum class Direction : std::uint8_t { kToRelay = 'u', kToClient = 'd' };

inline std::array<std::uint8_t, 32> key_for(Direction d, std::uint8_t role, std::uint32_t pair) {
  const std::uint8_t in[6] = {
      static_cast<std::uint8_t>(d),          role,
      static_cast<std::uint8_t>(pair >> 24), static_cast<std::uint8_t>(pair >> 16),
      static_cast<std::uint8_t>(pair >> 8),  static_cast<std::uint8_t>(pair)};
  static constexpr std::uint8_t kLabel[5] = {'f', 'l', 'o', 'o', 'r'};
  std::array<std::uint8_t, 32> k{};
  crypto_generichash(k.data(), k.size(), in, sizeof in, kLabel, sizeof kLabel);
  return k;
}

// One direction of a connection: its key and nonce counter.
struct Cipher {
  std::array<std::uint8_t, 32> key{};
  std::uint64_t counter = 0;
  bool aead = true;

  std::array<std::uint8_t, 12> next_nonce() {
    std::array<std::uint8_t, 12> n{};
    for (int i = 0; i < 8; ++i)
      n[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter >> (8 * i));
    ++counter;
    return n;
  }

  // Appends the frame (length, body) carrying `plain` to `out`.
  void seal_frame(const std::uint8_t* plain, std::size_t len, std::vector<std::uint8_t>& out) {
    const std::size_t body = len + kTag;
    const std::size_t at = out.size();
    out.resize(at + 2 + body);
    out[at] = static_cast<std::uint8_t>(body >> 8);
    out[at + 1] = static_cast<std::uint8_t>(body);
    std::uint8_t* c = out.data() + at + 2;
    const auto nonce = next_nonce();
    if (aead) {
      unsigned long long clen = 0;
      crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, plain, len, nullptr, 0, nullptr,
                                                nonce.data(), key.data());
    } else {
      std::memcpy(c, plain, len);
      std::memset(c + len, 0, kTag);
    }
  }

  // Opens one body in place; its plaintext is the first body_len - kTag bytes.
  bool open(std::uint8_t* body, std::size_t body_len) {
    if (body_len < kTag) return false;
    const auto nonce = next_nonce();
    if (!aead) return true;
    unsigned long long plen = 0;
    return crypto_aead_chacha20poly1305_ietf_decrypt(body, &plen, nullptr, body, body_len, nullptr,
                                                     0, nonce.data(), key.data()) == 0;
  }
};

// Calls on_body(body, len) for every complete frame in buf[from, size); returns
// the offset of the first incomplete frame, or SIZE_MAX when on_body failed.
template <typename F>
std::size_t for_each_frame(std::vector<std::uint8_t>& buf, std::size_t from, F&& on_body) {
  while (buf.size() - from >= 2) {
    const std::size_t len = (std::size_t{buf[from]} << 8) | buf[from + 1];
    if (buf.size() - from - 2 < len) break;
    if (!on_body(buf.data() + from + 2, len)) return SIZE_MAX;
    from += 2 + len;
  }
  return from;
}

}  // namespace sotto::bench::floor
