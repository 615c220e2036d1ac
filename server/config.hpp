// config.hpp — the relay's configuration: relay.toml in the data directory,
// with a default for every key, overridable by command-line flags.
//
// parse_config refuses unknown tables and keys, values of the wrong type and
// values out of range, with a message naming the key and the accepted range
// ("limits.max_frame: must be between 16384 and 65519, got 70000"). The
// metrics listener must be a loopback address. See docs/operator.md for the
// reference of every key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sotto::relay {

// HOST:PORT, with an IPv6 host in brackets ("[::1]:7443").
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};
// Parses HOST:PORT; the error names what is wrong.
[[nodiscard]] Result<HostPort, std::string> parse_host_port(std::string_view text);

enum class Synchronous { kFull, kNormal };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
std::string_view to_string(Synchronous s);
std::string_view to_string(LogLevel l);

struct StoreConfig {
  Synchronous synchronous = Synchronous::kFull;  // SQLite PRAGMA synchronous
  std::uint32_t retention_days = 30;             // queued messages older than this are purged
  // When > 0, overrides retention_days (tests and short-lived deployments).
  std::uint64_t retention_seconds = 0;
  std::uint32_t purge_interval_seconds = 600;  // how often the retention purge runs
  // The insert of an envelope pushed to a live recipient waits this long, so that the
  // recipient's Ack usually cancels it and it is never written (0: no hold). Bounded by
  // the envelopes and bytes held at once (beyond: inserted at once).
  std::uint32_t hold_ms = 50;
  std::uint64_t hold_max_envelopes = 10'000;
  std::uint64_t hold_max_bytes = 16ull << 20;
  // The retention in seconds in force: retention_seconds if set, else the days.
  std::uint64_t retention() const;
};

struct QuotaConfig {
  std::uint64_t mailbox_messages = 10'000;     // queued envelopes per account
  std::uint64_t mailbox_bytes = 256ull << 20;  // queued envelope bytes per account
  std::uint32_t one_time_prekeys = 1'000;      // stored one-time prekeys per account
};

struct LimitsConfig {
  std::size_t max_frame = 65519;                   // plaintext bytes of one frame
  std::size_t max_envelope = 60 * 1024;            // bytes of one sent envelope
  std::uint32_t max_connections = 4096;            // open connections in total
  std::uint32_t max_connections_per_address = 32;  // open connections per client address
  std::uint32_t handshake_timeout_ms = 10'000;     // accept -> handshake complete
  std::uint32_t frame_timeout_ms = 30'000;         // first byte of a frame -> its last byte
  std::uint32_t idle_timeout_ms = 300'000;         // no frame at all
  std::uint32_t write_queue_frames = 256;          // frames queued for a slow reader
};

struct RateLimitConfig {
  std::uint32_t requests_per_second_per_account = 50;   // token bucket refill
  std::uint32_t request_burst_per_account = 200;        // token bucket size
  std::uint32_t requests_per_second_per_address = 100;  // every connection from one address
  std::uint32_t request_burst_per_address = 400;
  std::uint32_t connections_per_minute_per_address = 120;  // new connections
};

struct RelayConfig {
  HostPort listen{"127.0.0.1", 7443};
  HostPort metrics_listen{"127.0.0.1", 9464};
  bool metrics_enabled = true;
  LogLevel log_level = LogLevel::kInfo;
  StoreConfig store;
  QuotaConfig quotas;
  LimitsConfig limits;
  RateLimitConfig rate_limits;
};

// Parses relay.toml text. `source` names the file in error messages.
[[nodiscard]] Result<RelayConfig, std::string> parse_config(std::string_view text,
                                                            std::string_view source = "relay.toml");
// Reads and parses a file.
[[nodiscard]] Result<RelayConfig, std::string> load_config(const std::filesystem::path& path);

// The relay.toml that `init` writes: every key present with its default and a
// comment, except `listen`, which is the one given.
std::string default_config_text(const HostPort& listen);

// Checks that the metrics address is loopback.
[[nodiscard]] Result<void, std::string> check_metrics_listen(const HostPort& hp);

[[nodiscard]] Result<LogLevel, std::string> parse_log_level(std::string_view text);

}  // namespace sotto::relay
