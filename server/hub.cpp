// hub.cpp — see hub.hpp.
#include "server/hub.hpp"

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
                   config.rate_limits.request_burst_per_account),
      deadlines_(io),
      completions_(io, &Hub::run_completed) {
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

Hub::RequestTokens Hub::request_tokens(const std::string& address,
                                       const std::optional<AccountId>& account) {
  const std::uint64_t now = now_ms();
  TokenBucket& by_address = per_address_.bucket(address, now);
  TokenBucket* by_account = account ? &per_account_.bucket(*account, now) : nullptr;
  return RequestTokens(*this, by_address, by_account, now);
}

std::optional<std::uint32_t> Hub::RequestTokens::take() {
  if (auto wait = address_.take(now_)) return wait;
  if (account_)
    if (auto wait = account_->take(now_)) return wait;
  return std::nullopt;
}

Hub::RequestTokens::~RequestTokens() {
  hub_.per_address_.prune_some(now_);
  if (account_) hub_.per_account_.prune_some(now_);
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
  auto [first, last] = by_account_.equal_range(account);
  for (auto it = first; it != last; ++it)
    if (it->second == c) return;
  by_account_.emplace_hint(last, account, c);
}

void Hub::unbind(const AccountId& account, Connection* c) {
  auto [first, last] = by_account_.equal_range(account);
  for (auto it = first; it != last; ++it) {
    if (it->second == c) {
      by_account_.erase(it);
      return;
    }
  }
}

void Hub::notify(const AccountId& recipient) {
  // Neither call below unbinds (a connection that closes is removed later, by its own
  // coroutine), so the range does not change under the loop.
  auto [first, last] = by_account_.equal_range(recipient);
  for (auto it = first; it != last; ++it) it->second->notify_mail();
}

bool Hub::admitted(const AccountId& recipient, Sequence seq, const Bytes& ciphertext) {
  auto [first, last] = by_account_.equal_range(recipient);
  bool taken = false;
  for (auto it = first; it != last; ++it)
    taken = it->second->deliver_live(seq, ciphertext) || taken;
  return taken;
}

void Hub::stop_all() {
  stopping_ = true;
  admission_.stop();
  // Held inserts commit now: their senders' ACCEPTED does not wait for the hold.
  store_.release_held();
  auto copy = connections_;
  for (const auto& c : copy) c->stop();
}

void Hub::completed(std::shared_ptr<Connection> c, HandlerResult result) {
  completions_.put(Completed{std::move(c), std::move(result)});
}

void Hub::run_completed(Completed c) {
  c.connection->completed(std::move(c.result));
}

}  // namespace sotto::relay
