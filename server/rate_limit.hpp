// rate_limit.hpp — token buckets for the relay's rate limits, and the
// admission control that enforces the connection limits.
//
//   TokenBucket       `burst` tokens at most, refilled at `per_second`; a
//                     request takes one token or is refused with the time
//                     until one is available (RATE_LIMITED, retry_after_ms).
//   RateLimiter<Key>  one bucket per key (an account, a client address);
//                     buckets that have refilled completely are forgotten (a
//                     new bucket starts full, so this changes no answer): every
//                     take (or run of takes from one bucket()) also looks at the
//                     next two buckets of a round-robin walk and drops them if full, so memory
//                     follows the number of keys active recently, with no timer; and the map never
//                     holds more than `max_keys` (when it would, full buckets
//                     are pruned first; failing that the oldest key is
//                     dropped, which can only make a limit looser).
//   Admission         connections in total, per address, and new connections
//                     per minute per address (a bucket of that size, refilled
//                     over a minute).
//
// Time is a caller-supplied monotonic millisecond count (tests pass their
// own). Not thread-safe: the relay uses these from its io_context thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sotto::relay {

class TokenBucket {
 public:
  TokenBucket(double per_second, double burst, std::uint64_t now_ms);
  // Takes one token: nullopt when taken, else the milliseconds until one is
  // available (at least 1). A refused request takes nothing.
  std::optional<std::uint32_t> take(std::uint64_t now_ms);
  // True when the bucket has refilled to `burst` (it can be forgotten).
  bool full(std::uint64_t now_ms) const;

 private:
  double level(std::uint64_t now_ms) const;
  double per_ms_;
  double burst_;
  double tokens_;
  std::uint64_t last_ms_;
};

template <class Key>
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, std::size_t max_keys = 100'000)
      : per_second_(per_second), burst_(burst), max_keys_(max_keys) {}

  // nullopt: allowed (a token was taken); otherwise retry after this many ms.
  std::optional<std::uint32_t> take(const Key& key, std::uint64_t now_ms) {
    const auto wait = bucket(key, now_ms).take(now_ms);
    prune_some(now_ms);
    return wait;
  }
  // The bucket of `key` (a new one starts full), for several takes in a row with
  // one lookup: valid until the next call to this limiter, which may forget it.
  // The caller then runs prune_some once, as take() does.
  TokenBucket& bucket(const Key& key, std::uint64_t now_ms) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_) prune(now_ms);
      if (buckets_.size() >= max_keys_) buckets_.erase(buckets_.begin());
      it = buckets_.emplace(key, TokenBucket(per_second_, burst_, now_ms)).first;
    }
    return it->second;
  }
  // Forgets every bucket that has refilled completely.
  void prune(std::uint64_t now_ms) {
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = it->second.full(now_ms) ? buckets_.erase(it) : std::next(it);
  }
  std::size_t size() const { return buckets_.size(); }

  // The next kPrunePerTake buckets of the round-robin walk, dropped if full.
  void prune_some(std::uint64_t now_ms) {
    auto it = cursor_ ? buckets_.lower_bound(*cursor_) : buckets_.begin();
    for (int i = 0; i < kPrunePerTake && !buckets_.empty(); ++i) {
      if (it == buckets_.end()) it = buckets_.begin();
      it = it->second.full(now_ms) ? buckets_.erase(it) : std::next(it);
    }
    if (it == buckets_.end())
      cursor_.reset();
    else
      cursor_ = it->first;
  }

 private:
  static constexpr int kPrunePerTake = 2;
  std::optional<Key> cursor_;  // where the walk resumes (a key, so copies stay valid)
  double per_second_;
  double burst_;
  std::size_t max_keys_;
  std::map<Key, TokenBucket> buckets_;
};

enum class Admit { kOk, kTooManyTotal, kTooManyFromAddress, kTooFastFromAddress, kStopping };
std::string_view to_string(Admit a);

struct AdmissionLimits {
  std::uint32_t max_connections = 4096;
  std::uint32_t max_connections_per_address = 32;
  std::uint32_t connections_per_minute_per_address = 120;
};

class Admission {
 public:
  explicit Admission(AdmissionLimits limits);
  // Decides on a new connection from `address`; kOk counts it as open.
  Admit admit(const std::string& address, std::uint64_t now_ms);
  // A connection admitted from `address` has ended.
  void release(const std::string& address);
  void stop() { stopping_ = true; }
  std::uint32_t open() const { return total_; }
  std::uint32_t open_from(const std::string& address) const;

 private:
  AdmissionLimits limits_;
  RateLimiter<std::string> per_minute_;
  std::map<std::string, std::uint32_t> per_address_;
  std::uint32_t total_ = 0;
  bool stopping_ = false;
};

}  // namespace sotto::relay
