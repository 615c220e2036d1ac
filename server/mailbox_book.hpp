// mailbox_book.hpp — MailboxBook: the in-memory half of the relay's mailboxes (the
// SQLite file holds the other half): per mailbox the next sequence to hand out, the
// sequences reserved on disk, the quota counters, and the envelopes accepted for the
// mailbox whose insert is still waiting in the group-commit queue, or held back before
// it (SqliteStore, "Held inserts") ("pending").
//
// Why it exists (docs/performance.md, "What was found"): a Send is admitted — quota
// checked, sequence assigned — at once on the event loop, so its envelope can be pushed
// to a connected recipient while its insert waits for the writer, and, when the
// recipient acknowledges it before the writer has taken the insert, the insert is
// cancelled: nothing touches the disk and the sender is answered ACCEPTED ("committed
// to the store, or acknowledged by the recipient": docs/protocol.md 70.7).
//
// Sequences. A mailbox's sequences are handed out in memory, in admission order. The
// stored counter (mailboxes.next_seq) is kept ahead of them: every `reservation`
// sequences a reservation write raises it by `reservation` (submitted when half of the
// current range is used), and the insert trigger keeps it above every stored envelope.
// An envelope may be pushed before its insert commits ("early") only when its sequence
// is below the counter's last *committed* value (durable_upto): after a crash the relay
// resumes from the stored counter and skips the rest of the range, so a sequence that
// anyone has seen is never handed out again (gaps are allowed, reuse is not).
//
// Quotas. messages/bytes count the stored envelopes plus the pending ones: a Send is
// refused (kQuotaExceeded) before anything of it is pushed or queued.
//
// A pending envelope moves kQueued -> kTaken (the writer ran its insert) -> kCommitted
// or kFailed, or kQueued -> kCancelled (acknowledged first). Exactly one of the writer's
// completion and the cancellation answers the sender: whoever moves the state out of
// kQueued/kTaken first.
//
// Thread safety: one mutex; admissions, cancellations and fetches come from the event
// loop, completions from the writer thread. The book is loaded once from the file when
// the store opens (no write is in flight then) and afterwards changed only by what the
// store commits or admits, so its counters never drift from the file.
// Ownership: owned by SqliteStore; pending envelopes are shared with the writer's
// queued operations, which keep them alive until their completion.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "server/store.hpp"

namespace sotto::relay {

struct PendingEnvelope {
  enum State : int { kQueued, kTaken, kCancelled, kCommitted, kFailed };

  AccountId recipient{};
  Sequence seq = 0;
  ArrivalBucket arrival = 0;
  Bytes ciphertext;
  bool early = false;  // pushable before its insert commits (seq < durable_upto)
  std::atomic<int> state{kQueued};
  // Its insert is held back (pushed to a live connection: SqliteStore::admit) and has
  // neither been taken by the writer nor cancelled yet; whoever clears it first
  // (unhold) takes it off the store's count of held envelopes.
  std::atomic<bool> held{false};
  std::uint64_t held_bytes = 0;  // what it counts in the held bytes (set before `held`)
  Completion<Admitted> done;

  // The writer is about to run the insert: false when it was cancelled (skip it).
  bool take();
  // The writer's completion: false when the cancellation already answered.
  bool finish(bool committed);
  // An acknowledgement before the writer took the insert: true when it is cancelled.
  bool cancel();
  // Leaves the held state: true exactly once for an envelope that was held.
  bool unhold() { return held.exchange(false); }
};

class MailboxBook {
 public:
  explicit MailboxBook(std::uint64_t reservation) : reservation_(reservation) {}

  // A mailbox as stored (opening the store; a registration that committed).
  void load(const AccountId& id, Sequence next_seq, std::uint64_t messages, std::uint64_t bytes);
  // The account was deleted (its pending inserts will fail on their own).
  void forget(const AccountId& id);

  struct Admission {
    std::shared_ptr<PendingEnvelope> envelope;
    std::optional<Sequence> reserve_to;  // submit a reservation raising next_seq to this
  };
  // Quota check, sequence, pending entry. kNotFound, kQuotaExceeded.
  StoreResult<Admission> admit(const AccountId& recipient, Bytes ciphertext, ArrivalBucket arrival,
                               const StoreLimits& limits, Completion<Admitted> done);
  // A reservation committed (or failed: the range will be asked for again).
  void reserved(const AccountId& id, Sequence reserve_to, bool committed);
  // The writer's completion for an insert that it ran (see PendingEnvelope::finish).
  void settled(const PendingEnvelope& e, bool committed);
  // Cancels the early pending envelopes among `seqs`; returns them (answer their senders)
  // and leaves in `seqs` only the sequences that still need a stored deletion.
  std::vector<std::shared_ptr<PendingEnvelope>> cancel(const AccountId& recipient,
                                                       std::vector<Sequence>& seqs);
  // Stored envelopes were deleted (ack, retention).
  void removed(const AccountId& id, std::uint64_t messages, std::uint64_t bytes);
  // Up to `limit` early pending envelopes with seq > after_seq, in order (copies).
  std::vector<QueuedEnvelope> early_pending(const AccountId& recipient, Sequence after_seq,
                                            std::size_t limit);
  // The next sequence this mailbox hands out; nullopt for an unknown mailbox.
  std::optional<Sequence> next_sequence(const AccountId& id);

 private:
  struct Mailbox {
    Sequence next = 1;           // the next sequence to hand out
    Sequence durable_upto = 1;   // committed next_seq: every sequence below is reserved
    Sequence reserved_to = 1;    // the target of the last reservation submitted
    std::uint64_t messages = 0;  // stored + pending
    std::uint64_t bytes = 0;
    std::map<Sequence, std::shared_ptr<PendingEnvelope>> pending;
  };
  const std::uint64_t reservation_;
  std::mutex mu_;
  // Ordered maps: account ids are chosen by clients, so no hash flooding.
  std::map<AccountId, Mailbox> mailboxes_;
};

}  // namespace sotto::relay
