// config.cpp — relay.toml parsing (toml++), defaults and validation.
#include "server/config.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <vector>

#include <toml++/toml.h>
#include <asio/ip/address.hpp>
#include "common/wire_requests.hpp"

namespace sotto::relay {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::uint64_t StoreConfig::retention() const {
  return retention_seconds > 0 ? retention_seconds : std::uint64_t{retention_days} * 86'400;
}

Result<HostPort, std::string> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail(std::string("expected [IPV6]:PORT, got \"") + std::string(text) + "\"");
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail(std::string("expected HOST:PORT, got \"") + std::string(text) + "\"");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos)
      return fail(std::string("an IPv6 host needs brackets ([::1]:7443), got \"") +
                  std::string(text) + "\"");
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return fail(std::string("empty host in \"") + std::string(text) + "\"");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return fail(std::string("port must be 1..65535, got \"") + std::string(port_text) + "\"");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

std::string_view to_string(Synchronous s) {
  return s == Synchronous::kFull ? "full" : "normal";
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "info";
}

Result<LogLevel, std::string> parse_log_level(std::string_view text) {
  for (auto l : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                 LogLevel::kError, LogLevel::kOff})
    if (text == to_string(l)) return l;
  return fail("must be one of trace, debug, info, warn, error, off; got \"" + std::string(text) +
              "\"");
}

Result<void, std::string> check_metrics_listen(const HostPort& hp) {
  std::error_code ec;
  auto addr = asio::ip::make_address(hp.host, ec);
  if (ec || !addr.is_loopback())
    return fail("metrics must listen on a loopback address (127.0.0.1 or ::1), got \"" + hp.host +
                "\"");
  return {};
}

