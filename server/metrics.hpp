// metrics.hpp — the relay's counters and their Prometheus text rendering
// (exposition format 0.0.4), served on a loopback port by metrics_http.hpp.
//
// Counters never carry an account id, an address or any content: labels are
// request kinds, statuses and reasons from fixed lists. Gauges that live in
// the store (queue depth, accounts) are read when the page is rendered.
//
// Single-threaded: the relay's io_context thread is the only one that touches
// a Metrics (store completions are posted back to it before they count).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server/store.hpp"

namespace sotto::relay {

struct Metrics {
  std::uint64_t connections_current = 0;
  std::uint64_t connections_total = 0;                                    // admitted since start
  std::map<std::string, std::uint64_t, std::less<>> connections_refused;  // by reason
  std::uint64_t handshakes_failed = 0;
  std::uint64_t handshakes_anonymous = 0;  // NK handshakes completed
  std::uint64_t auth_failed_frames = 0;    // transport frames dropped: tag did not verify
  std::map<std::string, std::uint64_t, std::less<>> frames;   // requests by kind
  std::map<std::string, std::uint64_t, std::less<>> rejects;  // non-OK answers by status
  std::uint64_t sends_accepted = 0;
  std::uint64_t deliveries = 0;          // envelopes pushed to recipients (redeliveries included)
  std::uint64_t acks = 0;                // queued messages deleted by an Ack
  std::uint64_t acks_before_commit = 0;  // of which acknowledged before their insert ran
  std::uint64_t expiries = 0;            // queued messages deleted by retention
  std::uint64_t expired_bytes = 0;
  std::uint64_t purge_runs = 0;
  std::uint64_t purge_failures = 0;
  std::uint64_t last_seen_writes = 0;

  void count(std::map<std::string, std::uint64_t, std::less<>>& m, std::string_view key) {
    auto it = m.find(key);
    if (it == m.end()) it = m.emplace(std::string(key), 0).first;
    ++it->second;
  }
};

// The whole /metrics page. `store` is absent when the store could not be read
// (the page then omits the store gauges and sets sotto_relay_store_up 0).
std::string render_metrics(const Metrics& m, const CommitStats& commits,
                           const std::optional<StoreStats>& store);

}  // namespace sotto::relay
