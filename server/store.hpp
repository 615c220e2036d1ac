// store.hpp — RelayStore: the one interface between the relay and its storage.
//
// What the relay keeps, and nothing else (ARCHITECTURE.md, "The relay"):
//   per account        the identity key (= the account id), the device id, the
//                      transport key and its certificate signature (which covers the
//                      device id, so it can be re-verified from what is stored), the signed prekey
//                      (id + encoding), the one-time prekeys (id + encoding), the day it was
//                      created and the day it was last seen (Unix day numbers);
//   per queued message the recipient, a per-mailbox sequence number, an arrival time
//                      bucket (the hour, unix_seconds / 3600) and the ciphertext.
// No sender, no IP address, no exact time is ever given to the store, so none can be
// stored. Keys arrive here already validated by the request layer; the store treats
// them as opaque bytes of the right length.
//
// Writes are asynchronous: a write is queued and its Completion runs once the
// transaction containing it has committed (for the SQLite backend: after the fsync of
// the group commit that carried it), or with an error if it did not. A send must be
// answered `accepted` only from inside that completion (for admit, that includes the
// recipient's acknowledgement cancelling the queued insert). Completions run on the store's
// writer thread: keep them short (post to your executor) and never block in them on
// another store write, which would wait for the thread that is running you. A write
// refused before it is queued (invalid argument, writer queue full, store closed) is
// completed at once, on the calling thread, before the call returns.
// Every write also has a std::future overload for tools and tests.
//
// Reads are synchronous and see every write whose completion has already run.
//
// Errors are values (StoreError). A full disk, an I/O error or a locked database is
// kBusy: the operation did not happen, nothing accepted earlier is lost, retry later.
//
// Time is never read here: callers pass days, arrival buckets and `now` (from their
// injected sotto::Clock), so tests drive retention with a FakeClock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace sotto::relay {

// Failures of the storage layer. Stable texts via to_string.
enum class StoreError {
  kNotFound,         // no such account (or no such message for an ack)
  kAlreadyExists,    // registering an account id that exists; a duplicate prekey id
  kQuotaExceeded,    // mailbox full (messages or bytes) or too many one-time prekeys
  kBusy,             // full disk, I/O error, database locked, writer queue full: retry later
  kCorrupt,          // the database file is damaged or is not a database
  kInvalidArgument,  // a field outside its limits (empty ciphertext, oversized prekey)
  kClosed,           // the store is shutting down or closed
  kSchemaTooNew,     // the database was written by a newer relay; refuse to touch it
  kInternal,         // an unexpected SQLite answer (a bug): logged by the caller
};
std::string_view to_string(StoreError e);

template <class T>
using StoreResult = Result<T, StoreError>;

// Called exactly once per write, after its transaction committed or failed.
template <class T>
using Completion = std::function<void(StoreResult<T>)>;

// Opening a store can fail with a detail worth printing ("schema version 7 is newer
// than this relay understands (1)"). The detail never contains stored data.
struct StoreOpenError {
  StoreError code;
  std::string detail;
};

// ---- Time as the store sees it --------------------------------------------------

inline constexpr std::uint64_t kSecondsPerDay = 86'400;
inline constexpr std::uint64_t kArrivalBucketSeconds = 3'600;  // arrival kept to the hour
using UnixDay = std::uint64_t;                                 // unix_seconds / 86400
using ArrivalBucket = std::uint64_t;                           // unix_seconds / 3600

inline UnixDay day_of(std::uint64_t unix_seconds) {
  return unix_seconds / kSecondsPerDay;
}
inline ArrivalBucket arrival_bucket_of(std::uint64_t unix_seconds) {
  return unix_seconds / kArrivalBucketSeconds;
}

// ---- Records --------------------------------------------------------------------

inline constexpr std::size_t kIdentityKeyBytes = 32;
inline constexpr std::size_t kTransportKeyBytes = 32;
inline constexpr std::size_t kTransportSignatureBytes = 64;
inline constexpr std::size_t kMaxPrekeyEncodingBytes = 1024;