namespace {

// One key of the schema: its name and how to apply a TOML value to the config.
using Apply = std::function<Result<void, std::string>(const toml::node&)>;
struct Key {
  std::string_view name;
  Apply apply;
};
struct Table {
  std::string_view name;  // "" for the top level
  std::vector<Key> keys;
};

template <class T>
Key integer(std::string_view name, T& target, std::uint64_t min, std::uint64_t max) {
  return {name, [&target, min, max](const toml::node& n) -> Result<void, std::string> {
            const auto* v = n.as_integer();
            if (!v) return fail(std::string("must be an integer"));
            std::int64_t x = v->get();
            if (x < 0 || static_cast<std::uint64_t>(x) < min || static_cast<std::uint64_t>(x) > max)
              return fail("must be between " + std::to_string(min) + " and " + std::to_string(max) +
                          ", got " + std::to_string(x));
            target = static_cast<T>(x);
            return {};
          }};
}

Key string(std::string_view name, std::function<Result<void, std::string>(std::string_view)> f) {
  return {name, [f = std::move(f)](const toml::node& n) -> Result<void, std::string> {
            const auto* v = n.as_string();
            if (!v) return fail(std::string("must be a string"));
            return f(v->get());
          }};
}

Key boolean(std::string_view name, bool& target) {
  return {name, [&target](const toml::node& n) -> Result<void, std::string> {
            const auto* v = n.as_boolean();
            if (!v) return fail(std::string("must be true or false"));
            target = v->get();
            return {};
          }};
}

Key host_port(std::string_view name, HostPort& target) {
  return string(name, [&target](std::string_view s) -> Result<void, std::string> {
    SOTTO_TRY(target, parse_host_port(s));
    return {};
  });
}

std::vector<Table> schema(RelayConfig& c) {
  constexpr std::uint64_t kU32 = std::numeric_limits<std::uint32_t>::max();
  return {
      {"",
       {host_port("listen", c.listen),
        string("log_level",
               [&c](std::string_view s) -> Result<void, std::string> {
                 SOTTO_TRY(c.log_level, parse_log_level(s));
                 return {};
               })}},
      {"store",
       {string("synchronous",
               [&c](std::string_view s) -> Result<void, std::string> {
                 if (s == "full")
                   c.store.synchronous = Synchronous::kFull;
                 else if (s == "normal")
                   c.store.synchronous = Synchronous::kNormal;
                 else
                   return fail("must be \"full\" or \"normal\", got \"" + std::string(s) + "\"");
                 return {};
               }),
        integer("retention_days", c.store.retention_days, 1, 3650),
        integer("retention_seconds", c.store.retention_seconds, 0, 3650 * 86'400ull),
        integer("purge_interval_seconds", c.store.purge_interval_seconds, 1, 86'400),
        integer("hold_ms", c.store.hold_ms, 0, 1'000),
        integer("hold_max_envelopes", c.store.hold_max_envelopes, 1, 1'000'000),
        integer("hold_max_bytes", c.store.hold_max_bytes, 65'536, std::uint64_t{1} << 32)}},
      {"quotas",
       {integer("mailbox_messages", c.quotas.mailbox_messages, 1, 100'000'000),
        integer("mailbox_bytes", c.quotas.mailbox_bytes, 1024, std::uint64_t{1} << 40),
        integer("one_time_prekeys", c.quotas.one_time_prekeys, 1, 100'000)}},
      {"limits",
       // Never below a client's batch frames (protocol 70.2).
       {integer("max_frame", c.limits.max_frame, kMaxBatchFrame, 65519),
        integer("max_envelope", c.limits.max_envelope, 64, 65000),
        integer("max_connections", c.limits.max_connections, 1, 1'000'000),
        integer("max_connections_per_address", c.limits.max_connections_per_address, 1, 1'000'000),
        integer("handshake_timeout_ms", c.limits.handshake_timeout_ms, 100, 600'000),
        integer("frame_timeout_ms", c.limits.frame_timeout_ms, 100, 600'000),
        integer("idle_timeout_ms", c.limits.idle_timeout_ms, 1'000, 86'400'000),
        integer("write_queue_frames", c.limits.write_queue_frames, 1, 65'536)}},
      {"rate_limits",
       {integer("requests_per_second_per_account", c.rate_limits.requests_per_second_per_account, 1,
                kU32),
        integer("request_burst_per_account", c.rate_limits.request_burst_per_account, 1, kU32),
        integer("requests_per_second_per_address", c.rate_limits.requests_per_second_per_address, 1,
                kU32),
        integer("request_burst_per_address", c.rate_limits.request_burst_per_address, 1, kU32),
        integer("connections_per_minute_per_address",
                c.rate_limits.connections_per_minute_per_address, 1, kU32)}},
      {"metrics", {boolean("enabled", c.metrics_enabled), host_port("listen", c.metrics_listen)}},
  };
}

std::string qualified(std::string_view table, std::string_view key) {
  return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

Result<void, std::string> apply_table(const toml::table& t, const Table& spec,
                                      const std::vector<Table>& all, std::string_view source) {
  for (auto&& [k, v] : t) {
    std::string_view name = k.str();
    if (spec.name.empty() && v.is_table()) {
      bool known = false;
      for (const auto& sub : all) {
        if (!sub.name.empty() && sub.name == name) {
          SOTTO_TRY_VOID(apply_table(*v.as_table(), sub, all, source));
          known = true;
        }
      }
      if (!known) return fail(std::string(source) + ": unknown table [" + std::string(name) + "]");
      continue;
    }
    const Key* key = nullptr;
    for (const auto& candidate : spec.keys)
      if (candidate.name == name) key = &candidate;
    if (!key)
      return fail(std::string(source) + ": unknown key \"" + qualified(spec.name, name) + "\"");
    auto applied = key->apply(v);
    if (!applied)
      return fail(std::string(source) + ": " + qualified(spec.name, name) + ": " + applied.error());
  }
  return {};
}

}  // namespace

Result<RelayConfig, std::string> parse_config(std::string_view text, std::string_view source) {
  RelayConfig config;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
       << e.description();
    return fail(os.str());
  }
  auto tables = schema(config);
  SOTTO_TRY_VOID(apply_table(root, tables.front(), tables, source));
  // Cross-field rules.
  if (config.limits.max_envelope + 128 > config.limits.max_frame)
    return fail(std::string(source) +
                ": limits.max_envelope must leave 128 bytes of limits.max_frame for the "
                "request around it");
  if (config.rate_limits.request_burst_per_account <
      config.rate_limits.requests_per_second_per_account)
    return fail(std::string(source) +
                ": rate_limits.request_burst_per_account must be at least "
                "rate_limits.requests_per_second_per_account");
  if (config.rate_limits.request_burst_per_address <
      config.rate_limits.requests_per_second_per_address)
    return fail(std::string(source) +
                ": rate_limits.request_burst_per_address must be at least "
                "rate_limits.requests_per_second_per_address");
  if (config.metrics_enabled) {
    auto ok = check_metrics_listen(config.metrics_listen);
    if (!ok) return fail(std::string(source) + ": metrics.listen: " + ok.error());
  }
  return config;
}

Result<RelayConfig, std::string> load_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

std::string default_config_text(const HostPort& listen) {
  RelayConfig d;
  std::ostringstream o;
  o << "# relay.toml — sotto-relay configuration (docs/operator.md has the reference).\n"
    << "# Every key is optional; the values shown are the defaults.\n\n"
    << "listen = \"" << listen.to_string() << "\"\n"
    << "log_level = \"" << to_string(d.log_level) << "\"  # trace, debug, info, warn, error, off\n"
    << "\n[store]\n"
    << "synchronous = \"" << to_string(d.store.synchronous) << "\"  # full or normal\n"
    << "retention_days = " << d.store.retention_days << "\n"
    << "# > 0 overrides retention_days; for tests and short-lived deployments\n"
    << "retention_seconds = " << d.store.retention_seconds << "\n"
    << "purge_interval_seconds = " << d.store.purge_interval_seconds << "\n"
    << "# an envelope pushed to a live recipient is written after this, unless acknowledged\n"
    << "hold_ms = " << d.store.hold_ms << "  # 0: no hold\n"
    << "hold_max_envelopes = " << d.store.hold_max_envelopes << "\n"
    << "hold_max_bytes = " << d.store.hold_max_bytes << "\n"
    << "\n[quotas]\n"
    << "mailbox_messages = " << d.quotas.mailbox_messages << "\n"
    << "mailbox_bytes = " << d.quotas.mailbox_bytes << "\n"
    << "one_time_prekeys = " << d.quotas.one_time_prekeys << "\n"
    << "\n[limits]\n"
    << "max_frame = " << d.limits.max_frame << "\n"
    << "max_envelope = " << d.limits.max_envelope << "\n"
    << "max_connections = " << d.limits.max_connections << "\n"
    << "max_connections_per_address = " << d.limits.max_connections_per_address << "\n"
    << "handshake_timeout_ms = " << d.limits.handshake_timeout_ms << "\n"
    << "frame_timeout_ms = " << d.limits.frame_timeout_ms << "\n"
    << "idle_timeout_ms = " << d.limits.idle_timeout_ms << "\n"
    << "write_queue_frames = " << d.limits.write_queue_frames << "\n"
    << "\n[rate_limits]\n"
    << "requests_per_second_per_account = " << d.rate_limits.requests_per_second_per_account << "\n"
    << "request_burst_per_account = " << d.rate_limits.request_burst_per_account << "\n"
    << "requests_per_second_per_address = " << d.rate_limits.requests_per_second_per_address << "\n"
    << "request_burst_per_address = " << d.rate_limits.request_burst_per_address << "\n"
    << "connections_per_minute_per_address = " << d.rate_limits.connections_per_minute_per_address
    << "\n"
    << "\n[metrics]  # Prometheus text format, loopback only\n"
    << "enabled = " << (d.metrics_enabled ? "true" : "false") << "\n"
    << "listen = \"" << d.metrics_listen.to_string() << "\"\n";
  return o.str();
}

}  // namespace sotto::relay
