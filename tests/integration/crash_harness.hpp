// crash_harness.hpp — the bookkeeping of the crash-durability tests
// (test_relay_crash.cpp, test_client_crash.cpp): what each sender handed the
// relay, what the relay acknowledged, and a receiver's checks on what it is
// delivered. Shared by the test's threads behind one mutex.
//
// Every message is a real sealed envelope (common/envelope.hpp, type 2) whose
// payload is   sender index u32be || counter u64be || 16 random bytes || filler
// so a receiver can tell, from bytes it authenticated, who sent it and which
// message it is. The checks (each failure is recorded as a violation text; the
// test's main thread REQUIREs there are none — Catch2 is not thread-safe):
//  - the envelope opens for this receiver and its authenticated sender is the
//    one named in the payload;
//  - it is byte for byte an envelope some sender really handed to send(), for
//    this recipient ("nothing is delivered that was never sent");
//  - the first copy of each (sender, counter) comes in that sender's order:
//    counters from one sender strictly increase;
//  - a sequence whose ack the relay confirmed (OK) is never delivered again;
//  - a sequence never names two different envelopes (sequences are never handed
//    out twice, across kills too: docs/protocol.md 70.7);
//  - later copies are duplicates (a retried send, or a redelivery of mail
//    whose ack did not commit) and are dropped: client-side de-duplication.
// At the end, every (sender, counter) the relay ACCEPTED must have been stored
// by its recipient (missing_accepted()).
//
// Seeds: SOTTO_CRASH_SEED fixes the seed (printed by every run); the number of
// kill cycles is SOTTO_CRASH_CYCLES (default given by the test).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/envelope.hpp"
#include "common/identity.hpp"
#include "common/rng.hpp"

