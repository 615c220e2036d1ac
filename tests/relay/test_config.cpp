// test_config.cpp — relay.toml: defaults, the text `init` writes parses back
// to the defaults, and unknown keys, wrong types and out-of-range values are
// refused with a message naming the key.
#include <catch2/catch.hpp>

#include "server/config.hpp"

using namespace sotto::relay;

namespace {
std::string error_of(std::string_view text) {
  auto r = parse_config(text);
  REQUIRE_FALSE(r.ok());
  return r.error();
}
}  // namespace

TEST_CASE("an empty relay.toml gives the defaults", "[config]") {
  auto c = parse_config("");
  REQUIRE(c.ok());
  CHECK(c->listen == HostPort{"127.0.0.1", 7443});
  CHECK(c->store.synchronous == Synchronous::kFull);
  CHECK(c->store.retention_days == 30);
  CHECK(c->limits.max_frame == 65519);
  CHECK(c->metrics_listen == HostPort{"127.0.0.1", 9464});
}

TEST_CASE("the text init writes parses back to the defaults with its listen", "[config]") {
  HostPort listen{"0.0.0.0", 9000};
  auto c = parse_config(default_config_text(listen));
  REQUIRE(c.ok());
  CHECK(c->listen == listen);
  RelayConfig d;
  CHECK(c->quotas.mailbox_bytes == d.quotas.mailbox_bytes);
  CHECK(c->limits.idle_timeout_ms == d.limits.idle_timeout_ms);
  CHECK(c->rate_limits.request_burst_per_account == d.rate_limits.request_burst_per_account);
  CHECK(c->rate_limits.requests_per_second_per_address ==
        d.rate_limits.requests_per_second_per_address);
  CHECK(c->store.retention_seconds == 0);
  CHECK(c->store.purge_interval_seconds == d.store.purge_interval_seconds);
  CHECK(c->store.hold_ms == 50);
  CHECK(c->store.hold_max_envelopes == d.store.hold_max_envelopes);
  CHECK(c->store.hold_max_bytes == d.store.hold_max_bytes);
  // Every key of the schema appears in the text init writes.
  const auto text = default_config_text(listen);
  for (const char* key : {"retention_seconds", "purge_interval_seconds", "hold_ms",
                          "hold_max_envelopes", "hold_max_bytes", "requests_per_second_per_address",
                          "request_burst_per_address", "connections_per_minute_per_address"})
    CHECK(text.find(key) != std::string::npos);
}

TEST_CASE("values are read from their tables", "[config]") {
  auto c = parse_config(R"(
listen = "[::1]:8000"
log_level = "warn"
[store]
synchronous = "normal"
retention_days = 7
hold_ms = 0
hold_max_envelopes = 500
hold_max_bytes = 1048576
[limits]
max_frame = 20000
max_envelope = 2048
write_queue_frames = 8
[metrics]
enabled = false
listen = "10.0.0.1:1"
)");
  REQUIRE(c.ok());
  CHECK(c->listen == HostPort{"::1", 8000});
  CHECK(c->listen.to_string() == "[::1]:8000");
  CHECK(c->log_level == LogLevel::kWarn);
  CHECK(c->store.synchronous == Synchronous::kNormal);
  CHECK(c->store.retention_days == 7);
  CHECK(c->store.hold_ms == 0);  // no hold: every insert queued at once
  CHECK(c->store.hold_max_envelopes == 500);
  CHECK(c->store.hold_max_bytes == 1'048'576);
  CHECK(c->limits.max_frame == 20000);
  CHECK(c->limits.write_queue_frames == 8);
  // A non-loopback metrics address is tolerated only while metrics are off.
  CHECK_FALSE(c->metrics_enabled);
}

TEST_CASE("unknown keys and tables are errors naming them", "[config]") {
  CHECK(error_of("lisen = \"1.2.3.4:5\"") == "relay.toml: unknown key \"lisen\"");
  CHECK(error_of("[limits]\nmax_frames = 5") == "relay.toml: unknown key \"limits.max_frames\"");
  CHECK(error_of("[limit]\nmax_frame = 5") == "relay.toml: unknown table [limit]");
}

TEST_CASE("bad values are errors naming the key and the range", "[config]") {
  CHECK(error_of("[limits]\nmax_frame = 70000") ==
        "relay.toml: limits.max_frame: must be between 16384 and 65519, got 70000");
  CHECK(error_of("[limits]\nmax_frame = -1") ==
        "relay.toml: limits.max_frame: must be between 16384 and 65519, got -1");
  // Below the largest batch frame a client sends (protocol 70.2).
  CHECK(error_of("[limits]\nmax_frame = 16383") ==
        "relay.toml: limits.max_frame: must be between 16384 and 65519, got 16383");
  CHECK(error_of("[store]\nhold_ms = 1001") ==
        "relay.toml: store.hold_ms: must be between 0 and 1000, got 1001");
  CHECK(error_of("[store]\nhold_max_envelopes = 0") ==
        "relay.toml: store.hold_max_envelopes: must be between 1 and 1000000, got 0");
  CHECK(error_of("[store]\nretention_days = \"30\"") ==
        "relay.toml: store.retention_days: must be an integer");
  CHECK(error_of("[store]\nsynchronous = \"off\"") ==
        "relay.toml: store.synchronous: must be \"full\" or \"normal\", got \"off\"");
  CHECK(error_of("log_level = \"loud\"").find("log_level: must be one of") != std::string::npos);
  CHECK(error_of("listen = \"localhost\"").find("listen: expected HOST:PORT") != std::string::npos);
  CHECK(error_of("listen = \"h:0\"").find("port must be 1..65535") != std::string::npos);
  CHECK(error_of("[metrics]\nlisten = \"0.0.0.0:9464\"").find("loopback") != std::string::npos);
  CHECK(error_of("[metrics]\nenabled = 1") == "relay.toml: metrics.enabled: must be true or false");
}

TEST_CASE("cross-field rules hold", "[config]") {
  CHECK(error_of("[limits]\nmax_frame = 16384\nmax_envelope = 16300").find("max_envelope") !=
        std::string::npos);
  CHECK(error_of("[rate_limits]\nrequests_per_second_per_address = 10\n"
                 "request_burst_per_address = 5")
            .find("request_burst_per_address") != std::string::npos);
  CHECK(error_of("[rate_limits]\nrequests_per_second_per_account = 10\n"
                 "request_burst_per_account = 5")
            .find("request_burst_per_account") != std::string::npos);
}

TEST_CASE("TOML syntax errors carry the line", "[config]") {
  auto e = error_of("listen = \n");
  CHECK(e.rfind("relay.toml:1:", 0) == 0);
}

TEST_CASE("host:port parsing", "[config]") {
  CHECK(parse_host_port("127.0.0.1:7443").ok());
  CHECK(parse_host_port("example.org:1")->host == "example.org");
  CHECK_FALSE(parse_host_port("::1:7443").ok());
  CHECK_FALSE(parse_host_port("[::1]7443").ok());
  CHECK_FALSE(parse_host_port(":7443").ok());
  CHECK_FALSE(parse_host_port("h:65536").ok());
  CHECK_FALSE(parse_host_port("h:12x").ok());
}
