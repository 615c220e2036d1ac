// hub.hpp — what every connection of a running relay shares: the config, the
// relay's key, the store, the clock, the set of live connections (to stop them
// all on shutdown) and their index by account (to push new mail to a recipient
// who is online: found in O(log n), not by scanning every connection), the
// connection and request limits, the last-seen bookkeeping and the metrics.
//
// Single-threaded: used only from the io_context's thread. Ownership: the Hub
// is owned by serve() and outlives every connection.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"
#include "server/completion_inbox.hpp"
#include "server/config.hpp"
#include "server/deadline_sweep.hpp"
#include "server/handlers.hpp"
#include "server/metrics.hpp"
#include "server/rate_limit.hpp"
#include "server/retention.hpp"
#include "server/store.hpp"

namespace sotto::relay {

class Connection;

class Hub final : public LiveDelivery {
 public:
  Hub(asio::io_context& io, const RelayConfig& config, X25519KeyPair key, RelayStore& store,
      const Clock& clock, Rng& rng);

  asio::io_context& io() { return io_; }
  const RelayConfig& config() const { return config_; }
  const CodecLimits& codec_limits() const { return codec_limits_; }
  const X25519KeyPair& key() const { return key_; }
  RelayStore& store() { return store_; }
  const Clock& clock() const { return clock_; }
  Rng& rng() { return rng_; }
  Metrics& metrics() { return metrics_; }
  // Every connection's deadline (one timer for all).
  DeadlineSweep& deadlines() { return deadlines_; }
  // Any thread (the store's writer): a request's result for connection `c`, run on the
  // event loop in order, one post per burst (CompletionInbox).
  void completed(std::shared_ptr<Connection> c, HandlerResult result);
  bool stopping() const { return stopping_; }

  // Connection limits (total, per address, per minute per address).
  Admit admit(const std::string& address);
  void add(const std::shared_ptr<Connection>& c);
  // Removes a connection and releases its address slot (idempotent).
  void remove(const std::shared_ptr<Connection>& c);
  // Request rate limits for the requests of one frame, taken in order with one
  // lookup per bucket: take() is nullopt when the next request may go ahead,
  // otherwise the milliseconds to answer in retry_after_ms. Each take takes a
  // token from the address's bucket and, for an authenticated connection, from
  // the account's, exactly as one request at a time would. Use it at once and
  // drop it before anything else touches the rate limits (it holds the buckets).
  class RequestTokens {
   public:
    std::optional<std::uint32_t> take();
    ~RequestTokens();
    RequestTokens(const RequestTokens&) = delete;
    RequestTokens& operator=(const RequestTokens&) = delete;

   private:
    friend class Hub;
    RequestTokens(Hub& hub, TokenBucket& address, TokenBucket* account, std::uint64_t now)
        : hub_(hub), address_(address), account_(account), now_(now) {}
    Hub& hub_;
    TokenBucket& address_;
    TokenBucket* account_;
    std::uint64_t now_;
  };
  RequestTokens request_tokens(const std::string& address, const std::optional<AccountId>& account);
  // An authenticated connection began: writes today's last-seen day when due.
  void seen(const AccountId& account, UnixDay stored_last_seen);
  // A connection is (no longer) authenticated as an account: the index by account.
  void bind(const AccountId& account, Connection* c);
  void unbind(const AccountId& account, Connection* c);
  // Tells the recipient's live connections that mail arrived.
  void notify(const AccountId& recipient);
  // An early envelope was admitted: each of the recipient's live connections pushes it
  // from memory (or pulls from the store when it is not caught up). True when at least
  // one of them took it (the store may then hold its insert back).
  bool admitted(const AccountId& recipient, Sequence seq, const Bytes& ciphertext) override;
  // Stops every connection gracefully.
  void stop_all();
  // Monotonic milliseconds (rate limits).
  std::uint64_t now_ms() const;

 private:
  asio::io_context& io_;
  const RelayConfig& config_;
  CodecLimits codec_limits_;
  X25519KeyPair key_;
  RelayStore& store_;
  const Clock& clock_;
  Rng& rng_;
  Metrics metrics_;
  Admission admission_;
  RateLimiter<std::string> per_address_;
  RateLimiter<AccountId> per_account_;
  LastSeen last_seen_;
  DeadlineSweep deadlines_;  // before connections_: they leave it when destroyed
  struct Completed {
    std::shared_ptr<Connection> connection;
    HandlerResult result;
  };
  static void run_completed(Completed c);
  CompletionInbox<Completed, void (*)(Completed)> completions_;
  std::set<std::shared_ptr<Connection>> connections_;
  // Authenticated connections by account (ordered: account ids are client-chosen). The
  // pointers are valid while the connection is in connections_ (remove() unbinds).
  // One node per authenticated connection (the idle-memory budget counts it).
  std::multimap<AccountId, Connection*> by_account_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace sotto::relay
