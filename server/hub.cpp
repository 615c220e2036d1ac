// hub.cpp — see hub.hpp.
#include "server/hub.hpp"

#include <algorithm>

#include "server/connection.hpp"

namespace sotto::relay {

Hub::Hub(asio::io_context& io, const RelayConfig& config, X25519KeyPair key, RelayStore& store,
         const Clock& clock, Rng& rng)
    : io_(io),
      config_(config),
      key_(std::move(key)),
      store_(store),
      clock_(clock),
      rng_(rng),
      admission_(AdmissionLimits{config.limits.max_connections,
                                 config.limits.max_connections_per_address,
                                 config.rate_limits.connections_per_minute_per_address}),
      per_address_(config.rate_limits.requests_per_second_per_address,
                   config.rate_limits.request_burst_per_address),
      per_account_(config.rate_limits.requests_per_second_per_account,
                   config.rate_limits.request_burst_per_account) {
  codec_limits_.max_frame = config.limits.max_frame;
  codec_limits_.max_envelope = config.limits.max_envelope;
}

std::uint64_t Hub::now_ms() const {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - started_)
                                        .count());
}

Admit Hub::admit(const std::string& address) {
  const Admit a = admission_.admit(address, now_ms());
  if (a == Admit::kOk) {
    ++metrics_.connections_total;
  } else {
    metrics_.count(metrics_.connections_refused, to_string(a));
  }
  metrics_.connections_current = admission_.open();
  return a;
}

void Hub::add(const std::shared_ptr<Connection>& c) {
  connections_.insert(c);
}

void Hub::remove(const std::shared_ptr<Connection>& c) {
  if (c->account()) unbind(*c->account(), c.get());
  if (connections_.erase(c) > 0) admission_.release(c->peer_address());
  metrics_.connections_current = admission_.open();
}

std::optional<std::uint32_t> Hub::rate_limit(const std::string& address,
                                             const std::optional<AccountId>& account) {
  const std::uint64_t now = now_ms();
  if (auto wait = per_address_.take(address, now)) return wait;
  if (account)
    if (auto wait = per_account_.take(*account, now)) return wait;
  return std::nullopt;
}

void Hub::seen(const AccountId& account, UnixDay stored_last_seen) {
  const UnixDay today = day_of(clock_.now_unix());
  if (!last_seen_.should_touch(account, stored_last_seen, today)) return;
  // The completion runs on the store's thread: count on ours. The work guard
  // keeps io_context::run() alive until it has.
  store_.touch_account(account, today,
                       [this, work = asio::make_work_guard(io_)](StoreResult<void> r) {
                         if (!r) return;
                         asio::post(io_, [this] { ++metrics_.last_seen_writes; });
                       });
}

void Hub::bind(const AccountId& account, Connection* c) {
  auto& list = by_account_[account];
  if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
}

void Hub::unbind(const AccountId& account, Connection* c) {
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return;
  std::erase(it->second, c);
  if (it->second.empty()) by_account_.erase(it);
}

void Hub::notify(const AccountId& recipient) {
  auto it = by_account_.find(recipient);
  if (it == by_account_.end()) return;
  // Neither call unbinds (a connection that closes is removed later, by its own
  // coroutine), so the list does not change under the loop.
  for (Connection* c : it->second) c->notify_mail();
}

void Hub::admitted(const AccountId& recipient, Sequence seq, const Bytes& ciphertext) {
  auto it = by_account_.find(recipient);
  if (it == by_account_.end()) return;
  for (Connection* c : it->second) c->deliver_live(seq, ciphertext);
}

void Hub::stop_all() {
  stopping_ = true;
  admission_.stop();
  auto copy = connections_;
  for (const auto& c : copy) c->stop();
}

}  // namespace sotto::relay
