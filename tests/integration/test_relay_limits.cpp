// test_relay_limits.cpp — the relay's robustness limits as a client meets
// them (issue 3, "Robustness"): the handshake deadline closes a silent
// connection, the idle deadline closes a connection that sends nothing, and
// the per-address connection limit refuses a connection before its handshake
// (the client reports it as a failed handshake naming the connection limits).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

TEST_CASE("a connection that never handshakes is closed at the handshake deadline",
          "[integration][limits]") {
  auto relay = RelayProcess::create({{"limits", "handshake_timeout_ms", "200"}});
  REQUIRE(relay.ok());
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(relay->address().port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  // Send nothing: the relay closes the connection (end of stream) without a byte.
  const auto start = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, static_cast<int>(kTimeout.count())) == 1);
  char byte = 0;
  CHECK(::recv(fd, &byte, 1, 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  ::close(fd);
}

TEST_CASE("a connection idle past idle_timeout_ms is closed", "[integration][limits]") {
  auto relay = RelayProcess::create({{"limits", "idle_timeout_ms", "1000"}});
  REQUIRE(relay.ok());
  Device alice;
  auto a = alice.connect_registered(*relay);
  // Nothing sent and nothing to deliver: the relay hangs up after about a second.
  auto d = a.wait_delivery(kTimeout);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ClientErrorKind::kClosed);
  CHECK_FALSE(a.is_open());
  // A new connection is served (and still authenticated).
  auto again = alice.connect(*relay);
  CHECK(must(again.prekey_count()) == 3);
}

TEST_CASE("connections over the per-address limit are refused before the handshake",
          "[integration][limits]") {
  auto relay = RelayProcess::create({{"limits", "max_connections_per_address", "2"}});
  REQUIRE(relay.ok());
  Device alice;
  auto c1 = alice.connect(*relay);
  auto c2 = alice.connect(*relay);
  auto c3 = alice.try_connect(*relay);
  REQUIRE_FALSE(c3.ok());
  CHECK(c3.error().kind == ClientErrorKind::kHandshakeFailed);
  CHECK_THAT(c3.error().message, Catch::Contains("connection limits"));
  // Closing one frees its slot once the relay has seen it go.
  c1.close();
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  auto c4 = alice.try_connect(*relay);
  while (!c4.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    c4 = alice.try_connect(*relay);
  }
  CHECK(c4.ok());
}
