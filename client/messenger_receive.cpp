// messenger_receive.cpp — receiving (see messenger.hpp, "Receiving" and
// "Undecryptable messages"; docs/protocol.md section 45, "Receiving"):
// dedup, open, decrypt or accept a first message, ONE transaction, then the
// handler, then the acknowledgement. Also the receive loops: one-shot
// receive() and run_follow() with reconnection and backoff.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "client/device_keys.hpp"
#include "client/messenger.hpp"
#include "common/session.hpp"

namespace sotto::client {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

std::string problem_text(ProtocolError e) {
  switch (e) {
    case ProtocolError::kDecryptFailed:
      return "it does not authenticate (tampered, or from a session this device no longer has)";
    default:
      return std::string(to_string(e));
  }
}

// Sleeps `d` unless `stop` is requested first (returns false then).
bool sleep_for(milliseconds d, const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return !cv.wait_for(lock, stop, d, [] { return false; });
}

}  // namespace

MessengerResult<std::optional<ReceivedMessage>> Messenger::record_undecryptable(
    const relay::Delivery& d, const std::optional<IdentityPublicKey>& sender, std::string problem) {
  const std::uint64_t now = clock_.now_unix();
  auto committed = store_->transaction([&]() -> StoreResult<void> {
    if (sender) {
      // A history row marked undecryptable, with the reason as its text.
      StoredMessage row;
      row.direction = Direction::kIncoming;
      row.time = now;
      const ByteView marker = label_bytes(kUndecryptableMessageId);
      row.message_id.assign(marker.begin(), marker.end());
      row.text = SecretBytes::copy_of(label_bytes(problem));
      SOTTO_TRY(auto seq, store_->append_message(*sender, row));
      (void)seq;
    }
    return store_->mark_envelope_seen(d.envelope, now);
  });
  if (!committed) return fail(from_store(committed.error(), "recording an undecryptable message"));
  ReceivedMessage event;
  event.kind = ReceivedMessage::Kind::kUndecryptable;
  event.sender = sender;
  event.time = now;
  event.problem = std::move(problem);
  if (sender) {
    SOTTO_TRY(event.contact, contact_name(*sender));
  }
  return std::optional<ReceivedMessage>{std::move(event)};
}

