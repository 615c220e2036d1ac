// messenger.hpp — the client's messaging logic over its encrypted profile
// store (profile_store.hpp) and its relay connection (relay_client.hpp): what
// `sotto` does, without any terminal I/O (the CLI is client/cli.*).
//
//   auto m = Messenger::init(dir, passphrase, "sotto://host:port/<key>", rng, clock);
//   m->add_contact("bob", "sotto1...");
//   m->send("bob", text);                      // returns once the relay ACCEPTED it
//   m->receive(handler);                       // pending messages, then returns
//   m->run_follow(handler, stop_token);        // until stopped (reconnects with backoff)
//
// Sending (docs/protocol.md section 45): no session yet -> fetch the peer's
// bundle, verify_bundle, initiate_session; the X3DH header is kept in the
// session record and sent with every message until the first reply decrypts.
// The advanced ratchet state, the outgoing history row and the sealed envelope
// (the outbox, outbox.hpp) are committed in ONE transaction before the
// envelope leaves, so a crash never reuses a message key; an envelope whose
// fate is unknown is sent again by the next command that talks to the relay.
//
// Receiving, for each delivery: an envelope already seen (keyed hash of its
// bytes) is acknowledged silently; otherwise open it, decrypt with the
// sender's session or, for a prekey message the session cannot decrypt, run
// X3DH as responder with the signed prekey (current, or replaced and still in
// its grace period) and the one-time prekey named by the header. Then ONE
// transaction: the new ratchet state + the history row + the seen-envelope
// record + the one-time prekey's deletion. Only after the commit is the
// handler called and then the envelope acknowledged. A crash before the
// commit loses nothing (the relay delivers again); after it, the redelivery
// is a duplicate and is acknowledged silently (shown once, never twice).
//
// Undecryptable messages (tampered, unknown prekey, no session, replayed
// first message...): the handler gets a ReceivedMessage of kind
// kUndecryptable with the reason; when the sender is known (the envelope
// opened) a history row marked undecryptable is stored with the reason as its
// text; the envelope is recorded as seen and ACKNOWLEDGED — it can never
// decrypt later (the keys it needs are gone or never existed), and keeping it
// would show the same error on every connection. A store failure is never
// treated as undecryptable: processing stops, nothing more is acknowledged.
//
// Crossing first messages (docs/protocol.md section 45): if both people send
// a first message before seeing the other's, the session started by the
// smaller identity key (bytes compared) wins. The winner keeps its own
// session as the current one (its X3DH header still pending) and keeps the
// session the loser's first message created as the PREVIOUS session for that
// peer (ProfileStore::put_previous_session, at most one per peer). Every
// later message that the current session cannot decrypt is tried on the
// previous one before X3DH, so the loser's further messages, sent before it
// saw the winner's first message (they repeat the header naming a one-time
// prekey already deleted), still decrypt. The loser, on receiving the
// winner's first message, replaces its session with the winner's (it keeps
// no previous session: the winner never sends on the loser's). The previous
// session is retired in the transaction that commits the first message
// decrypted on the current session (the peer has switched; the relay keeps
// each sender's order, so nothing more arrives on the old one) or that
// installs a new session the peer started; a new crossing replaces it.
// Soundness: the one-time prekey is still deleted when the first message is
// accepted (forward secrecy of X3DH is unchanged; the previous session is a
// ratchet with its own), and a replay of any message of the previous session
// is a ratchet duplicate (acknowledged silently), then once it is retired an
// unknown one-time prekey (reported) — the seen-envelope dedup comes first.
//
// Known limits (version 1): one current (plus at most one previous) session
// per peer; the previous one has no time bound of its own. A first message
// without a one-time prekey that a relay replays after its seen-envelope record was
// trimmed (the newest `seen_envelopes_kept` are kept) can restart the session
// from that message; the next first message from the peer repairs it.
//
// Prekeys: after each connection and on each keepalive the relay's one-time
// prekey count is read; below `prekey_low_water` it is topped up to
// `prekey_target` (private halves committed before the upload). The signed
// prekey is rotated per SignedPreKeyPolicy: the new one is stored first,
// uploaded, then made current; the replaced one is kept for
// `keep_replaced_for` and then deleted.
//
// Errors: every call returns MessengerResult (messenger_error.hpp) with a
// kind and a message for people; no exception escapes, no message holds a
// key, a passphrase or message text.
//
// Threads: every public method takes the messenger's (recursive) lock, so
// one thread may sit in run_follow() while another calls send(): run_follow
// holds the lock only while it polls the relay (at most `poll_interval`) or
// processes a batch, so a send waits at most that long. Handlers and notice
// callbacks run on the receiving thread with the lock held; they may call
// back into the Messenger (the lock is recursive) but should not block.
//
// Ownership: the Messenger owns the store and the connection; the Rng and the
// Clock are borrowed and must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "client/messenger_error.hpp"
#include "client/outbox.hpp"
#include "client/profile_store.hpp"
#include "client/relay_client.hpp"
#include "common/account_id.hpp"
#include "common/clock.hpp"
#include "common/prekeys.hpp"
#include "common/relay_address.hpp"
#include "common/rng.hpp"
#include "common/safety_number.hpp"
#include "common/secret.hpp"

