// rate_limit.cpp — see rate_limit.hpp.
#include "server/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace sotto::relay {

TokenBucket::TokenBucket(double per_second, double burst, std::uint64_t now_ms)
    : per_ms_(per_second / 1000.0), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

double TokenBucket::level(std::uint64_t now_ms) const {
  // A clock that went backwards refills nothing.
  const double elapsed = now_ms > last_ms_ ? static_cast<double>(now_ms - last_ms_) : 0.0;
  return std::min(burst_, tokens_ + elapsed * per_ms_);
}

std::optional<std::uint32_t> TokenBucket::take(std::uint64_t now_ms) {
  tokens_ = level(now_ms);
  last_ms_ = std::max(last_ms_, now_ms);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  // Time until the bucket holds one whole token.
  const double wait = std::ceil((1.0 - tokens_) / per_ms_);
  return static_cast<std::uint32_t>(std::clamp(wait, 1.0, 4.0e9));
}

bool TokenBucket::full(std::uint64_t now_ms) const {
  return level(now_ms) >= burst_;
}

std::string_view to_string(Admit a) {
  switch (a) {
    case Admit::kOk:
      return "ok";
    case Admit::kTooManyTotal:
      return "max_connections";
    case Admit::kTooManyFromAddress:
      return "max_connections_per_address";
    case Admit::kTooFastFromAddress:
      return "connections_per_minute_per_address";
    case Admit::kStopping:
      return "stopping";
  }
  return "?";
}

Admission::Admission(AdmissionLimits limits)
    : limits_(limits),
      per_minute_(limits.connections_per_minute_per_address / 60.0,
                  limits.connections_per_minute_per_address) {}

Admit Admission::admit(const std::string& address, std::uint64_t now_ms) {
  if (stopping_) return Admit::kStopping;
  if (total_ >= limits_.max_connections) return Admit::kTooManyTotal;
  auto it = per_address_.find(address);
  if (it != per_address_.end() && it->second >= limits_.max_connections_per_address)
    return Admit::kTooManyFromAddress;
  if (per_minute_.take(address, now_ms)) return Admit::kTooFastFromAddress;
  ++per_address_[address];
  ++total_;
  return Admit::kOk;
}

void Admission::release(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
  if (total_ > 0) --total_;
}

std::uint32_t Admission::open_from(const std::string& address) const {
  auto it = per_address_.find(address);
  return it == per_address_.end() ? 0 : it->second;
}

}  // namespace sotto::relay