MessengerResult<std::optional<ReceivedMessage>> Messenger::process(const relay::Delivery& d) {
  constexpr std::string_view doing = "receiving";
  // A redelivered envelope: processed before, acknowledged silently.
  SOTTO_STORE_TRY(bool seen, store_->envelope_seen(d.envelope), doing);
  if (seen) return std::optional<ReceivedMessage>{};

  // Open the envelope: the sender is authenticated by its static layer.
  auto opened = open_message(identity_, d.envelope);
  if (!opened)
    return record_undecryptable(d, std::nullopt,
                                "a message that cannot be opened: " + problem_text(opened.error()));
  const IdentityPublicKey sender = opened->sender;

  // Which stored session a message decrypted with (or created).
  enum class Via { kCurrent, kPrevious, kNewCurrent, kNewPrevious };
  auto restore = [&](const SessionRecord& rec) -> MessengerResult<ratchet::State> {
    auto state = ratchet::State::restore(rec.ratchet_state);
    if (!state)
      return fail(
          from_store(StoreFailure{StoreError::kTampered, "sessions", "bad ratchet state"}, doing));
    return std::move(*state);
  };

  // The existing session first (later messages, and repeated prekey messages).
  SOTTO_STORE_TRY(auto existing, store_->session(sender), doing);
  std::optional<ratchet::Decrypted> decrypted;
  Via via = Via::kCurrent;
  std::optional<PreKeyId> used_one_time_prekey;
  ProtocolError failure = ProtocolError::kDecryptFailed;
  if (existing) {
    SOTTO_TRY(auto state, restore(*existing));
    auto r = ratchet::decrypt(state, opened->ratchet_message, rng_);
    if (r)
      decrypted.emplace(std::move(*r));
    else
      failure = r.error();
  }
  if (!decrypted && failure == ProtocolError::kDuplicateMessage)
    return std::optional<ReceivedMessage>{};  // already processed (its record was trimmed)

  // Then the previous session, if crossing first messages left one: what the
  // peer sent on its own session before it switched to ours (messenger.hpp).
  SOTTO_STORE_TRY(auto previous, store_->previous_session(sender), doing);
  if (!decrypted && previous) {
    SOTTO_TRY(auto state, restore(*previous));
    auto r = ratchet::decrypt(state, opened->ratchet_message, rng_);
    if (r) {
      decrypted.emplace(std::move(*r));
      via = Via::kPrevious;
    } else if (r.error() == ProtocolError::kDuplicateMessage) {
      return std::optional<ReceivedMessage>{};  // a replay on the previous session
    }
  }

  // A first message: X3DH as responder with the prekeys its header names.
  if (!decrypted && opened->header) {
    const X3dhHeader& h = *opened->header;
    SOTTO_STORE_TRY(auto spk, load_signed_prekey(*store_, h.signed_prekey_id), doing);
    const auto now = clock_.now_unix();
    if (spk && spk->replaced_at != 0 &&
        options_.signed_prekey_policy.may_delete_replaced(spk->replaced_at, now))
      spk.reset();  // past its grace period: as good as deleted
    if (!spk)
      return record_undecryptable(
          d, sender,
          "a first message for signed prekey " + std::to_string(h.signed_prekey_id) +
              ", which this device no longer has (sent long ago, or not for this device)");
    std::optional<OneTimePreKeyPair> opk;
    if (h.one_time_prekey_id) {
      SOTTO_STORE_TRY(opk, load_one_time_prekey(*store_, *h.one_time_prekey_id), doing);
      if (!opk)
        return record_undecryptable(d, sender,
                                    "a first message for one-time prekey " +
                                        std::to_string(*h.one_time_prekey_id) +
                                        ", which was already used (a replayed first message?)");
    }
    auto r = accept_prekey_message(identity_, spk->pair, opk ? &*opk : nullptr, h,
                                   opened->ratchet_message, rng_);
    if (!r) return record_undecryptable(d, sender, problem_text(r.error()));
    decrypted.emplace(std::move(*r));
    if (opk) used_one_time_prekey = opk->public_key.id;
    // Crossing first messages: both sides sent a first message before seeing
    // the other's. The session started by the smaller identity key wins: that
    // side shows this message, keeps its own session as the current one and
    // keeps the peer's as the previous session, so the peer's further
    // messages on it (sent before it saw ours) still decrypt; the peer adopts
    // our session when our first message arrives there.
    const bool keep_own_session =
        existing && existing->pending_header && identity_.public_key.bytes < sender.bytes;
    via = keep_own_session ? Via::kNewPrevious : Via::kNewCurrent;
  }
  if (!decrypted) {
    if (!existing && !previous)
      return record_undecryptable(d, sender,
                                  "a message for a session this device does not have (the sender "
                                  "should start a new one)");
    return record_undecryptable(d, sender, problem_text(failure));
  }

  // ONE transaction: ratchet state + history row + seen record + OPK deletion.
  SOTTO_STORE_TRY(auto contact_row, store_->contact_by_id(sender), doing);
  const std::uint64_t now = clock_.now_unix();
  auto committed = store_->transaction([&]() -> StoreResult<void> {
    SessionRecord record;
    record.ratchet_state = decrypted->next.serialize();
    // A message from the peer decrypted: the peer has the session, so the
    // X3DH header is no longer sent (it was ours to send, if any).
    record.pending_header.reset();
    record.verification = (contact_row && contact_row->verified) ? Verification::kVerified
                          : existing                             ? existing->verification
                                                                 : Verification::kUnverified;
    switch (via) {
      case Via::kCurrent:
      case Via::kNewCurrent:
        // The peer sends on the current session (it has switched: the
        // previous one will carry nothing more from it), or started a new
        // one that replaces everything we had with it. Retire the previous.
        SOTTO_TRY_VOID(store_->put_session(sender, record));
        if (previous) {
          SOTTO_TRY(bool removed, store_->remove_previous_session(sender));
          (void)removed;
        }
        break;
      case Via::kPrevious:
      case Via::kNewPrevious:
        // Our current session (and its pending header) stays as it is.
        SOTTO_TRY_VOID(store_->put_previous_session(sender, record));
        break;
    }
    StoredMessage row;
    row.direction = Direction::kIncoming;
    row.time = now;
    row.text = decrypted->plaintext.clone();
    SOTTO_TRY(auto seq, store_->append_message(sender, row));
    (void)seq;
    SOTTO_TRY_VOID(store_->mark_envelope_seen(d.envelope, now));
    if (used_one_time_prekey) {
      SOTTO_TRY(bool removed, store_->remove_one_time_prekey(*used_one_time_prekey));
      (void)removed;
    }
    return {};
  });
  if (!committed) return fail(from_store(committed.error(), doing));

  ReceivedMessage event;
  event.kind = ReceivedMessage::Kind::kMessage;
  event.sender = sender;
  if (contact_row) event.contact = contact_row->name;
  event.time = now;
  event.text = std::move(decrypted->plaintext);
  return std::optional<ReceivedMessage>{std::move(event)};
}