namespace sotto::client {

// The longest message text (bytes) that fits one envelope with a prekey header.
std::size_t max_text_bytes();

// The history row's message id that marks an undecryptable message (its text
// is then the reason, not a message).
inline constexpr std::string_view kUndecryptableMessageId = "undecryptable";

struct MessengerOptions {
  std::chrono::milliseconds relay_timeout{10'000};  // per relay request
  SignedPreKeyPolicy signed_prekey_policy{};
  std::uint32_t initial_prekeys = 100;  // one-time prekeys uploaded by init
  std::uint32_t prekey_low_water = 20;  // top up when the relay holds fewer ...
  std::uint32_t prekey_target = 100;    // ... to this many
  // Reconnecting in run_follow: first delay, doubled per failure up to the
  // maximum, each drawn uniformly from [delay/2, delay] with the Rng (jitter).
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  // run_follow: a GetPreKeyCount (and prekey maintenance) this often, so the
  // relay's idle timeout (300 s by default) never closes a quiet connection.
  std::chrono::milliseconds keepalive{60'000};
  // run_follow: how long one wait for a delivery holds the lock.
  std::chrono::milliseconds poll_interval{200};
  std::uint64_t seen_envelopes_kept = 10'000;  // dedup records kept (newest)
  ProfileStoreOptions store{};                 // Argon2id cost, RNG of the store
};

struct ReceivedMessage {
  enum class Kind { kMessage, kUndecryptable };
  Kind kind = Kind::kMessage;
  // The authenticated sender; nullopt only for an envelope that did not open.
  std::optional<IdentityPublicKey> sender;
  std::optional<std::string> contact;  // the sender's contact name, if it is one
  std::uint64_t time = 0;              // unix seconds, when it was received
  SecretBytes text;                    // kMessage: the plaintext
  std::string problem;                 // kUndecryptable: why (no content)
};
using MessageHandler = std::function<void(const ReceivedMessage&)>;
// Non-fatal events for people: "connection lost, reconnecting in 2.1 s",
// "an earlier message to bob was refused by the relay: ...".
using NoticeHandler = std::function<void(std::string_view)>;

struct ReceiveOptions {
  // When nothing is pending, wait up to this long for a first message (then
  // take whatever else is pending and return). Zero: do not wait.
  std::chrono::milliseconds wait_first{0};
};

struct FollowOptions {
  // Stop (successfully) after this long; nullopt: until the stop token.
  std::optional<std::chrono::milliseconds> duration;
};

struct HistoryEntry {
  Direction direction = Direction::kIncoming;
  std::uint64_t time = 0;
  bool undecryptable = false;  // then `text` is the reason
  SecretBytes text;
};

class Messenger {
 public:
  // Creates the profile in `dir`: identity key (Ed25519 seed), transport key
  // (X25519), device id 1, a signed prekey and `initial_prekeys` one-time
  // prekeys, all committed to a new store under `passphrase`; the relay
  // address and its pinned key go in the settings. Then connects (Noise IK,
  // the relay must prove the pinned key) and registers. If registering fails,
  // the new profile files are removed again (nothing half-made is left).
  static MessengerResult<std::unique_ptr<Messenger>> init(const std::filesystem::path& dir,
                                                          const SecretBytes& passphrase,
                                                          std::string_view relay_address, Rng& rng,
                                                          const sotto::Clock& clock,
                                                          MessengerOptions options = {});
  // Opens an existing profile (kNoProfile, kWrongPassphrase, kStore...).
  // Does not connect: commands that need the relay connect on first use.
  static MessengerResult<std::unique_ptr<Messenger>> open(const std::filesystem::path& dir,
                                                          const SecretBytes& passphrase, Rng& rng,
                                                          const sotto::Clock& clock,
                                                          MessengerOptions options = {});

  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  AccountId account_id() const { return AccountId(identity_.public_key); }
  const RelayAddress& relay_address() const { return address_; }
  void set_notice_handler(NoticeHandler handler);

  // ---- contacts ----
  // kInvalidArgument for an empty/too long name or an id that does not parse
  // (the message says why: checksum, length...) or is this profile's own id;
  // kStore (already exists) when the name or the id is taken.
  MessengerResult<void> add_contact(std::string_view name, std::string_view account_id);
  MessengerResult<void> remove_contact(std::string_view name);  // kUnknownContact
  MessengerResult<std::vector<Contact>> contacts();
  MessengerResult<Contact> contact(std::string_view name);  // kUnknownContact
  // The contact name of `id`, if it is one.
  MessengerResult<std::optional<std::string>> contact_name(const IdentityPublicKey& id);

  // ---- sending ----
  // Thread-safe (see above). Returns once the relay answered ACCEPTED.
  // kUnknownContact, kInvalidArgument (empty or over max_text_bytes()),
  // kRejected (the relay refused: the message names the status; the envelope
  // is dropped), kNotDelivered (no answer: the envelope stays in the outbox and
  // is sent by the next command that connects), connection errors.
  MessengerResult<void> send(std::string_view contact_name, const SecretBytes& text);
  MessengerResult<void> send_to(const IdentityPublicKey& recipient, const SecretBytes& text);
  // Sends what is left in the outbox; returns how many the relay accepted.
  MessengerResult<std::size_t> flush_outbox();
  std::size_t outbox_size();

  // ---- receiving ----
  // Connects, processes every pending delivery (calling `handler` for each
  // new message after it is committed), acknowledges them and returns how
  // many were handed to `handler`.
  MessengerResult<std::size_t> receive(const MessageHandler& handler, ReceiveOptions options = {});
  // Receives until `stop` is requested (or options.duration passed): each
  // message is handled as it arrives. When the relay goes away it reconnects
  // with backoff (notices say so); it returns an error only for what retrying
  // cannot fix: a store failure or a relay key mismatch.
  MessengerResult<void> run_follow(const MessageHandler& handler, std::stop_token stop,
                                   FollowOptions options = {});

  // ---- history, verification, passphrase ----
  MessengerResult<std::vector<HistoryEntry>> history(std::string_view contact_name,
                                                     std::size_t limit = 0);
  MessengerResult<SafetyNumber> safety_number(std::string_view contact_name);
  MessengerResult<void> mark_verified(std::string_view contact_name);
  MessengerResult<void> change_passphrase(const SecretBytes& old_passphrase,
                                          const SecretBytes& new_passphrase);

  // ---- prekeys and connection (used by the above; public for tests and chat) ----
  // Tops up one-time prekeys and rotates the signed prekey when due (connects).
  MessengerResult<void> maintain_prekeys();
  // Connects if not connected (then maintains prekeys and flushes the outbox).
  MessengerResult<void> connect();
  void disconnect();
  bool connected() const;
  // The store, for tests (take no lock; do not use while another thread runs).
  ProfileStore& store() { return *store_; }

 private:
  Messenger(std::unique_ptr<ProfileStore> store, IdentityKeyPair identity, X25519KeyPair transport,
            std::uint32_t device_id, RelayAddress address, Rng& rng, const sotto::Clock& clock,
            MessengerOptions options);
  static MessengerResult<std::unique_ptr<Messenger>> load(std::unique_ptr<ProfileStore> store,
                                                          Rng& rng, const sotto::Clock& clock,
                                                          MessengerOptions options);

  void notice(std::string_view text);
  MessengerResult<RelayClient*> relay();  // connects when needed
  // Connection-level failure: drops the connection so the next call reconnects.
  void drop_if_broken();
  MessengerResult<void> register_device(const SignedPreKeyPublic& spk,
                                        const std::vector<OneTimePreKeyPublic>& opks);
  MessengerResult<void> replenish_prekeys(std::uint32_t held);
  MessengerResult<void> rotate_signed_prekey_if_due();

  // Sending (messenger_send.cpp).
  MessengerResult<void> send_envelope(const OutboxEntry& entry, std::string_view who);

  // Receiving (messenger_receive.cpp). Processes one delivery: commits and
  // returns the event to hand over, nullopt for a silent duplicate.
  MessengerResult<std::optional<ReceivedMessage>> process(const relay::Delivery& d);
  MessengerResult<std::optional<ReceivedMessage>> record_undecryptable(
      const relay::Delivery& d, const std::optional<IdentityPublicKey>& sender,
      std::string problem);
  // Processes a batch in order, calling `handler` after each commit, then acks.
  MessengerResult<std::size_t> process_batch(std::vector<relay::Delivery> batch,
                                             const MessageHandler& handler);
  std::chrono::milliseconds jittered(std::chrono::milliseconds delay);

  std::unique_ptr<ProfileStore> store_;
  IdentityKeyPair identity_;
  X25519KeyPair transport_;
  std::uint32_t device_id_;
  RelayAddress address_;
  Rng& rng_;
  const sotto::Clock& clock_;
  MessengerOptions options_;
  std::optional<RelayClient> relay_;
  NoticeHandler notice_;
  mutable std::recursive_mutex mu_;
};

}  // namespace sotto::client
