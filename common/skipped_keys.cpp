// skipped_keys.cpp — the bounded, oldest-first-evicting store of skipped
// message keys.
#include "common/skipped_keys.hpp"

#include <algorithm>

namespace sotto::ratchet {

SkippedKeys SkippedKeys::clone() const {
  SkippedKeys out;
  for (const SkippedKey& k : keys_) out.keys_.push_back({k.ratchet_key, k.counter, k.key.clone()});
  return out;
}

std::optional<std::size_t> SkippedKeys::find(const X25519PublicKey& ratchet_key,
                                             std::uint32_t counter) const {
  // Public index (ratchet public key, N): a linear scan over at most 2000 entries.
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].counter == counter && keys_[i].ratchet_key == ratchet_key) return i;
  }
  return std::nullopt;
}

bool SkippedKeys::has_chain(const X25519PublicKey& ratchet_key) const {
  return std::any_of(keys_.begin(), keys_.end(),
                     [&](const SkippedKey& k) { return k.ratchet_key == ratchet_key; });
}

MessageKey SkippedKeys::take(std::size_t index) {
  auto it = keys_.begin() + static_cast<std::ptrdiff_t>(index);
  MessageKey mk = std::move(it->key);
  keys_.erase(it);
  return mk;
}

std::size_t SkippedKeys::insert(const X25519PublicKey& ratchet_key, std::uint32_t counter,
                                MessageKey key) {
  keys_.push_back({ratchet_key, counter, std::move(key)});
  // Eviction: oldest inserted first, down to the cap.
  std::size_t evicted = 0;
  while (keys_.size() > kMaxStoredSkippedKeys) {
    keys_.pop_front();
    ++evicted;
  }
  return evicted;
}

}  // namespace sotto::ratchet