MessengerResult<std::size_t> Messenger::process_batch(std::vector<relay::Delivery> batch,
                                                      const MessageHandler& handler) {
  std::vector<std::uint64_t> done;
  std::size_t handed = 0;
  std::optional<MessengerError> error;
  for (const auto& d : batch) {
    auto r = process(d);
    if (!r) {
      error = r.error();  // not acknowledged: the relay delivers it again
      break;
    }
    if (*r) {
      if (handler) handler(**r);
      ++handed;
    }
    done.push_back(d.sequence);
  }
  // Acknowledge only what is committed.
  if (!done.empty() && relay_) {
    auto acked = relay_->ack(std::move(done));
    if (!acked && !error) {
      drop_if_broken();
      error = from_relay(acked.error(), "acknowledging received messages");
    }
  }
  if (error) return fail(std::move(*error));
  return handed;
}

MessengerResult<std::size_t> Messenger::receive(const MessageHandler& handler,
                                                ReceiveOptions options) {
  std::lock_guard lock(mu_);
  SOTTO_TRY(RelayClient * relay, this->relay());
  const auto first_deadline = SteadyClock::now() + options.wait_first;
  std::size_t total = 0;
  for (;;) {
    // A request's answer comes after the pushes the relay queued before it,
    // so once it is in, everything pending up to then has arrived too.
    auto count = relay->prekey_count();
    if (!count) {
      drop_if_broken();
      return fail(from_relay(count.error(), "receiving"));
    }
    auto batch = relay->take_deliveries();
    if (!batch) {
      drop_if_broken();
      return fail(from_relay(batch.error(), "receiving"));
    }
    if (batch->empty()) {
      const auto now = SteadyClock::now();
      if (total > 0 || now >= first_deadline) break;
      auto d = relay->wait_delivery(std::chrono::duration_cast<milliseconds>(first_deadline - now));
      if (!d) {
        if (d.error().kind == ClientErrorKind::kTimeout && relay->is_open()) break;
        drop_if_broken();
        return fail(from_relay(d.error(), "receiving"));
      }
      batch->push_back(std::move(*d));
    }
    SOTTO_TRY(std::size_t handed, process_batch(std::move(*batch), handler));
    total += handed;
    if (!relay_) return messenger_fail(MessengerErrorKind::kRelay, "the relay connection was lost");
  }
  if (auto trimmed = store_->trim_seen_envelopes(options_.seen_envelopes_kept); !trimmed)
    return fail(from_store(trimmed.error(), "trimming the seen-envelope records"));
  return total;
}

