// ratchet_model.hpp — a crypto-free model of one Double Ratchet receiver, for
// fuzz_conversation.cpp: which chain is current, Nr, and the skipped
// (ratchet key, N) pairs with the kMaxSkip limit and oldest-first eviction at
// kMaxStoredSkippedKeys (docs/protocol.md section 30). The same model
// that tests/unit/test_ratchet_interaction.cpp uses; no Catch2 here.
//
// predict() says what decrypting a genuine message with header `h` must give;
// apply() updates the model after it decrypted. `epoch` numbers the sender's
// ratchet keys in the order the sender used them (owned by the caller).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "common/ratchet.hpp"

namespace sotto::fuzz {

enum class Outcome { kOk, kDuplicate, kTooManySkipped, kDecryptFailed };

struct ReceiverModel {
  std::optional<X25519PublicKey> dhr;
  bool has_chain = false;
  std::uint32_t nr = 0;
  std::deque<std::pair<X25519PublicKey, std::uint32_t>> skipped;
  const std::map<X25519PublicKey, int>* epoch = nullptr;

  bool stored(const X25519PublicKey& k, std::uint32_t n) const {
    for (const auto& e : skipped) {
      if (e.first == k && e.second == n) return true;
    }
    return false;
  }
  bool stored_chain(const X25519PublicKey& k) const {
    for (const auto& e : skipped) {
      if (e.first == k) return true;
    }
    return false;
  }

  Outcome predict(const ratchet::Header& h) const {
    if (stored(h.ratchet_key, h.counter)) return Outcome::kOk;
    if (dhr && *dhr == h.ratchet_key) {
      if (!has_chain) return Outcome::kDecryptFailed;
      if (h.counter < nr) return Outcome::kDuplicate;
      if (h.counter - nr > ratchet::kMaxSkip) return Outcome::kTooManySkipped;
      return Outcome::kOk;
    }
    if (stored_chain(h.ratchet_key)) return Outcome::kDuplicate;
    const std::uint64_t rest = (has_chain && h.previous_count > nr) ? h.previous_count - nr : 0;
    if (rest + h.counter > ratchet::kMaxSkip) return Outcome::kTooManySkipped;
    // A genuine message of a later chain starts a DH ratchet step; one of an
    // earlier chain whose keys are all gone cannot authenticate.
    const int current = dhr ? epoch->at(*dhr) : -1;
    return epoch->at(h.ratchet_key) > current ? Outcome::kOk : Outcome::kDecryptFailed;
  }

  void add(const X25519PublicKey& k, std::uint32_t from, std::uint32_t until) {
    for (std::uint32_t n = from; n < until; ++n) skipped.emplace_back(k, n);
    while (skipped.size() > ratchet::kMaxStoredSkippedKeys) skipped.pop_front();
  }

  void apply(const ratchet::Header& h) {
    for (auto it = skipped.begin(); it != skipped.end(); ++it) {
      if (it->first == h.ratchet_key && it->second == h.counter) {
        skipped.erase(it);
        return;
      }
    }
    if (!(dhr && *dhr == h.ratchet_key)) {
      if (has_chain) add(*dhr, nr, h.previous_count);
      dhr = h.ratchet_key;
      has_chain = true;
      nr = 0;
    }
    add(h.ratchet_key, nr, h.counter);
    nr = h.counter + 1;
  }
};

}  // namespace sotto::fuzz
