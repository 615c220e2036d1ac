// skipped_keys.hpp — SkippedKeys: message keys derived for messages that have
// not arrived yet (docs/protocol.md section 30, "Skipped message keys").
//
// Keys are indexed by (sender's ratchet public key, N) and kept in insertion
// order. The store holds at most kMaxStoredSkippedKeys; inserting beyond that
// evicts the oldest-inserted keys first (their messages then fail as
// duplicates, see the spec). A single message may add at most kMaxSkip keys;
// that limit is checked by the ratchet before anything is inserted.
//
// The store owns its message keys, kept in one sodium_malloc'd block of
// fixed slots (a session copy per decrypt then costs one allocation, not one
// per key); take() hands a key over and wipes its slot. Nothing here fails:
// lookups return nullopt, inserts evict.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/crypto.hpp"
#include "common/ratchet_keys.hpp"

namespace sotto::ratchet {

// Most message keys one received message may cause to be skipped.
inline constexpr std::uint32_t kMaxSkip = 1000;
// Most skipped message keys stored per session; oldest evicted first.
inline constexpr std::size_t kMaxStoredSkippedKeys = 2000;

class SkippedKeys {
 public:
  SkippedKeys() = default;
  SkippedKeys(SkippedKeys&&) noexcept = default;
  SkippedKeys& operator=(SkippedKeys&&) noexcept = default;
  // A copy: one allocation and one copy of the key slots, however many are stored.
  SkippedKeys clone() const;

  std::size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }

  // The position (0 = oldest) of the key for (ratchet_key, counter), if stored.
  std::optional<std::size_t> find(const X25519PublicKey& ratchet_key, std::uint32_t counter) const;
  // True when any key of the chain `ratchet_key` is stored.
  bool has_chain(const X25519PublicKey& ratchet_key) const;

  // The entry at position `i` (0 = oldest), for decryption and serialisation.
  const X25519PublicKey& ratchet_key(std::size_t i) const { return index_[i].ratchet_key; }
  std::uint32_t counter(std::size_t i) const { return index_[i].counter; }
  Key32 key(std::size_t i) const;

  // Removes the entry at position `i` and returns its key (the slot is wiped).
  MessageKey take(std::size_t i);

  // Appends a key (newest); evicts the oldest while over kMaxStoredSkippedKeys.
  // Returns how many keys were evicted.
  std::size_t insert(const X25519PublicKey& ratchet_key, std::uint32_t counter,
                     const MessageKey& key);

 private:
  struct Entry {
    X25519PublicKey ratchet_key;
    std::uint32_t counter;
    std::uint16_t slot;  // index of its 32 bytes in slots_
  };
  void release_slot(std::uint16_t slot);

  std::deque<Entry> index_;                // public: oldest first
  std::vector<std::uint16_t> free_slots_;  // slots not in use
  // kMaxStoredSkippedKeys * 32 bytes of message keys, allocated at the first insert.
  SecretBytes slots_;
};

}  // namespace sotto::ratchet