using AccountId = std::array<std::uint8_t, kIdentityKeyBytes>;  // the identity key itself
using TransportKey = std::array<std::uint8_t, kTransportKeyBytes>;
using TransportSignature = std::array<std::uint8_t, kTransportSignatureBytes>;
using Sequence = std::uint64_t;  // per mailbox, starts at 1, never reused

struct SignedPrekeyRecord {
  std::uint32_t id = 0;
  Bytes encoded;  // 1..kMaxPrekeyEncodingBytes, opaque to the store
  bool operator==(const SignedPrekeyRecord&) const = default;
};

struct OneTimePrekeyRecord {
  std::uint32_t id = 0;
  Bytes encoded;  // 1..kMaxPrekeyEncodingBytes, opaque to the store
  bool operator==(const OneTimePrekeyRecord&) const = default;
};

// The public keys of an account, as registered or replaced.
struct AccountKeys {
  AccountId identity_key{};
  TransportKey transport_key{};
  std::uint32_t device_id = 0;               // the device the transport key belongs to
  TransportSignature transport_signature{};  // IK's signature certifying transport_key
  SignedPrekeyRecord signed_prekey;
  bool operator==(const AccountKeys&) const = default;
};

struct AccountRecord {
  AccountKeys keys;
  UnixDay created_day = 0;
  UnixDay last_seen_day = 0;
  bool operator==(const AccountRecord&) const = default;
};

struct QueuedEnvelope {
  Sequence seq = 0;
  ArrivalBucket arrival_bucket = 0;
  Bytes ciphertext;
};

// One queued message as disclosed: never its content.
struct QueuedMessageInfo {
  Sequence seq = 0;
  std::uint64_t size = 0;
  ArrivalBucket arrival_bucket = 0;
  bool operator==(const QueuedMessageInfo&) const = default;
};

// A Send admitted to a mailbox (RelayStore::admit).
struct Admitted {
  Sequence seq = 0;
  // Its sequence was reserved on disk at admission: the envelope may be pushed to the
  // recipient before its insert commits (and acknowledged before: see admit).
  bool early = false;
};

// What admit answers at once: the sequence, and the envelope's bytes for a push.
struct LiveEnvelope {
  Sequence seq = 0;
  bool early = false;
  std::shared_ptr<const Bytes> ciphertext;
};

struct AckOutcome {
  std::uint64_t deleted = 0;        // messages of this mailbox removed
  std::uint64_t unknown = 0;        // sequences not in this mailbox (already acked, or not its own)
  std::uint64_t before_commit = 0;  // of `deleted`: inserts cancelled while queued (admit)
};

struct PurgeOutcome {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  bool more = false;  // the batch limit was reached: call again
};

struct StoreStats {
  std::uint64_t accounts = 0;
  std::uint64_t queued_messages = 0;
  std::uint64_t queued_bytes = 0;
  std::uint64_t one_time_prekeys = 0;
  // now - start of the oldest arrival bucket (an upper bound, to the hour); none if empty.
  std::optional<std::uint64_t> oldest_message_age_seconds;
};

// Everything the relay holds about one account: what `sotto-relay disclose` prints.
struct Disclosure {
  AccountRecord account;
  std::vector<std::uint32_t> one_time_prekey_ids;  // oldest first; count = size()
  Sequence next_sequence = 1;  // the next sequence of this mailbox (> every one handed out)
  std::uint64_t queued_bytes = 0;
  std::vector<QueuedMessageInfo> queued;  // in sequence order
};

// Group-commit counters, for the metrics endpoint.
struct CommitStats {
  static constexpr std::size_t kHistogramBuckets = 10;  // ops per batch: <=1,2,4,..,256,>256
  std::uint64_t batches = 0;                            // committed transactions
  std::uint64_t ops = 0;             // operations carried by committed transactions
  std::uint64_t failed_batches = 0;  // transactions that did not commit (ops answered busy)
  std::uint64_t max_batch_ops = 0;
  std::uint64_t commit_latency_us_total = 0;  // BEGIN to COMMIT returned, summed
  std::uint64_t commit_latency_us_max = 0;
  std::array<std::uint64_t, kHistogramBuckets> batch_size_histogram{};
  // Held inserts (SqliteStore): envelopes whose insert was held back, and of those the
  // ones that reached the writer (not acknowledged within the hold, or released early).
  std::uint64_t held_inserts = 0;
  std::uint64_t held_inserts_released = 0;
  static std::uint64_t histogram_upper_bound(std::size_t bucket);  // 1,2,4,...,256,UINT64_MAX
};

