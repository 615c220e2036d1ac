// ratchet_header.hpp — the byte layout of a Double Ratchet message
// (docs/protocol.md section 30, "Message layout").
//
//   message = header (41 bytes) || ciphertext (plaintext length + 16-byte tag)
//   header  = version (1 byte, 0x01) || DH ratchet public key (32)
//             || PN (u32 big-endian) || N (u32 big-endian)
//
// parse_message() checks sizes and the version before anything else and
// fails with ProtocolError::kMalformed; it does no crypto. The header bytes
// are kept exactly as received: they go into the AEAD associated data as-is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto::ratchet {

inline constexpr std::uint8_t kHeaderVersion = 0x01;
inline constexpr std::size_t kHeaderBytes = 1 + 32 + 4 + 4;      // 41
inline constexpr std::size_t kTagBytes = crypto::kAeadTagBytes;  // 16
// Largest plaintext one message may carry (1 MiB). The envelope layer pads
// below this; attachments are encrypted separately.
inline constexpr std::size_t kMaxPlaintextBytes = 1u << 20;
inline constexpr std::size_t kMinMessageBytes = kHeaderBytes + kTagBytes;  // 57
inline constexpr std::size_t kMaxMessageBytes = kHeaderBytes + kMaxPlaintextBytes + kTagBytes;
// N of a sending chain runs from 0 to kMaxCounter; one more message is refused.
inline constexpr std::uint32_t kMaxCounter = 0xFFFFFFFEu;

struct Header {
  X25519PublicKey ratchet_key;     // the sender's current DH ratchet public key
  std::uint32_t previous_count{};  // PN: messages in the sender's previous sending chain
  std::uint32_t counter{};         // N: this message's number in its sending chain
};

// The 41 header bytes of `h`.
std::array<std::uint8_t, kHeaderBytes> encode_header(const Header& h);

// A message split into its parsed header, the header bytes exactly as
// received and the ciphertext (with tag). Views point into the input.
struct ParsedMessage {
  Header header;
  ByteView header_bytes;
  ByteView ciphertext;
};

// kMalformed when the message is shorter than kMinMessageBytes, longer than
// kMaxMessageBytes, its version byte is not 0x01, or N > kMaxCounter.
Result<ParsedMessage, ProtocolError> parse_message(ByteView message);

}  // namespace sotto::ratchet
