// test_listener.cpp — the relay's network edge in-process: serve() on a
// loopback port, driven by a client built on the core over a real socket.
// An anonymous (NK) connection completes its handshake, may fetch bundles
// (NOT_FOUND for an unknown account) and is refused everything else
// (UNAUTHORISED); past the per-address burst it is answered RATE_LIMITED with
// retry_after_ms; SIGTERM stops serve() cleanly.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <asio.hpp>

#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"
#include "server/listener.hpp"
#include "server/sqlite_store.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;

namespace {

std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// A blocking Noise client over one TCP socket.
class Client {
 public:
  Client(std::uint16_t port, const X25519PublicKey& relay) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    auto hs = noise::sotto_nk_initiator(relay, rng_);
    REQUIRE(hs.ok());
    auto m1 = hs->write_message({});
    REQUIRE(m1.ok());
    write_frame(noise::first_frame_body(noise::HandshakeType::kNK, *m1));
    auto m2 = read_frame();
    REQUIRE(hs->read_message(m2).ok());
    auto t = hs->split();
    REQUIRE(t.ok());
    transport_.emplace(std::move(*t));
  }

  Response call(std::uint64_t id, Request request) {
    auto ct = transport_->encrypt(encode_client_request(ClientRequest{id, std::move(request)}));
    REQUIRE(ct.ok());
    write_frame(*ct);
    auto pt = transport_->decrypt(read_frame());
    REQUIRE(pt.ok());
    auto msg = decode_server_frame(pt->view(), CodecLimits{});
    REQUIRE(msg.ok());
    REQUIRE(std::holds_alternative<Response>(*msg));
    return std::get<Response>(*msg);
  }

 private:
  void write_frame(ByteView body) {
    auto f = encode_frame(body);
    REQUIRE(f.ok());
    asio::write(socket_, asio::buffer(*f));
  }
  Bytes read_frame() {
    std::uint8_t len[2];
    asio::read(socket_, asio::buffer(len));
    Bytes body(get_u16be(len));
    asio::read(socket_, asio::buffer(body));
    return body;
  }

  SystemRng rng_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::optional<noise::NoiseTransport> transport_;
};

}  // namespace

TEST_CASE("an anonymous connection may fetch bundles only, and is rate limited", "[listener][nk]") {
  std::string tmpl = (fs::temp_directory_path() / "sotto-listener-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  SqliteStoreOptions o;
  o.path = (dir / "relay.db").string();
  auto store = std::move(SqliteStore::open(o)).value();

  RelayConfig config;
  config.listen = HostPort{"127.0.0.1", free_port()};
  config.metrics_enabled = false;
  config.rate_limits.requests_per_second_per_address = 1;
  config.rate_limits.request_burst_per_address = 3;
  SystemRng rng;
  auto key = crypto::x25519_generate(rng);
  const X25519PublicKey relay_public = key.public_key;

  std::optional<Result<void, std::string>> served;
  std::thread server([&] { served.emplace(serve(config, std::move(key), *store)); });
  // Wait for the listener.
  std::optional<Client> client;
  for (int i = 0; i < 100 && !client; ++i) {
    try {
      client.emplace(config.listen.port, relay_public);
    } catch (const std::system_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  REQUIRE(client);

  Bytes unknown(32, 0x11);
  auto r1 = client->call(1, FetchBundleRequest{*Ed25519PublicKey::from(unknown)});
  CHECK(r1.request_id == 1);
  CHECK(r1.status == Status::kNotFound);
  auto r2 = client->call(2, GetPreKeyCountRequest{});
  CHECK(r2.status == Status::kUnauthorised);
  auto r3 = client->call(3, SendRequest{*Ed25519PublicKey::from(unknown), Bytes(8, 1)});
  CHECK(r3.status == Status::kUnauthorised);
  // The burst of 3 is spent: the 4th request waits for a token (1 per second).
  auto r4 = client->call(4, GetPreKeyCountRequest{});
  CHECK(r4.status == Status::kRateLimited);
  REQUIRE(r4.retry_after_ms);
  CHECK(*r4.retry_after_ms >= 1);
  CHECK(*r4.retry_after_ms <= 1000);

  std::raise(SIGTERM);
  server.join();
  REQUIRE(served);
  CHECK(served->ok());
  store->close();
  fs::remove_all(dir);
}