namespace sotto::test {

using MessageKey = std::pair<std::uint32_t, std::uint64_t>;  // (sender index, counter)

inline std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// SOTTO_CRASH_SEED, or a fresh one (printed by the test for reproduction).
inline std::uint64_t crash_seed() {
  if (const char* v = std::getenv("SOTTO_CRASH_SEED"); v != nullptr && *v != '\0')
    return std::strtoull(v, nullptr, 10);
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

// The payload of message `counter` of sender `sender`, with `filler` extra bytes
// (to vary the envelope's padding bucket).
inline Bytes crash_payload(std::uint32_t sender, std::uint64_t counter, std::size_t filler,
                           Rng& rng) {
  Bytes p;
  put_u32be(p, sender);
  put_u64be(p, counter);
  Bytes nonce(16 + filler);
  rng.fill(nonce);
  p.insert(p.end(), nonce.begin(), nonce.end());
  return p;
}

inline std::optional<MessageKey> parse_crash_payload(const Bytes& p) {
  if (p.size() < 4 + 8 + 16) return std::nullopt;
  std::uint32_t s = 0;
  std::uint64_t c = 0;
  for (int i = 0; i < 4; ++i) s = (s << 8) | p[static_cast<std::size_t>(i)];
  for (int i = 4; i < 12; ++i) c = (c << 8) | p[static_cast<std::size_t>(i)];
  return MessageKey{s, c};
}

class Ledger {
 public:
  // `senders`: identity public keys by sender index.
  explicit Ledger(std::vector<IdentityPublicKey> senders) : senders_(std::move(senders)) {}

  // ---- senders ----
  // Called BEFORE the envelope goes to send(): from now on it may be delivered.
  void handed_over(MessageKey k, std::uint32_t recipient, const Bytes& envelope) {
    std::lock_guard lock(mu_);
    sent_.emplace(k, Sent{recipient, envelope});
  }
  void accepted(MessageKey k) {
    std::lock_guard lock(mu_);
    accepted_.insert(k);
    ++accepted_count;
  }

  // ---- receivers ----
  struct Inbox {
    std::set<MessageKey> stored;                  // de-duplicated, "stored" messages
    std::map<std::uint32_t, std::uint64_t> last;  // last counter stored, per sender
    std::set<std::uint64_t> acked;                // sequences whose ack the relay confirmed
    std::map<std::uint64_t, Bytes> by_sequence;   // every envelope delivered, by sequence
    std::uint64_t copies = 0;                     // deliveries, duplicates included
    std::uint64_t duplicates = 0;
  };

  // Checks one delivery to receiver `r` (identity `me`) and stores it unless it
  // is a duplicate. Returns false when it broke a rule (recorded).
  bool receive(std::uint32_t r, const IdentityKeyPair& me, std::uint64_t sequence,
               const Bytes& envelope) {
    auto opened = open_envelope(me, envelope);  // outside the lock: crypto
    std::lock_guard lock(mu_);
    auto& in = inboxes_[r];
    ++in.copies;
    ++deliveries_count;
    const std::string where =
        "receiver " + std::to_string(r) + ", sequence " + std::to_string(sequence) + ": ";
    if (in.acked.count(sequence))
      return violation(where + "delivered again after the relay confirmed its ack");
    auto [named, fresh] = in.by_sequence.emplace(sequence, envelope);
    if (!fresh && named->second != envelope)
      return violation(where + "names two different envelopes (a sequence handed out twice)");
    if (!opened) return violation(where + "an envelope that does not open (never sent)");
    auto key = parse_crash_payload(opened->payload);
    if (!key || key->first >= senders_.size() || senders_[key->first] != opened->sender)
      return violation(where + "a payload whose sender is not the authenticated one");
    auto sent = sent_.find(*key);
    if (sent == sent_.end() || sent->second.envelope != envelope || sent->second.recipient != r)
      return violation(where + "message " + name(*key) + " was never sent to this receiver");
    if (in.stored.count(*key)) {
      ++in.duplicates;
      return true;  // de-duplicated: a retried send or a redelivery
    }
    auto last = in.last.find(key->first);
    if (last != in.last.end() && last->second >= key->second)
      return violation(where + "message " + name(*key) + " after message " +
                       name({key->first, last->second}) + " (out of order)");
    in.last[key->first] = key->second;
    in.stored.insert(*key);
    return true;
  }
  void acked(std::uint32_t r, const std::vector<std::uint64_t>& sequences) {
    std::lock_guard lock(mu_);
    for (auto s : sequences) inboxes_[r].acked.insert(s);
    ++acks_count;
  }

  // ---- results ----
  std::vector<std::string> violations() const {
    std::lock_guard lock(mu_);
    return violations_;
  }
  // ACCEPTED messages their recipient has not stored (the first few, named).
  std::vector<std::string> missing_accepted(std::size_t max = 20) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& k : accepted_) {
      const auto r = sent_.at(k).recipient;
      auto in = inboxes_.find(r);
      if (in == inboxes_.end() || !in->second.stored.count(k)) {
        if (out.size() < max) out.push_back(name(k) + " for receiver " + std::to_string(r));
      }
    }
    return out;
  }
  std::size_t accepted_size() const {
    std::lock_guard lock(mu_);
    return accepted_.size();
  }
  // Messages handed to send() but never ACCEPTED, and how many of those arrived.
  std::pair<std::size_t, std::size_t> unconfirmed() const {
    std::lock_guard lock(mu_);
    std::size_t n = 0, delivered = 0;
    for (const auto& [k, s] : sent_) {
      if (accepted_.count(k)) continue;
      ++n;
      auto in = inboxes_.find(s.recipient);
      if (in != inboxes_.end() && in->second.stored.count(k)) ++delivered;
    }
    return {n, delivered};
  }
  std::uint64_t duplicates() const {
    std::lock_guard lock(mu_);
    std::uint64_t d = 0;
    for (const auto& [r, in] : inboxes_) d += in.duplicates;
    return d;
  }
  std::size_t stored(std::uint32_t r) const {
    std::lock_guard lock(mu_);
    auto in = inboxes_.find(r);
    return in == inboxes_.end() ? 0 : in->second.stored.size();
  }
  // True when receiver `r` stored every ACCEPTED message addressed to it.
  bool has_all_accepted(std::uint32_t r) const {
    std::lock_guard lock(mu_);
    auto in = inboxes_.find(r);
    for (const auto& k : accepted_)
      if (sent_.at(k).recipient == r && (in == inboxes_.end() || !in->second.stored.count(k)))
        return false;
    return true;
  }

  // Progress counters, read without the lock by the killer.
  std::atomic<std::uint64_t> accepted_count{0};
  std::atomic<std::uint64_t> deliveries_count{0};
  std::atomic<std::uint64_t> acks_count{0};

 private:
  struct Sent {
    std::uint32_t recipient;
    Bytes envelope;
  };
  static std::string name(MessageKey k) {
    return std::to_string(k.first) + "/" + std::to_string(k.second);
  }
  bool violation(std::string v) {
    if (violations_.size() < 50) violations_.push_back(std::move(v));
    return false;
  }

  const std::vector<IdentityPublicKey> senders_;
  mutable std::mutex mu_;
  std::map<MessageKey, Sent> sent_;
  std::set<MessageKey> accepted_;
  std::map<std::uint32_t, Inbox> inboxes_;
  std::vector<std::string> violations_;
};

}  // namespace sotto::test
