// metrics.cpp — see metrics.hpp. Every family gets # HELP and # TYPE lines;
// counters end in _total; durations are in seconds.
#include "server/metrics.hpp"

#include <sstream>

namespace sotto::relay {
namespace {

class Page {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    o_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  template <class V>
  void sample(std::string_view name, V value, std::string_view labels = {}) {
    o_ << name;
    if (!labels.empty()) o_ << "{" << labels << "}";
    o_ << " " << value << "\n";
  }
  template <class V>
  void single(std::string_view name, std::string_view type, std::string_view help, V value) {
    family(name, type, help);
    sample(name, value);
  }
  void labelled(std::string_view name, std::string_view help, std::string_view label,
                const std::map<std::string, std::uint64_t, std::less<>>& values) {
    family(name, "counter", help);
    for (const auto& [k, v] : values) sample(name, v, std::string(label) + "=\"" + k + "\"");
  }
  std::string str() const { return o_.str(); }

 private:
  std::ostringstream o_;
};

}  // namespace

std::string render_metrics(const Metrics& m, const CommitStats& c,
                           const std::optional<StoreStats>& store) {
  Page p;
  p.single("sotto_relay_connections", "gauge", "Open client connections.", m.connections_current);
  p.single("sotto_relay_connections_total", "counter", "Client connections admitted.",
           m.connections_total);
  p.labelled("sotto_relay_connections_refused_total",
             "Client connections refused, by the limit that refused them.", "reason",
             m.connections_refused);
  p.single("sotto_relay_handshakes_failed_total", "counter",
           "Noise handshakes that failed (bad message, wrong relay key, deadline).",
           m.handshakes_failed);
  p.single("sotto_relay_handshakes_anonymous_total", "counter",
           "Anonymous (Noise NK) handshakes completed.", m.handshakes_anonymous);
  p.single("sotto_relay_auth_failed_frames_total", "counter",
           "Transport frames dropped because they failed authentication.", m.auth_failed_frames);
  p.labelled("sotto_relay_frames_total", "Requests received, by kind.", "type", m.frames);
  p.labelled("sotto_relay_rejects_total", "Requests answered with an error, by status.", "status",
             m.rejects);
  p.single("sotto_relay_sends_accepted_total", "counter",
           "Envelopes durably queued or acknowledged by their recipient (Send answered ACCEPTED).",
           m.sends_accepted);
  p.single("sotto_relay_deliveries_total", "counter",
           "Envelopes pushed to recipients (redeliveries included).", m.deliveries);
  p.single("sotto_relay_acks_total", "counter", "Queued envelopes deleted by an acknowledgement.",
           m.acks);
  p.single("sotto_relay_acks_before_commit_total", "counter",
           "Envelopes acknowledged while their insert was still queued (never written).",
           m.acks_before_commit);
  p.single("sotto_relay_expiries_total", "counter",
           "Queued envelopes deleted because their retention passed.", m.expiries);
  p.single("sotto_relay_expired_bytes_total", "counter",
           "Ciphertext bytes deleted because their retention passed.", m.expired_bytes);
  p.single("sotto_relay_purge_runs_total", "counter", "Retention purge passes completed.",
           m.purge_runs);
  p.single("sotto_relay_purge_failures_total", "counter",
           "Retention purge passes that failed (retried at the next interval).", m.purge_failures);
  p.single("sotto_relay_last_seen_writes_total", "counter",
           "Last-seen day updates written (at most one per account per day).", m.last_seen_writes);

  // The store's group commit.
  p.single("sotto_relay_commit_batches_total", "counter", "Store transactions committed.",
           c.batches);
  p.single("sotto_relay_commit_ops_total", "counter",
           "Store operations carried by committed transactions.", c.ops);
  p.single("sotto_relay_commit_failed_batches_total", "counter",
           "Store transactions that did not commit (their operations answered SERVER_BUSY).",
           c.failed_batches);
  p.single("sotto_relay_commit_batch_ops_max", "gauge", "Largest batch committed so far.",
           c.max_batch_ops);
  p.family("sotto_relay_commit_batch_ops", "histogram", "Operations per committed transaction.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < CommitStats::kHistogramBuckets; ++i) {
    cumulative += c.batch_size_histogram[i];
    const bool last = i + 1 == CommitStats::kHistogramBuckets;
    std::string le = last ? "+Inf" : std::to_string(CommitStats::histogram_upper_bound(i));
    p.sample("sotto_relay_commit_batch_ops_bucket", cumulative, "le=\"" + le + "\"");
  }
  p.sample("sotto_relay_commit_batch_ops_sum", c.ops);
  p.sample("sotto_relay_commit_batch_ops_count", c.batches);
  p.single("sotto_relay_held_inserts_total", "counter",
           "Inserts of envelopes pushed to a live recipient that were held back (store.hold_ms).",
           c.held_inserts);
  p.single("sotto_relay_held_inserts_released_total", "counter",
           "Held inserts written after all: not acknowledged within the hold, or released "
           "early (shutdown, account deletion).",
           c.held_inserts_released);
  p.single("sotto_relay_commit_latency_seconds_total", "counter",
           "Time from BEGIN to COMMIT returned (fsync included), summed.",
           static_cast<double>(c.commit_latency_us_total) / 1e6);
  p.single("sotto_relay_commit_latency_seconds_max", "gauge", "Longest commit so far.",
           static_cast<double>(c.commit_latency_us_max) / 1e6);

  p.single("sotto_relay_store_up", "gauge", "1 when the store answered the gauges below.",
           store ? 1 : 0);
  if (store) {
    p.single("sotto_relay_accounts", "gauge", "Registered accounts.", store->accounts);
    p.single("sotto_relay_queue_messages", "gauge", "Envelopes queued (queue depth).",
             store->queued_messages);
    p.single("sotto_relay_queue_bytes", "gauge", "Ciphertext bytes queued.", store->queued_bytes);
    p.single("sotto_relay_one_time_prekeys", "gauge", "One-time prekeys held.",
             store->one_time_prekeys);
    p.single("sotto_relay_oldest_message_age_seconds", "gauge",
             "Age of the oldest queued envelope (to the hour; 0 when none).",
             store->oldest_message_age_seconds.value_or(0));
  }
  return p.str();
}

}  // namespace sotto::relay
