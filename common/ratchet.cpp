// ratchet.cpp — session initialisation, RatchetEncrypt and RatchetDecrypt of
// the Double Ratchet (docs/protocol.md section 30). Serialisation of
// the State lives in ratchet_state_codec.cpp.
#include "common/ratchet.hpp"

#include <algorithm>
#include <array>

namespace sotto::ratchet {

namespace {

Result<SharedSecret, ProtocolError> dh(const X25519SecretKey& self, const X25519PublicKey& peer) {
  auto out = crypto::x25519(self, peer);
  if (!out.ok()) return fail(to_protocol_error(out.error()));
  return std::move(out).value();
}

// AD of the AEAD: session AD || header bytes exactly as sent.
Bytes aead_ad(ByteView session_ad, ByteView header_bytes) {
  return concat(session_ad, header_bytes);
}

// Opens one message with MK. Fails with kDecryptFailed and nothing else.
Result<SecretBytes, ProtocolError> open(const MessageKey& mk, ByteView session_ad,
                                        const ParsedMessage& m) {
  MessageCipherKeys keys = message_cipher_keys(mk);
  auto pt = crypto::aead_chacha20poly1305_open(keys.key.view(), keys.nonce.view(),
                                               aead_ad(session_ad, m.header_bytes), m.ciphertext);
  if (!pt.ok()) return fail(ProtocolError::kDecryptFailed);
  return std::move(pt).value();
}

}  // namespace

Result<State, ProtocolError> State::init_initiator(Key32 shared_key, ByteView associated_data,
                                                   const X25519PublicKey& responder_ratchet_key,
                                                   Rng& rng) {
  if (associated_data.size() > kMaxAssociatedDataBytes) return fail(ProtocolError::kMalformed);
  State s;
  s.ad_.assign(associated_data.begin(), associated_data.end());
  // DHs = GENERATE_DH(); DHr = Bob's ratchet public key.
  s.dh_self_ = crypto::x25519_generate(rng);
  s.dh_remote_ = responder_ratchet_key;
  // RK, CKs = KDF_RK(SK, DH(DHs, DHr))
  SOTTO_TRY(SharedSecret dh_out, dh(s.dh_self_.secret, responder_ratchet_key));
  auto [rk, cks] = kdf_rk<SendingChainKey>(RootKey::copy_of(shared_key), dh_out);
  s.root_ = std::move(rk);
  s.sending_chain_ = std::move(cks);
  return s;
}

Result<State, ProtocolError> State::init_responder(Key32 shared_key, ByteView associated_data,
                                                   X25519KeyPair responder_ratchet_key) {
  if (associated_data.size() > kMaxAssociatedDataBytes) return fail(ProtocolError::kMalformed);
  if (crypto::x25519_public_from(responder_ratchet_key.secret) !=
      responder_ratchet_key.public_key) {
    return fail(ProtocolError::kMalformed);
  }
  State s;
  s.ad_.assign(associated_data.begin(), associated_data.end());
  // DHs = Bob's ratchet key pair; RK = SK; DHr, CKs, CKr = None.
  s.dh_self_ = std::move(responder_ratchet_key);
  s.root_ = RootKey::copy_of(shared_key);
  return s;
}

State State::clone() const {
  State s;
  s.ad_ = ad_;
  s.dh_self_ = X25519KeyPair{dh_self_.secret.clone(), dh_self_.public_key};
  s.dh_remote_ = dh_remote_;
  s.root_ = root_.clone();
  if (sending_chain_) s.sending_chain_ = sending_chain_->clone();
  if (receiving_chain_) s.receiving_chain_ = receiving_chain_->clone();
  s.ns_ = ns_;
  s.nr_ = nr_;
  s.pn_ = pn_;
  s.skipped_ = skipped_.clone();
  return s;
}

void State::skip_receiving_until(std::uint32_t until) {
  // SkipMessageKeys: store MK for every N in [Nr, until) of the current chain.
  while (nr_ < until) {
    MessageKey mk = kdf_ck(*receiving_chain_);
    skipped_.insert(*dh_remote_, nr_, mk);
    ++nr_;
  }
}

Result<void, ProtocolError> State::dh_ratchet(const X25519PublicKey& peer, Rng& rng) {
  // PN = Ns; Ns = Nr = 0; DHr = header.dh
  pn_ = ns_;
  ns_ = 0;
  nr_ = 0;
  dh_remote_ = peer;
  // RK, CKr = KDF_RK(RK, DH(DHs, DHr))
  SOTTO_TRY(SharedSecret dh_recv, dh(dh_self_.secret, peer));
  auto [rk1, ckr] = kdf_rk<ReceivingChainKey>(root_, dh_recv);
  receiving_chain_ = std::move(ckr);
  // DHs = GENERATE_DH()
  dh_self_ = crypto::x25519_generate(rng);
  // RK, CKs = KDF_RK(RK, DH(DHs, DHr))
  SOTTO_TRY(SharedSecret dh_send, dh(dh_self_.secret, peer));
  auto [rk2, cks] = kdf_rk<SendingChainKey>(rk1, dh_send);
  root_ = std::move(rk2);
  sending_chain_ = std::move(cks);
  return {};
}

Result<Bytes, ProtocolError> encrypt(State& s, ByteView plaintext) {
  if (!s.sending_chain_) return fail(ProtocolError::kOutOfOrder);
  if (s.ns_ > kMaxCounter) return fail(ProtocolError::kNonceExhausted);
  if (plaintext.size() > kMaxPlaintextBytes) return fail(ProtocolError::kMalformed);
  // header = HEADER(DHs, PN, Ns)
  const auto header = encode_header(Header{s.dh_self_.public_key, s.pn_, s.ns_});
  // CKs, mk = KDF_CK(CKs); Ns += 1
  MessageKey mk = kdf_ck(*s.sending_chain_);
  ++s.ns_;
  // header || ENCRYPT(mk, plaintext, AD || header)
  MessageCipherKeys keys = message_cipher_keys(mk);
  Bytes out(kHeaderBytes + plaintext.size() + kTagBytes);
  std::copy(header.begin(), header.end(), out.begin());
  crypto::aead_chacha20poly1305_seal_into(keys.key.view(), keys.nonce.view(),
                                          aead_ad(s.ad_, header), plaintext,
                                          MutableByteView(out).subspan(kHeaderBytes));
  return out;
}

Result<Bytes, ProtocolError> encrypt(State& state, const SecretBytes& plaintext) {
  return encrypt(state, plaintext.view());
}

Result<Decrypted, ProtocolError> decrypt(const State& s, ByteView message, Rng& rng) {
  SOTTO_TRY(ParsedMessage m, parse_message(message));
  const Header& h = m.header;

  // 1. TrySkippedMessageKeys: a stored key for (DH, N). Authenticate first,
  //    copy the state only on success.
  if (auto index = s.skipped_.find(h.ratchet_key, h.counter)) {
    SOTTO_TRY(SecretBytes plaintext, open(MessageKey::copy_of(s.skipped_.key(*index)), s.ad_, m));
    State next = s.clone();
    (void)next.skipped_.take(*index);
    return Decrypted{std::move(plaintext), std::move(next)};
  }

  const bool current_peer_key = s.dh_remote_ && *s.dh_remote_ == h.ratchet_key;
  if (current_peer_key && !s.receiving_chain_) {
    // The responder's initial ratchet key: the responder never sends under it.
    return fail(ProtocolError::kDecryptFailed);
  }

  // 2. The current receiving chain.
  if (current_peer_key) {
    // Below Nr and not stored: used already, or its skipped key was evicted.
    if (h.counter < s.nr_) return fail(ProtocolError::kDuplicateMessage);
    if (h.counter - s.nr_ > kMaxSkip) return fail(ProtocolError::kTooManySkipped);
    State next = s.clone();
    next.skip_receiving_until(h.counter);
    // CKr, mk = KDF_CK(CKr); Nr += 1
    MessageKey mk = kdf_ck(*next.receiving_chain_);
    ++next.nr_;
    SOTTO_TRY(SecretBytes plaintext, open(mk, next.ad_, m));
    return Decrypted{std::move(plaintext), std::move(next)};
  }

  // 3. An earlier chain with keys still stored, but not this one: used or evicted.
  if (s.skipped_.has_chain(h.ratchet_key)) return fail(ProtocolError::kDuplicateMessage);

  // 4. A new ratchet key. Count the keys this message would skip: the rest of
  //    the current receiving chain (up to PN) plus N of the new chain.
  const std::uint64_t rest_of_chain =
      (s.receiving_chain_ && h.previous_count > s.nr_) ? h.previous_count - s.nr_ : 0;
  if (rest_of_chain + h.counter > kMaxSkip) return fail(ProtocolError::kTooManySkipped);
  State next = s.clone();
  // SkipMessageKeys(state, header.pn)
  if (next.receiving_chain_) next.skip_receiving_until(h.previous_count);
  // DHRatchet(state, header)
  SOTTO_TRY_VOID(next.dh_ratchet(h.ratchet_key, rng));
  // SkipMessageKeys(state, header.n)
  next.skip_receiving_until(h.counter);
  // CKr, mk = KDF_CK(CKr); Nr += 1
  MessageKey mk = kdf_ck(*next.receiving_chain_);
  ++next.nr_;
  SOTTO_TRY(SecretBytes plaintext, open(mk, next.ad_, m));
  return Decrypted{std::move(plaintext), std::move(next)};
}

}  // namespace sotto::ratchet