// Limits every backend enforces.
struct StoreLimits {
  std::uint64_t max_one_time_prekeys = 200;       // per account
  std::uint64_t mailbox_max_messages = 10'000;    // per mailbox
  std::uint64_t mailbox_max_bytes = 64ull << 20;  // per mailbox, ciphertext bytes
  std::uint64_t retention_seconds = 30 * kSecondsPerDay;
  std::uint64_t purge_batch_messages = 10'000;  // per purge_expired call
};

// Where RelayStore::admit hands an early envelope at once: the recipient's live
// connections (the relay's Hub). Called on the admitting thread, before admit returns.
class LiveDelivery {
 public:
  // True when at least one live connection took the envelope (pushed it, or staged it
  // for its next write): the store may then hold its insert back (SqliteStore).
  virtual bool admitted(const AccountId& recipient, Sequence seq, const Bytes& ciphertext) = 0;

 protected:
  ~LiveDelivery() = default;
};

// ---- The interface --------------------------------------------------------------

class RelayStore {
 public:
  virtual ~RelayStore() = default;
  RelayStore() = default;
  RelayStore(const RelayStore&) = delete;
  RelayStore& operator=(const RelayStore&) = delete;

  // Accounts. register: kAlreadyExists if the id exists; creates the empty mailbox;
  // created and last-seen day = today. replace_keys: new transport key, certificate and
  // signed prekey for an existing account (kNotFound otherwise); when
  // clear_one_time_prekeys, the old one-time prekeys are deleted in the same transaction.
  // delete_account: the account, its prekeys, its mailbox and every queued message.
  virtual void register_account(AccountKeys keys, UnixDay today, Completion<void> done) = 0;
  virtual void replace_keys(AccountKeys keys, bool clear_one_time_prekeys,
                            Completion<void> done) = 0;
  virtual void delete_account(AccountId id, Completion<void> done) = 0;
  // Sets last_seen_day to `today` (never moves it backwards).
  virtual void touch_account(AccountId id, UnixDay today, Completion<void> done) = 0;
  virtual StoreResult<AccountRecord> get_account(const AccountId& id) = 0;

  // Prekeys. add: the whole batch or nothing; kQuotaExceeded past max_one_time_prekeys,
  // kAlreadyExists for an id already held; answers the count now held.
  // consume: takes the oldest one-time prekey, deletes it and hands it out once the
  // deletion is durable; nullopt when none is left (use the signed prekey).
  virtual void add_one_time_prekeys(AccountId id, std::vector<OneTimePrekeyRecord> prekeys,
                                    Completion<std::uint64_t> done) = 0;
  virtual void consume_one_time_prekey(AccountId id,
                                       Completion<std::optional<OneTimePrekeyRecord>> done) = 0;
  virtual void rotate_signed_prekey(AccountId id, SignedPrekeyRecord prekey,
                                    Completion<void> done) = 0;
  virtual StoreResult<std::uint64_t> count_one_time_prekeys(const AccountId& id) = 0;

