// skipped_keys.hpp — SkippedKeys: message keys derived for messages that have
// not arrived yet (docs/protocol/30-double-ratchet.md, "Skipped message keys").
//
// Keys are indexed by (sender's ratchet public key, N) and kept in insertion
// order. The store holds at most kMaxStoredSkippedKeys; inserting beyond that
// evicts the oldest-inserted keys first (their messages then fail as
// duplicates, see the spec). A single message may add at most kMaxSkip keys;
// that limit is checked by the ratchet before anything is inserted.
//
// The store owns its message keys; take() hands one over and removes it.
// Nothing here fails: lookups return nullopt, inserts evict.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "common/crypto.hpp"
#include "common/ratchet_keys.hpp"

namespace sotto::ratchet {

// Most message keys one received message may cause to be skipped.
inline constexpr std::uint32_t kMaxSkip = 1000;
// Most skipped message keys stored per session; oldest evicted first.
inline constexpr std::size_t kMaxStoredSkippedKeys = 2000;

struct SkippedKey {
  X25519PublicKey ratchet_key;
  std::uint32_t counter{};
  MessageKey key;
};

class SkippedKeys {
 public:
  SkippedKeys() = default;
  SkippedKeys(SkippedKeys&&) noexcept = default;
  SkippedKeys& operator=(SkippedKeys&&) noexcept = default;
  SkippedKeys clone() const;

  std::size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }

  // The index of the key for (ratchet_key, counter), if stored.
  std::optional<std::size_t> find(const X25519PublicKey& ratchet_key, std::uint32_t counter) const;
  // True when any key of the chain `ratchet_key` is stored.
  bool has_chain(const X25519PublicKey& ratchet_key) const;
  // Removes and returns the key at `index` (from find()).
  MessageKey take(std::size_t index);

  // Appends a key (newest); evicts the oldest while over kMaxStoredSkippedKeys.
  // Returns how many keys were evicted.
  std::size_t insert(const X25519PublicKey& ratchet_key, std::uint32_t counter, MessageKey key);

  // Oldest first, for serialisation and tests.
  const std::deque<SkippedKey>& entries() const { return keys_; }

 private:
  std::deque<SkippedKey> keys_;
};

}  // namespace sotto::ratchet
