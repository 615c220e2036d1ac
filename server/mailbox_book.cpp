// mailbox_book.cpp — see mailbox_book.hpp.
#include "server/mailbox_book.hpp"

#include <algorithm>

namespace sotto::relay {

bool PendingEnvelope::take() {
  int s = kQueued;
  if (state.compare_exchange_strong(s, kTaken)) return true;
  return s == kTaken;  // a re-run of the batch (group_commit.hpp): take it again
}

bool PendingEnvelope::finish(bool committed) {
  int s = state.load();
  while (s == kQueued || s == kTaken) {
    if (state.compare_exchange_weak(s, committed ? kCommitted : kFailed)) return true;
  }
  return false;  // cancelled: the acknowledgement answered the sender
}

bool PendingEnvelope::cancel() {
  int s = kQueued;
  return state.compare_exchange_strong(s, kCancelled);
}

void MailboxBook::load(const AccountId& id, Sequence next_seq, std::uint64_t messages,
                       std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  Mailbox& m = mailboxes_[id];
  m.next = m.durable_upto = m.reserved_to = next_seq;
  m.messages = messages;
  m.bytes = bytes;
}

void MailboxBook::forget(const AccountId& id) {
  std::lock_guard lock(mu_);
  mailboxes_.erase(id);
}

StoreResult<MailboxBook::Admission> MailboxBook::admit(const AccountId& recipient, Bytes ciphertext,
                                                       ArrivalBucket arrival,
                                                       const StoreLimits& limits,
                                                       Completion<Admitted> done) {
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(recipient);
  if (it == mailboxes_.end()) return fail(StoreError::kNotFound);
  Mailbox& m = it->second;
  // Quota: stored and pending envelopes, in messages and in bytes.
  if (m.messages + 1 > limits.mailbox_max_messages ||
      m.bytes + ciphertext.size() > limits.mailbox_max_bytes)
    return fail(StoreError::kQuotaExceeded);
  Admission a;
  auto e = std::make_shared<PendingEnvelope>();
  e->recipient = recipient;
  e->seq = m.next++;
  e->arrival = arrival;
  e->early = e->seq < m.durable_upto;
  e->done = std::move(done);
  m.messages += 1;
  m.bytes += ciphertext.size();
  e->ciphertext = std::move(ciphertext);
  // Half of the reserved range used: reserve the next one before it runs out.
  if (e->seq + reservation_ / 2 >= m.reserved_to) {
    m.reserved_to = std::max(m.reserved_to, e->seq + 1) + reservation_;
    a.reserve_to = m.reserved_to;
  }
  m.pending.emplace(e->seq, e);
  a.envelope = std::move(e);
  return a;
}

void MailboxBook::reserved(const AccountId& id, Sequence reserve_to, bool committed) {
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(id);
  if (it == mailboxes_.end()) return;
  Mailbox& m = it->second;
  if (committed) {
    m.durable_upto = std::max(m.durable_upto, reserve_to);
  } else {
    m.reserved_to = m.durable_upto;  // not on disk: the next admission asks again
  }
}

void MailboxBook::settled(const PendingEnvelope& e, bool committed) {
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(e.recipient);
  if (it == mailboxes_.end()) return;
  Mailbox& m = it->second;
  m.pending.erase(e.seq);
  if (committed) {
    // Stored: the trigger raised next_seq above it.
    m.durable_upto = std::max(m.durable_upto, e.seq + 1);
  } else {
    m.messages -= 1;
    m.bytes -= e.ciphertext.size();
  }
}

std::vector<std::shared_ptr<PendingEnvelope>> MailboxBook::cancel(const AccountId& recipient,
                                                                  std::vector<Sequence>& seqs) {
  std::vector<std::shared_ptr<PendingEnvelope>> cancelled;
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(recipient);
  if (it == mailboxes_.end() || it->second.pending.empty()) return cancelled;
  Mailbox& m = it->second;
  std::vector<Sequence> rest;
  rest.reserve(seqs.size());
  for (Sequence seq : seqs) {
    auto p = m.pending.find(seq);
    // Only an envelope that may have been pushed (early), and only while its insert
    // has not been taken by the writer: then nothing of it ever reaches the disk.
    if (p != m.pending.end() && p->second->early && p->second->cancel()) {
      m.messages -= 1;
      m.bytes -= p->second->ciphertext.size();
      cancelled.push_back(std::move(p->second));
      m.pending.erase(p);
    } else {
      rest.push_back(seq);
    }
  }
  seqs = std::move(rest);
  return cancelled;
}

void MailboxBook::removed(const AccountId& id, std::uint64_t messages, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(id);
  if (it == mailboxes_.end()) return;
  Mailbox& m = it->second;
  m.messages -= std::min(m.messages, messages);
  m.bytes -= std::min(m.bytes, bytes);
}

std::vector<QueuedEnvelope> MailboxBook::early_pending(const AccountId& recipient,
                                                       Sequence after_seq, std::size_t limit) {
  std::vector<QueuedEnvelope> out;
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(recipient);
  if (it == mailboxes_.end()) return out;
  const Mailbox& m = it->second;
  for (auto p = m.pending.upper_bound(after_seq); p != m.pending.end() && out.size() < limit; ++p) {
    // Early envelopes are a prefix of the pending ones (durable_upto only grows).
    if (p->first >= m.durable_upto) break;
    out.push_back(QueuedEnvelope{p->first, p->second->arrival, p->second->ciphertext});
  }
  return out;
}

std::optional<Sequence> MailboxBook::next_sequence(const AccountId& id) {
  std::lock_guard lock(mu_);
  auto it = mailboxes_.find(id);
  if (it == mailboxes_.end()) return std::nullopt;
  return it->second.next;
}

}  // namespace sotto::relay
