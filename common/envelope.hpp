// envelope.hpp — the sealed envelope: what a sender hands the relay and the
// relay stores. It is sealed to the recipient's identity key so that only the
// recipient learns who sent it (sealed sender), and its contents are padded to
// a few fixed sizes (padding.hpp) so its length says little.
//
// Byte layout (docs/protocol.md section 40 is normative):
//
//   offset  size       field
//   0       1          version = 0x01
//   1       32         e_pub: a fresh X25519 public key, one per envelope
//   33      48         sealed sender: ChaCha20-Poly1305(key1, nonce1,
//                        AD = bytes[0..33), IK_S)  (32 + 16-byte tag)
//   81      B + 16     sealed body: ChaCha20-Poly1305(key2, nonce2,
//                        AD = bytes[0..81), pad(type || payload))
//   total   97 + B     where B is a padding bucket: 256, 512, ..., 32768
//
// Keys (IK = Ed25519 identity public keys, x() = their X25519 form):
//   chain || key1 || nonce1 = HKDF-SHA-256(salt = "", IKM = DH(e, x(IK_R)),
//       info = "Sotto/v1/Envelope/Ephemeral" || 0x01 || e_pub || IK_R, L = 76)
//   key2 || nonce2          = HKDF-SHA-256(salt = chain, IKM = DH(x(IK_S), x(IK_R)),
//       info = "Sotto/v1/Envelope/Static" || 0x01 || e_pub || IK_R || IK_S, L = 44)
// Only the holder of IK_R's secret can open either layer, and only the holder
// of IK_S's secret can make a body that opens under the static layer, so a
// content that claims sender S but was sealed by anyone else fails to open.
// Neither identity appears in the clear. Two seals of the same payload share
// no bytes beyond the version (fresh e each time).
//
// Payload types: 1 = prekey message (X3DH header + first ratchet message),
// 2 = ratchet message; 0 and 3..255 are reserved and rejected by both
// seal_envelope and open_envelope.
//
// Failures (ProtocolError): kTooLarge (payload above kMaxPayloadBytes, or an
// envelope above kMaxEnvelopeBytes); kMalformed (an unknown type, a length
// that is not 97 + a bucket, a wrong version, a sender key that is not a
// usable Ed25519 key, or padding/type that do not validate after
// authentication); kLowOrderKey (an e_pub of small order); kDecryptFailed
// (either layer fails to authenticate: tampering, a forged sender, or an
// envelope sealed to someone else — these are deliberately indistinguishable).
// open_envelope has no state and keeps nothing on failure; replay and
// duplicate detection belong to the ratchet layer above.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/errors.hpp"
#include "common/padding.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"

namespace sotto {

inline constexpr std::uint8_t kEnvelopeVersion = 0x01;
inline constexpr std::uint8_t kPayloadPreKeyMessage = 1;
inline constexpr std::uint8_t kPayloadRatchetMessage = 2;

inline constexpr std::size_t kEnvelopeHeaderBytes = 1 + 32;  // version || e_pub
inline constexpr std::size_t kEnvelopeSealedSenderBytes = 32 + crypto::kAeadTagBytes;  // 48
inline constexpr std::size_t kEnvelopePrefixBytes =
    kEnvelopeHeaderBytes + kEnvelopeSealedSenderBytes;  // 81
// Everything but the padded content: prefix and the body's tag.
inline constexpr std::size_t kEnvelopeOverheadBytes =
    kEnvelopePrefixBytes + crypto::kAeadTagBytes;  // 97
// The type byte shares the padded content with the payload.
inline constexpr std::size_t kMaxPayloadBytes = kPadMaxContent - 1;                       // 32766
inline constexpr std::size_t kMinEnvelopeBytes = kEnvelopeOverheadBytes + kPadMinBucket;  // 353
inline constexpr std::size_t kMaxEnvelopeBytes = kEnvelopeOverheadBytes + kPadMaxBucket;  // 32865

// The length of the envelope that carries a payload of `payload_len` bytes
// (it depends on nothing else), or nullopt above kMaxPayloadBytes.
std::optional<std::size_t> envelope_size(std::size_t payload_len);
// True when `n` is a length some envelope has (97 + a bucket): the relay can
// refuse anything else before storing it.
bool is_envelope_size(std::size_t n);

struct OpenedEnvelope {
  Ed25519PublicKey sender;  // IK_S, authenticated by the static layer
  std::uint8_t type = 0;    // kPayloadPreKeyMessage or kPayloadRatchetMessage
  // The payload as sealed. It is ratchet ciphertext (plus, for type 1, the
  // public X3DH header), not plaintext, so ordinary Bytes are appropriate.
  Bytes payload;
};

Result<Bytes, ProtocolError> seal_envelope(const Ed25519KeyPair& sender,
                                           const Ed25519PublicKey& recipient, std::uint8_t type,
                                           ByteView payload, Rng& rng);

Result<OpenedEnvelope, ProtocolError> open_envelope(const Ed25519KeyPair& recipient,
                                                    ByteView envelope);

// The steps of seal_envelope, exposed for the vector generator and tests.
namespace envelope_detail {

using ChainKey = Secret<struct EnvelopeChainKeyTag, 32>;
using LayerKey = Secret<struct EnvelopeLayerKeyTag, 32>;
using Nonce = std::array<std::uint8_t, crypto::kChaChaNonceBytes>;

struct EphemeralLayer {
  ChainKey chain;
  LayerKey key;  // key1
  Nonce nonce;   // nonce1
};
struct StaticLayer {
  LayerKey key;  // key2
  Nonce nonce;   // nonce2
};

// chain || key1 || nonce1 from DH(e, x(IK_R)).
Result<EphemeralLayer, ProtocolError> derive_ephemeral_layer(const SharedSecret& dh_e_r,
                                                             const X25519PublicKey& e_pub,
                                                             const Ed25519PublicKey& recipient);
// key2 || nonce2 from DH(x(IK_S), x(IK_R)), chained with the ephemeral layer.
Result<StaticLayer, ProtocolError> derive_static_layer(const ChainKey& chain,
                                                       const SharedSecret& dh_s_r,
                                                       const X25519PublicKey& e_pub,
                                                       const Ed25519PublicKey& recipient,
                                                       const Ed25519PublicKey& sender);
// seal_envelope with the ephemeral key given instead of drawn from an Rng.
Result<Bytes, ProtocolError> seal_with_ephemeral(const Ed25519KeyPair& sender,
                                                 const Ed25519PublicKey& recipient,
                                                 std::uint8_t type, ByteView payload,
                                                 const X25519KeyPair& ephemeral);

}  // namespace envelope_detail
}  // namespace sotto
