// floor_wire.hpp — the wire of the relay load benchmark's *floor*: the least
// work any relay must do for one message of Sotto's exchange, with nothing of
// Sotto's besides it (docs/performance.md, "The floor").
//
// The floor relay (floor_relay.cpp) and its clients (peer_floor.cpp) exchange
// exactly the frames Sotto's relay and clients do (wire version 2), with the
// same message sizes, and no storage, no protobuf, no handshake, no
// authentication. Plaintexts (all integers big-endian):
//
//   sender   -> relay    SENDs     'B' || n u16be || n x (len u16be || message)
//   relay    -> sender   ACCEPTEDs 'A' || n u16be || n x counter u64be
//   relay    -> receiver PUSH      'P' || n u16be || n x (len u16be || message)
//   receiver -> relay    ACK       'K' || count u32be
//
// and the frames are cut as Sotto's are:
//   - SENDs: every message a sender is handed in one turn of its client loop
//     (between two polls) goes in one frame, as a ClientBatch: 1..kMaxBatch
//     (32) messages and at most kMaxBatchFrame (16384) plaintext bytes per
//     frame; more starts another frame. (A message is 609 B in the benchmark,
//     so 26 of them fill a frame.)
//   - ACCEPTEDs: the relay answers each message with the next counter of the
//     connection (1, 2, ...), staged, and sends those owed to a connection at
//     the end of the relay's turn as one frame, as a Responses frame:
//     1..kMaxBatch counters per frame.
//   - PUSH: every message forwarded to a receiver in one turn of the relay
//     goes in one frame, as Sotto's live Push: 1..65535 messages, at most
//     kMaxPlain plaintext bytes per frame; more starts another frame.
//   - ACK: one per read of the receiver that carried any PUSH, counting the
//     messages it carried (as Sotto's client acknowledges a read's Pushes).
// Sotto sends a lone request or answer as a frame of its own, not as a batch
// of one; the floor always uses the batch layout (2 bytes more, no other cost).
// A batch's n must match its items exactly, or the frame is malformed.
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
inline constexpr std::size_t kMaxPlain = kMaxBody - kTag;  // 65519, Sotto's max_frame
inline constexpr std::size_t kMaxBatch = 32;  // Sotto's kMaxBatch: requests / answers per frame
inline constexpr std::size_t kMaxBatchFrame = 16384;  // Sotto's kMaxBatchFrame: a client's batch

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

// One batch frame's plaintext being staged: type || n u16be || items. Empty
// (no bytes at all) while nothing is staged.
struct Batch {
  std::uint8_t type = 0;
  std::size_t max_count = kMaxBatch;
  std::vector<std::uint8_t> plain;
  std::size_t count = 0;
  std::size_t max_bytes = kMaxPlain;

  // Whether an item of `bytes` more plaintext bytes still fits this frame.
  bool fits(std::size_t bytes) const {
    return count == 0 || (count < max_count && plain.size() + bytes <= max_bytes);
  }
  void start_item() {
    if (count++ == 0) plain.assign({type, 0, 0});
  }
  // len u16be || message
  void add_message(const std::uint8_t* m, std::size_t len) {
    start_item();
    plain.push_back(static_cast<std::uint8_t>(len >> 8));
    plain.push_back(static_cast<std::uint8_t>(len));
    plain.insert(plain.end(), m, m + len);
  }
  // counter u64be
  void add_counter(std::uint64_t k) {
    start_item();
    for (int i = 0; i < 8; ++i) plain.push_back(static_cast<std::uint8_t>(k >> (56 - 8 * i)));
  }
  // Seals what is staged as one frame appended to `out` (nothing when empty).
  void seal_into(Cipher& c, std::vector<std::uint8_t>& out) {
    if (count == 0) return;
    plain[1] = static_cast<std::uint8_t>(count >> 8);
    plain[2] = static_cast<std::uint8_t>(count);
    c.seal_frame(plain.data(), plain.size(), out);
    plain.clear();
    count = 0;
  }
};

// The number of items a batch plaintext of `type` announces, or 0 when it is
// not one (wrong type, shorter than its header, n = 0).
inline std::size_t batch_count(const std::uint8_t* plain, std::size_t len, std::uint8_t type) {
  if (len < 3 || plain[0] != type) return 0;
  return (std::size_t{plain[1]} << 8) | plain[2];
}

// Calls on_message(message, len) for each item of a 'B' or 'P' plaintext;
// false when it is malformed (n = 0, an item past the end, bytes left over).
template <typename F>
bool for_each_message(const std::uint8_t* plain, std::size_t len, std::uint8_t type,
                      F&& on_message) {
  std::size_t n = batch_count(plain, len, type);
  if (n == 0) return false;
  std::size_t at = 3;
  for (; n > 0; --n) {
    if (len - at < 2) return false;
    const std::size_t m = (std::size_t{plain[at]} << 8) | plain[at + 1];
    at += 2;
    if (len - at < m) return false;
    on_message(plain + at, m);
    at += m;
  }
  return at == len;
}

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
