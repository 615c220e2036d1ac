// hub.hpp — what every connection of a running relay shares: the config, the
// relay's key, the store, the clock, and the set of live connections (to push
// new mail to a recipient who is online and to stop them all on shutdown).
//
// Single-threaded: used only from the io_context's thread. Ownership: the Hub
// is owned by serve() and outlives every connection.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <asio.hpp>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/rng.hpp"
#include "server/config.hpp"
#include "server/store.hpp"
#include "common/wire_codec.hpp"

namespace sotto::relay {

class Connection;

class Hub {
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
  bool stopping() const { return stopping_; }

  // Per-address and total connection limits: false when the connection must be refused.
  bool admit(const std::string& address);
  void release(const std::string& address);
  void add(const std::shared_ptr<Connection>& c);
  void remove(const std::shared_ptr<Connection>& c);
  // Tells the recipient's live connections that mail arrived.
  void notify(const AccountId& recipient);
  // Stops every connection gracefully.
  void stop_all();

 private:
  asio::io_context& io_;
  const RelayConfig& config_;
  CodecLimits codec_limits_;
  X25519KeyPair key_;
  RelayStore& store_;
  const Clock& clock_;
  Rng& rng_;
  std::set<std::shared_ptr<Connection>> connections_;
  std::map<std::string, std::uint32_t> per_address_;
  std::uint32_t total_ = 0;
  bool stopping_ = false;
};

}  // namespace sotto::relay
