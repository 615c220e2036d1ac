// noise_handshake.cpp — the handshake patterns (Noise section 7) as token
// tables, and the WriteMessage/ReadMessage token processing of section 5.3.
#include "common/noise_handshake.hpp"

#include <array>
#include <cstdlib>

namespace sotto::noise {

namespace {

enum class Token : std::uint8_t { e, s, ee, es, se, ss };

struct MessagePattern {
  std::size_t count;
  std::array<Token, 4> tokens;
};

struct PatternSpec {
  Pattern pattern;
  std::string_view name;
  bool initiator_pre_s;  // "-> s" pre-message
  bool responder_pre_s;  // "<- s" pre-message
  std::size_t message_count;
  std::array<MessagePattern, 3> messages;  // alternate, initiator first
};

using enum Token;

// The patterns of Noise section 7.4 (interactive, fundamental), as written there.
constexpr std::array<PatternSpec, 6> kPatterns = {{
    // NN:  -> e  <- e, ee
    {Pattern::kNN, "NN", false, false, 2, {{{1, {e}}, {2, {e, ee}}, {}}}},
    // NK:  <- s  ...  -> e, es  <- e, ee
    {Pattern::kNK, "NK", false, true, 2, {{{2, {e, es}}, {2, {e, ee}}, {}}}},
    // KK:  -> s  <- s  ...  -> e, es, ss  <- e, ee, se
    {Pattern::kKK, "KK", true, true, 2, {{{3, {e, es, ss}}, {3, {e, ee, se}}, {}}}},
    // XK:  <- s  ...  -> e, es  <- e, ee  -> s, se
    {Pattern::kXK, "XK", false, true, 3, {{{2, {e, es}}, {2, {e, ee}}, {2, {s, se}}}}},
    // IK:  <- s  ...  -> e, es, s, ss  <- e, ee, se
    {Pattern::kIK, "IK", false, true, 2, {{{4, {e, es, s, ss}}, {3, {e, ee, se}}, {}}}},
    // XX:  -> e  <- e, ee, s, es  -> s, se
    {Pattern::kXX, "XX", false, false, 3, {{{1, {e}}, {4, {e, ee, s, es}}, {2, {s, se}}}}},
}};

const PatternSpec& spec_of(Pattern p) {
  for (const auto& spec : kPatterns) {
    if (spec.pattern == p) return spec;
  }
  std::abort();  // every enumerator has a row
}

constexpr std::string_view kProtocolPrefix = "Noise_";
constexpr std::string_view kProtocolSuffix = "_25519_ChaChaPoly_BLAKE2b";

// Whether `role` sends its static key: as a pre-message or an "s" token.
bool sends_static(const PatternSpec& spec, Role role) {
  const bool initiator = role == Role::kInitiator;
  if (initiator ? spec.initiator_pre_s : spec.responder_pre_s) return true;
  for (std::size_t i = 0; i < spec.message_count; ++i) {
    if ((i % 2 == 0) != initiator) continue;
    const auto& m = spec.messages[i];
    for (std::size_t t = 0; t < m.count; ++t) {
      if (m.tokens[t] == s) return true;
    }
  }
  return false;
}

}  // namespace

std::string_view pattern_name(Pattern p) {
  return spec_of(p).name;
}

std::optional<Pattern> pattern_from_name(std::string_view name) {
  for (const auto& spec : kPatterns) {
    if (spec.name == name) return spec.pattern;
  }
  return std::nullopt;
}

std::string protocol_name(Pattern p) {
  std::string out(kProtocolPrefix);
  out += pattern_name(p);
  out += kProtocolSuffix;
  return out;
}

std::optional<Pattern> pattern_from_protocol_name(std::string_view name) {
  if (!name.starts_with(kProtocolPrefix) || !name.ends_with(kProtocolSuffix)) return std::nullopt;
  name.remove_prefix(kProtocolPrefix.size());
  name.remove_suffix(kProtocolSuffix.size());
  return pattern_from_name(name);
}

NoiseHandshake::NoiseHandshake(Role role, Pattern pattern, Rng& rng, std::uint64_t rekey_interval)
    : config_role_(role),
      pattern_(pattern),
      rng_(&rng),
      rekey_interval_(rekey_interval),
      symmetric_(protocol_name(pattern)) {}

Result<NoiseHandshake, ProtocolError> NoiseHandshake::create(HandshakeConfig config, Rng& rng) {
  const PatternSpec& spec = spec_of(config.pattern);
  const bool peer_pre_s =
      config.role == Role::kInitiator ? spec.responder_pre_s : spec.initiator_pre_s;
  // The keys given must be exactly those the pattern uses.
  if (sends_static(spec, config.role) != config.local_static.has_value()) {
    return fail(ProtocolError::kHandshakeFailed);
  }
  if (peer_pre_s != config.remote_static.has_value()) return fail(ProtocolError::kHandshakeFailed);
  // The local static public key must be the one of its secret.
  if (config.local_static &&
      crypto::x25519_public_from(config.local_static->secret) != config.local_static->public_key) {
    return fail(ProtocolError::kHandshakeFailed);
  }

  NoiseHandshake hs(config.role, config.pattern, rng, config.rekey_interval);
  hs.s_ = std::move(config.local_static);
  hs.rs_ = config.remote_static;
  hs.fixed_ephemeral_ = std::move(config.fixed_ephemeral);

  // MixHash(prologue)
  hs.symmetric_.mix_hash(config.prologue);
  // Pre-messages: MixHash of the initiator's key, then the responder's.
  const bool initiator = config.role == Role::kInitiator;
  if (spec.initiator_pre_s) {
    hs.symmetric_.mix_hash(initiator ? hs.s_->public_key.view() : hs.rs_->view());
  }
  if (spec.responder_pre_s) {
    hs.symmetric_.mix_hash(initiator ? hs.rs_->view() : hs.s_->public_key.view());
  }
  return hs;
}

std::size_t NoiseHandshake::message_count() const {
  return spec_of(pattern_).message_count;
}

bool NoiseHandshake::is_my_turn_to_write() const {
  return !failed_ && is_my_turn_to_write_unchecked();
}

Result<void, ProtocolError> NoiseHandshake::mix_dh(const X25519SecretKey& secret,
                                                   const std::optional<X25519PublicKey>& peer) {
  if (!peer) return fail(ProtocolError::kHandshakeFailed);
  // MixKey(DH(secret, peer)); a low-order peer key gives an all-zero DH: fail.
  auto dh = crypto::x25519(secret, *peer);
  if (!dh) return fail(ProtocolError::kHandshakeFailed);
  symmetric_.mix_key(dh->view());
  return {};
}

Result<Bytes, ProtocolError> NoiseHandshake::write_message(ByteView payload) {
  if (failed_) return fail(ProtocolError::kHandshakeFailed);
  failed_ = true;  // cleared below only on success
  if (!is_my_turn_to_write_unchecked()) return fail(ProtocolError::kOutOfOrder);
  if (payload.size() > kMaxHandshakePayload) return fail(ProtocolError::kMalformed);
  SOTTO_TRY(Bytes message, write_tokens(payload));
  ++next_message_;
  failed_ = false;
  return message;
}

Result<SecretBytes, ProtocolError> NoiseHandshake::read_message(ByteView message) {
  if (failed_) return fail(ProtocolError::kHandshakeFailed);
  failed_ = true;  // cleared below only on success
  if (next_message_ >= message_count() || is_my_turn_to_write_unchecked()) {
    return fail(ProtocolError::kOutOfOrder);
  }
  if (message.size() > kMaxMessageLen) return fail(ProtocolError::kHandshakeFailed);
  SOTTO_TRY(SecretBytes payload, read_tokens(message));
  ++next_message_;
  failed_ = false;
  return payload;
}

bool NoiseHandshake::is_my_turn_to_write_unchecked() const {
  return next_message_ < message_count() &&
         initiator_writes(next_message_) == (config_role_ == Role::kInitiator);
}

Result<Bytes, ProtocolError> NoiseHandshake::write_tokens(ByteView payload) {
  const MessagePattern& m = spec_of(pattern_).messages[next_message_];
  const bool initiator = config_role_ == Role::kInitiator;
  Bytes out;
  for (std::size_t i = 0; i < m.count; ++i) {
    switch (m.tokens[i]) {
      case e: {
        // e = GENERATE_KEYPAIR(); buffer.append(e.public_key); MixHash(e.public_key)
        if (fixed_ephemeral_) {
          e_ = crypto::x25519_from_secret(std::move(*fixed_ephemeral_));
          fixed_ephemeral_.reset();
        } else {
          e_ = crypto::x25519_generate(*rng_);
        }
        append(out, e_->public_key.view());
        symmetric_.mix_hash(e_->public_key.view());
        break;
      }
      case s: {
        // buffer.append(EncryptAndHash(s.public_key))
        SOTTO_TRY(Bytes encrypted, symmetric_.encrypt_and_hash(s_->public_key.view()));
        append(out, encrypted);
        break;
      }
      case ee:  // MixKey(DH(e, re))
        SOTTO_TRY_VOID(mix_dh(e_->secret, re_));
        break;
      case es:  // initiator: MixKey(DH(e, rs)); responder: MixKey(DH(s, re))
        SOTTO_TRY_VOID(initiator ? mix_dh(e_->secret, rs_) : mix_dh(s_->secret, re_));
        break;
      case se:  // initiator: MixKey(DH(s, re)); responder: MixKey(DH(e, rs))
        SOTTO_TRY_VOID(initiator ? mix_dh(s_->secret, re_) : mix_dh(e_->secret, rs_));
        break;
      case ss:  // MixKey(DH(s, rs))
        SOTTO_TRY_VOID(mix_dh(s_->secret, rs_));
        break;
    }
  }
  // buffer.append(EncryptAndHash(payload))
  SOTTO_TRY(Bytes encrypted_payload, symmetric_.encrypt_and_hash(payload));
  append(out, encrypted_payload);
  return out;
}

Result<SecretBytes, ProtocolError> NoiseHandshake::read_tokens(ByteView message) {
  const MessagePattern& m = spec_of(pattern_).messages[next_message_];
  const bool initiator = config_role_ == Role::kInitiator;
  ByteView rest = message;
  for (std::size_t i = 0; i < m.count; ++i) {
    switch (m.tokens[i]) {
      case e: {
        // re = the next DHLEN bytes; MixHash(re.public_key)
        if (rest.size() < kDhLen) return fail(ProtocolError::kHandshakeFailed);
        re_ = X25519PublicKey::from(rest.first(kDhLen));
        symmetric_.mix_hash(rest.first(kDhLen));
        rest = rest.subspan(kDhLen);
        break;
      }
      case s: {
        // rs = DecryptAndHash(the next DHLEN + 16 bytes, or DHLEN without a key)
        const std::size_t len = kDhLen + (symmetric_.has_key() ? kTagLen : 0);
        if (rest.size() < len) return fail(ProtocolError::kHandshakeFailed);
        auto decrypted = symmetric_.decrypt_and_hash(rest.first(len));
        if (!decrypted) return fail(ProtocolError::kHandshakeFailed);
        rs_ = X25519PublicKey::from(decrypted->view());
        rest = rest.subspan(len);
        break;
      }
      case ee:  // MixKey(DH(e, re))
        SOTTO_TRY_VOID(mix_dh(e_->secret, re_));
        break;
      case es:  // initiator: MixKey(DH(e, rs)); responder: MixKey(DH(s, re))
        SOTTO_TRY_VOID(initiator ? mix_dh(e_->secret, rs_) : mix_dh(s_->secret, re_));
        break;
      case se:  // initiator: MixKey(DH(s, re)); responder: MixKey(DH(e, rs))
        SOTTO_TRY_VOID(initiator ? mix_dh(s_->secret, re_) : mix_dh(e_->secret, rs_));
        break;
      case ss:  // MixKey(DH(s, rs))
        SOTTO_TRY_VOID(mix_dh(s_->secret, rs_));
        break;
    }
  }
  // payload = DecryptAndHash(the remaining bytes), at most kMaxHandshakePayload.
  const std::size_t overhead = symmetric_.has_key() ? kTagLen : 0;
  if (rest.size() < overhead || rest.size() - overhead > kMaxHandshakePayload) {
    return fail(ProtocolError::kHandshakeFailed);
  }
  auto payload = symmetric_.decrypt_and_hash(rest);
  if (!payload) return fail(ProtocolError::kHandshakeFailed);
  return std::move(payload).value();
}

Result<NoiseTransport, ProtocolError> NoiseHandshake::split() {
  if (failed_) return fail(ProtocolError::kHandshakeFailed);
  if (!is_complete() || split_done_) return fail(ProtocolError::kOutOfOrder);
  split_done_ = true;
  // Split(): c1 carries initiator -> responder, c2 responder -> initiator.
  auto [c1, c2] = symmetric_.split();
  // The handshake's private keys are no longer needed (section 5.3: delete the HandshakeState).
  e_.reset();
  s_.reset();
  if (config_role_ == Role::kInitiator) {
    return NoiseTransport(SendCipher(std::move(c1), rekey_interval_),
                          ReceiveCipher(std::move(c2), rekey_interval_), handshake_hash());
  }
  return NoiseTransport(SendCipher(std::move(c2), rekey_interval_),
                        ReceiveCipher(std::move(c1), rekey_interval_), handshake_hash());
}

}  // namespace sotto::noise
