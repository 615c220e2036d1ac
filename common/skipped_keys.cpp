// skipped_keys.cpp — the bounded, oldest-first-evicting store of skipped
// message keys.
#include "common/skipped_keys.hpp"

#include <sodium.h>

#include <algorithm>

namespace sotto::ratchet {

static_assert(kMaxStoredSkippedKeys <= 65535, "slots are numbered with 16 bits");

namespace {
constexpr std::size_t kSlotBytes = 32;
}

SkippedKeys SkippedKeys::clone() const {
  SkippedKeys out;
  out.index_ = index_;
  out.free_slots_ = free_slots_;
  if (!slots_.empty()) out.slots_ = slots_.clone();
  return out;
}

std::optional<std::size_t> SkippedKeys::find(const X25519PublicKey& ratchet_key,
                                             std::uint32_t counter) const {
  // Public index (ratchet public key, N): a linear scan over at most 2000 entries.
  for (std::size_t i = 0; i < index_.size(); ++i) {
    if (index_[i].counter == counter && index_[i].ratchet_key == ratchet_key) return i;
  }
  return std::nullopt;
}

bool SkippedKeys::has_chain(const X25519PublicKey& ratchet_key) const {
  return std::any_of(index_.begin(), index_.end(),
                     [&](const Entry& e) { return e.ratchet_key == ratchet_key; });
}

Key32 SkippedKeys::key(std::size_t i) const {
  return Key32(slots_.data() + std::size_t{index_[i].slot} * kSlotBytes, kSlotBytes);
}

void SkippedKeys::release_slot(std::uint16_t slot) {
  sodium_memzero(slots_.data() + std::size_t{slot} * kSlotBytes, kSlotBytes);
  free_slots_.push_back(slot);
}

MessageKey SkippedKeys::take(std::size_t i) {
  MessageKey mk = MessageKey::copy_of(key(i));
  release_slot(index_[i].slot);
  index_.erase(index_.begin() + static_cast<std::ptrdiff_t>(i));
  return mk;
}

std::size_t SkippedKeys::insert(const X25519PublicKey& ratchet_key, std::uint32_t counter,
                                const MessageKey& key) {
  if (slots_.empty()) {
    slots_ = SecretBytes(kMaxStoredSkippedKeys * kSlotBytes);
    free_slots_.reserve(kMaxStoredSkippedKeys);
    for (std::size_t s = kMaxStoredSkippedKeys; s-- > 0;) {
      free_slots_.push_back(static_cast<std::uint16_t>(s));
    }
  }
  // Eviction: oldest inserted first, to make room at the cap.
  std::size_t evicted = 0;
  while (index_.size() >= kMaxStoredSkippedKeys) {
    release_slot(index_.front().slot);
    index_.pop_front();
    ++evicted;
  }
  const std::uint16_t slot = free_slots_.back();
  free_slots_.pop_back();
  std::copy(key.view().begin(), key.view().end(), slots_.data() + std::size_t{slot} * kSlotBytes);
  index_.push_back({ratchet_key, counter, slot});
  return evicted;
}

}  // namespace sotto::ratchet
