// test_metrics.cpp — the /metrics page is valid Prometheus text (every sample
// line is `name{labels} value` of a family announced by # TYPE), counters
// move, and the loopback HTTP/1.0 responder serves it (and refuses to listen
// anywhere but loopback).
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <asio.hpp>

#include "server/metrics.hpp"
#include "server/metrics_http.hpp"

using namespace sotto::relay;

namespace {

// Parses the page; fails the test on any line that is not a comment or a sample.
std::map<std::string, double> parse_page(const std::string& page) {
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? ([-+]?([0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?|\+Inf|NaN))$)");
  static const std::regex type_line(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$)");
  std::map<std::string, double> out;
  std::set<std::string> families;
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (std::regex_match(line, m, type_line)) {
      families.insert(m[1]);
      continue;
    }
    INFO("line: " << line);
    REQUIRE(std::regex_match(line, m, sample));
    std::string name = m[1];
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!families.count(family) && family.size() > std::strlen(suffix) &&
          family.compare(family.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        family = family.substr(0, family.size() - std::strlen(suffix));
    CHECK(families.count(family) == 1);
    out[name + (m[2].matched ? std::string(m[2]) : "")] = std::stod(m[5]);
  }
  return out;
}

}  // namespace

TEST_CASE("the metrics page parses and its counters move", "[metrics]") {
  Metrics m;
  CommitStats c;
  StoreStats s;
  s.queued_messages = 4;
  auto before = parse_page(render_metrics(m, c, s));
  CHECK(before.at("sotto_relay_sends_accepted_total") == 0);
  CHECK(before.at("sotto_relay_queue_messages") == 4);
  CHECK(before.at("sotto_relay_store_up") == 1);

  ++m.sends_accepted;
  ++m.sends_accepted;
  ++m.connections_total;
  m.connections_current = 1;
  m.count(m.frames, "send");
  m.count(m.frames, "send");
  m.count(m.rejects, "rate_limited");
  m.count(m.connections_refused, "max_connections_per_address");
  m.expiries = 7;
  c.batches = 3;
  c.ops = 5;
  c.batch_size_histogram[0] = 2;  // two batches of 1
  c.batch_size_histogram[2] = 1;  // one of 3..4
  c.commit_latency_us_total = 1500;
  c.held_inserts = 9;
  c.held_inserts_released = 2;
  auto after = parse_page(render_metrics(m, c, std::nullopt));
  CHECK(after.at("sotto_relay_sends_accepted_total") == 2);
  CHECK(after.at("sotto_relay_frames_total{type=\"send\"}") == 2);
  CHECK(after.at("sotto_relay_rejects_total{status=\"rate_limited\"}") == 1);
  CHECK(after.at("sotto_relay_connections_refused_total{reason=\"max_connections_per_address\"}") ==
        1);
  CHECK(after.at("sotto_relay_expiries_total") == 7);
  CHECK(after.at("sotto_relay_commit_batch_ops_bucket{le=\"1\"}") == 2);
  CHECK(after.at("sotto_relay_commit_batch_ops_bucket{le=\"4\"}") == 3);
  CHECK(after.at("sotto_relay_commit_batch_ops_bucket{le=\"+Inf\"}") == 3);
  CHECK(after.at("sotto_relay_commit_batch_ops_count") == 3);
  CHECK(after.at("sotto_relay_commit_latency_seconds_total") == Approx(0.0015));
  CHECK(after.at("sotto_relay_held_inserts_total") == 9);
  CHECK(after.at("sotto_relay_held_inserts_released_total") == 2);
  // Without the store's answer its gauges are left out and store_up says so.
  CHECK(after.at("sotto_relay_store_up") == 0);
  CHECK(after.count("sotto_relay_queue_messages") == 0);
}

TEST_CASE("the metrics responder serves GET /metrics on loopback only", "[metrics][http]") {
  asio::io_context io;
  asio::ip::tcp::acceptor refused(io);
  CHECK_FALSE(open_metrics_acceptor(refused, HostPort{"0.0.0.0", 0}).ok());

  asio::ip::tcp::acceptor acceptor(io);
  REQUIRE(open_metrics_acceptor(acceptor, HostPort{"127.0.0.1", 0}).ok());
  const auto port = acceptor.local_endpoint().port();
  int scrapes = 0;
  asio::co_spawn(io,
                 serve_metrics(acceptor,
                               [&scrapes] {
                                 ++scrapes;
                                 return std::string("sotto_relay_up 1\n");
                               }),
                 asio::detached);
  std::thread server([&io] { io.run(); });

  auto fetch = [port](const std::string& request) {
    asio::io_context client_io;
    asio::ip::tcp::socket s(client_io);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(request));
    std::string reply;
    std::error_code ec;
    asio::read(s, asio::dynamic_buffer(reply), ec);
    return reply;
  };
  auto ok = fetch("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
  CHECK(ok.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(ok.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(ok.find("\r\n\r\nsotto_relay_up 1\n") != std::string::npos);
  CHECK(fetch("GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0) == 0);
  CHECK(fetch("POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 405", 0) == 0);

  asio::post(io, [&acceptor] { acceptor.close(); });
  server.join();
  CHECK(scrapes == 1);
}
