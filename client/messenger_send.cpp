// messenger_send.cpp — sending a message (see messenger.hpp, "Sending", and
// outbox.hpp): session lookup or X3DH with a fetched and verified bundle,
// seal, commit (ratchet state + history row + outbox entry) BEFORE the
// envelope leaves, then the relay's answer decides what happens to the
// outbox entry.
#include <algorithm>
#include <string>

#include "client/device_keys.hpp"
#include "client/messenger.hpp"
#include "common/session.hpp"
#include "common/x3dh.hpp"

namespace sotto::client {
MessengerResult<void> Messenger::send(std::string_view contact_name, const SecretBytes& text) {
  std::lock_guard lock(mu_);
  SOTTO_TRY(Contact c, contact(contact_name));
  return send_to(c.account_id, text);
}

MessengerResult<void> Messenger::send_to(const IdentityPublicKey& recipient,
                                         const SecretBytes& text) {
  std::lock_guard lock(mu_);
  constexpr std::string_view doing = "sending";
  if (text.empty())
    return messenger_fail(MessengerErrorKind::kInvalidArgument, "the message is empty");
  if (text.size() > max_text_bytes())
    return messenger_fail(MessengerErrorKind::kInvalidArgument,
                          "the message is " + std::to_string(text.size()) + " bytes; at most " +
                              std::to_string(max_text_bytes()) + " fit in one message");
  const std::string who = AccountId(recipient).to_text();
  // Connecting also sends what an earlier run left in the outbox: order is kept.
  SOTTO_TRY(RelayClient * relay, this->relay());

  // The session, or a new one from the recipient's bundle (X3DH as initiator).
  SOTTO_STORE_TRY(auto existing, store_->session(recipient), doing);
  std::optional<ratchet::State> state;
  std::optional<X3dhHeader> header;
  Verification verification = Verification::kUnverified;
  if (existing) {
    auto restored = ratchet::State::restore(existing->ratchet_state);
    if (!restored)
      return fail(
          from_store(StoreFailure{StoreError::kTampered, "sessions", "bad ratchet state"}, doing));
    state.emplace(std::move(*restored));
    verification = existing->verification;
    if (existing->pending_header) {
      auto decoded = decode_x3dh_header(*existing->pending_header);
      if (!decoded)
        return fail(from_store(
            StoreFailure{StoreError::kTampered, "sessions", "bad pending X3DH header"}, doing));
      header = *decoded;
    }
  } else {
    auto fetched = relay->fetch_bundle(recipient);
    if (!fetched) {
      drop_if_broken();
      auto e = from_relay(fetched.error(), "fetching the prekey bundle of " + who);
      if (fetched.error().status == relay::Status::kNotFound)
        e.message = "no account " + who + " on the relay " + address_.host_port() +
                    " (is the id right, and is the contact on the same relay?)";
      return fail(std::move(e));
    }
    if (fetched->bundle.identity != recipient)
      return messenger_fail(MessengerErrorKind::kProtocol,
                            "the relay answered with the bundle of another account");
    auto verified = verify_bundle(fetched->bundle, clock_.now_unix());
    if (!verified)
      return messenger_fail(MessengerErrorKind::kProtocol,
                            "the prekey bundle of " + who + " does not verify (" +
                                std::string(to_string(verified.error())) + ")");
    auto initiated = initiate_session(identity_, *verified, rng_);
    if (!initiated)
      return messenger_fail(MessengerErrorKind::kProtocol,
                            "cannot start a session with " + who + " (" +
                                std::string(to_string(initiated.error())) + ")");
    state.emplace(std::move(initiated->state));
    header = initiated->header;
  }
  SOTTO_STORE_TRY(auto contact_row, store_->contact_by_id(recipient), doing);
  if (contact_row && contact_row->verified) verification = Verification::kVerified;

  // Encrypt (the ratchet advances in `state`) and seal to the recipient.
  auto envelope = seal_message(identity_, recipient, *state, header, text.view(), rng_);
  if (!envelope)
    return messenger_fail(
        MessengerErrorKind::kProtocol,
        "cannot encrypt the message (" + std::string(to_string(envelope.error())) + ")");

  // Commit before sending: new state + history row + outbox entry, together.
  OutboxEntry entry{recipient, std::move(*envelope)};
  auto committed = store_->transaction([&]() -> StoreResult<void> {
    SessionRecord record;
    record.ratchet_state = state->serialize();
    if (header) record.pending_header = encode_x3dh_header(*header);
    record.verification = verification;
    SOTTO_TRY_VOID(store_->put_session(recipient, record));
    StoredMessage message;
    message.direction = Direction::kOutgoing;
    message.time = clock_.now_unix();
    message.text = text.clone();
    SOTTO_TRY(auto seq, store_->append_message(recipient, message));
    (void)seq;
    SOTTO_TRY(auto outbox, load_outbox(*store_));
    outbox.push_back(entry);
    return save_outbox(*store_, outbox);
  });
  if (!committed) return fail(from_store(committed.error(), doing));

  const std::string name = contact_row ? contact_row->name : who;
  return send_envelope(entry, name);
}

// Sends one outbox entry and settles it: ACCEPTED or a permanent refusal
// removes it, anything else keeps it for the next attempt.
MessengerResult<void> Messenger::send_envelope(const OutboxEntry& entry, std::string_view who) {
  auto sent = relay_->send(entry.recipient, entry.envelope);
  if (!sent) {
    drop_if_broken();
    const ClientError& err = sent.error();
    if (err.kind == ClientErrorKind::kRejected && !transient(err.status)) {
      SOTTO_STORE_TRY(auto outbox, load_outbox(*store_), "updating the outbox");
      std::erase(outbox, entry);
      SOTTO_STORE_TRY_VOID(save_outbox(*store_, outbox), "updating the outbox");
      auto e = from_relay(err);
      e.message = "the message to " + std::string(who) + " was not delivered: " + err.message;
      return fail(std::move(e));
    }
    auto e = from_relay(err);
    e.kind = err.kind == ClientErrorKind::kRejected ? MessengerErrorKind::kRejected
                                                    : MessengerErrorKind::kNotDelivered;
    e.message = "the relay did not confirm the message to " + std::string(who) + " (" +
                err.message +
                "); it is kept and will be sent again by the next `sotto send` or `sotto recv` "
                "— do not send it again yourself";
    return fail(std::move(e));
  }
  SOTTO_STORE_TRY(auto outbox, load_outbox(*store_), "updating the outbox");
  if (auto it = std::find(outbox.begin(), outbox.end(), entry); it != outbox.end())
    outbox.erase(it);
  SOTTO_STORE_TRY_VOID(save_outbox(*store_, outbox), "updating the outbox");
  return {};
}

MessengerResult<std::size_t> Messenger::flush_outbox() {
  std::lock_guard lock(mu_);
  SOTTO_STORE_TRY(auto outbox, load_outbox(*store_), "reading the outbox");
  if (outbox.empty()) return std::size_t{0};
  if (!relay_ || !relay_->is_open()) {
    // relay() flushes on connecting.
    SOTTO_TRY(RelayClient * fresh, relay());
    (void)fresh;
    SOTTO_STORE_TRY(auto left, load_outbox(*store_), "reading the outbox");
    return outbox.size() - std::min(outbox.size(), left.size());
  }
  std::size_t accepted = 0;
  for (const auto& entry : outbox) {
    SOTTO_STORE_TRY(auto name, store_->contact_by_id(entry.recipient), "reading the outbox");
    const std::string who = name ? name->name : AccountId(entry.recipient).to_text();
    auto r = send_envelope(entry, who);
    if (r) {
      ++accepted;
      continue;
    }
    // A permanent refusal is reported and the rest goes on; anything else
    // (connection lost, busy) stops here so the order of messages is kept.
    if (r.error().kind == MessengerErrorKind::kRejected && !transient(r.error().status)) {
      notice(r.error().message);
      continue;
    }
    return fail(r.error());
  }
  return accepted;
}

std::size_t Messenger::outbox_size() {
  std::lock_guard lock(mu_);
  auto outbox = load_outbox(*store_);
  return outbox ? outbox->size() : 0;
}

}  // namespace sotto::client