  // Mailbox. enqueue answers the message's sequence once it is durably committed;
  // kNotFound for an unknown recipient, kQuotaExceeded when the mailbox is full.
  // fetch: up to `limit` messages with seq > after_seq, in order (stored ones and early
  // admitted ones still waiting for their insert).
  // ack: deletes the listed sequences of this recipient's own mailbox, nothing else; an
  // early envelope whose insert is still queued is cancelled instead (see admit).
  // purge_expired: deletes messages older than the retention (see the backend's
  // documentation for the bucket rounding), at most purge_batch_messages per call.
  virtual void enqueue(AccountId recipient, Bytes ciphertext, ArrivalBucket arrival,
                       Completion<Sequence> done) = 0;
  // admit: enqueue for the relay's Send. The quota is checked and the sequence assigned
  // at once, on the calling thread: a refusal (kNotFound, kQuotaExceeded,
  // kInvalidArgument) is returned and `done` is never called. Otherwise `done` is called
  // exactly once: with the sequence after the insert committed, or — for an `early`
  // envelope that the recipient acknowledged (ack) while its insert was still queued —
  // when the acknowledgement cancelled the insert (nothing was written; the envelope is
  // with the recipient), or with an error (the envelope was not stored). Envelopes
  // admitted early are returned by fetch before they commit; sequences of a mailbox
  // are assigned in admission order. fetch relies on one thread admitting and fetching
  // (the relay's event loop): an envelope it does not find pending was committed before.
  // With `live`, an early envelope is handed to it before admit returns (in sequence
  // order: admissions are); when it was taken, the backend may hold its insert back for
  // a bounded time so that the recipient's ack cancels it first (SqliteStore: `hold`),
  // which delays only `done` (ACCEPTED) of an envelope that is not acknowledged.
  virtual StoreResult<LiveEnvelope> admit(AccountId recipient, Bytes ciphertext,
                                          ArrivalBucket arrival, Completion<Admitted> done,
                                          LiveDelivery* live) = 0;
  StoreResult<LiveEnvelope> admit(AccountId recipient, Bytes ciphertext, ArrivalBucket arrival,
                                  Completion<Admitted> done) {
    return admit(recipient, std::move(ciphertext), arrival, std::move(done), nullptr);
  }
  // Inserts held back by admit are written now, without waiting for their hold to end,
  // and later ones are not held (the relay is shutting down). The default holds nothing.
  virtual void release_held() {}
  virtual StoreResult<std::vector<QueuedEnvelope>> fetch(const AccountId& recipient,
                                                         Sequence after_seq, std::size_t limit) = 0;
  virtual void ack(AccountId recipient, std::vector<Sequence> seqs,
                   Completion<AckOutcome> done) = 0;
  virtual void purge_expired(std::uint64_t now_unix, Completion<PurgeOutcome> done) = 0;

  virtual StoreResult<StoreStats> stats(std::uint64_t now_unix) = 0;
  virtual StoreResult<Disclosure> disclose(const AccountId& id) = 0;
  virtual CommitStats commit_stats() const = 0;
  virtual const StoreLimits& limits() const = 0;

  // Stops accepting writes (they answer kClosed), commits everything already queued,
  // runs its completions, and releases the database. Idempotent.
  virtual void close() = 0;

  // ---- std::future forms of every write (tools, tests) ----
  std::future<StoreResult<void>> register_account(AccountKeys keys, UnixDay today);
  std::future<StoreResult<void>> replace_keys(AccountKeys keys, bool clear_one_time_prekeys);
  std::future<StoreResult<void>> delete_account(AccountId id);
  std::future<StoreResult<void>> touch_account(AccountId id, UnixDay today);
  std::future<StoreResult<std::uint64_t>> add_one_time_prekeys(
      AccountId id, std::vector<OneTimePrekeyRecord> prekeys);
  std::future<StoreResult<std::optional<OneTimePrekeyRecord>>> consume_one_time_prekey(
      AccountId id);
  std::future<StoreResult<void>> rotate_signed_prekey(AccountId id, SignedPrekeyRecord prekey);
  std::future<StoreResult<Sequence>> enqueue(AccountId recipient, Bytes ciphertext,
                                             ArrivalBucket arrival);
  std::future<StoreResult<AckOutcome>> ack(AccountId recipient, std::vector<Sequence> seqs);
  std::future<StoreResult<PurgeOutcome>> purge_expired(std::uint64_t now_unix);
};

// A Completion that fulfils a promise; the future forms above are built on it.
template <class T>
std::pair<Completion<T>, std::future<StoreResult<T>>> completion_future() {
  auto promise = std::make_shared<std::promise<StoreResult<T>>>();
  auto future = promise->get_future();
  Completion<T> done = [promise](StoreResult<T> r) { promise->set_value(std::move(r)); };
  return {std::move(done), std::move(future)};
}

}  // namespace sotto::relay