std::chrono::milliseconds Messenger::jittered(milliseconds delay) {
  // Uniform in [delay/2, delay], drawn from the injected Rng.
  std::array<std::uint8_t, 4> r{};
  rng_.fill(r);
  const auto half = delay.count() / 2;
  const auto span = static_cast<std::uint64_t>(delay.count() - half) + 1;
  return milliseconds(half + static_cast<milliseconds::rep>(get_u32be(r.data()) % span));
}

MessengerResult<void> Messenger::run_follow(const MessageHandler& handler, std::stop_token stop,
                                            FollowOptions options) {
  const bool bounded = options.duration.has_value();
  const SteadyClock::time_point end =
      bounded ? SteadyClock::now() + *options.duration : SteadyClock::time_point::max();
  auto remaining = [&]() -> std::optional<milliseconds> {
    if (!bounded) return std::nullopt;
    const auto now = SteadyClock::now();
    return now >= end ? milliseconds(0) : std::chrono::duration_cast<milliseconds>(end - now);
  };
  milliseconds backoff = options_.backoff_initial;
  auto last_keepalive = SteadyClock::now();
  bool lost = false;  // the connection went away (or never came): say when it is back
  while (!stop.stop_requested()) {
    if (auto left = remaining(); left && left->count() == 0) break;
    std::optional<milliseconds> retry_in;
    {
      std::lock_guard lock(mu_);
      if (!relay_ || !relay_->is_open()) {
        auto c = relay();
        if (!c) {
          const auto& e = c.error();
          // What retrying cannot fix ends the loop.
          if (e.kind != MessengerErrorKind::kRelayUnreachable &&
              e.kind != MessengerErrorKind::kRelay && e.kind != MessengerErrorKind::kNotDelivered &&
              !(e.kind == MessengerErrorKind::kRejected && transient(e.status)))
            return fail(e);
          retry_in = jittered(backoff);
          notice(e.message + "; retrying in " + std::to_string(retry_in->count()) + " ms");
          backoff = std::min(backoff * 2, options_.backoff_max);
          lost = true;
        } else {
          if (lost) notice("reconnected to the relay");
          lost = false;
          backoff = options_.backoff_initial;
          last_keepalive = SteadyClock::now();
        }
      }
      if (!retry_in) {
        auto wait = options_.poll_interval;
        if (auto left = remaining()) wait = std::min(wait, *left);
        auto d = relay_->wait_delivery(wait);
        if (d) {
          std::vector<relay::Delivery> batch;
          batch.push_back(std::move(*d));
          if (auto more = relay_->take_deliveries(); more)
            for (auto& m : *more) batch.push_back(std::move(m));
          auto handled = process_batch(std::move(batch), handler);
          if (!handled) {
            if (handled.error().kind == MessengerErrorKind::kStore ||
                handled.error().kind == MessengerErrorKind::kWrongPassphrase)
              return fail(handled.error());
            notice("connection to the relay lost (" + handled.error().message + "); reconnecting");
            relay_.reset();
            lost = true;
          }
        } else if (!(d.error().kind == ClientErrorKind::kTimeout && relay_->is_open())) {
          notice("connection to the relay lost (" + d.error().message + "); reconnecting");
          relay_.reset();
          lost = true;
        } else if (SteadyClock::now() - last_keepalive >= options_.keepalive) {
          // Keepalive, and the prekey upkeep a long-running client needs.
          last_keepalive = SteadyClock::now();
          if (auto m = maintain_prekeys(); !m) {
            if (m.error().kind == MessengerErrorKind::kStore) return fail(m.error());
            notice("connection to the relay lost (" + m.error().message + "); reconnecting");
            relay_.reset();
            lost = true;
          }
        }
      }
    }
    if (retry_in) {
      auto wait = *retry_in;
      if (auto left = remaining()) wait = std::min(wait, *left);
      if (!sleep_for(wait, stop)) break;
    }
  }
  return {};
}

}  // namespace sotto::client
