// test_connection.cpp — one relay Connection in-process, on a real loopback
// socket, driven by a blocking Noise NK client: an idle connection holds no
// input or output storage and no write in progress (its writer exists only while there
// is output), one entry in the hub's deadline sweep and nothing else; a
// request is answered and the writer stops again; the sweep closes the
// connection at its idle deadline (not before); and once it is gone nothing
// is left pending on the io_context.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include <asio.hpp>

#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"
#include "server/connection.hpp"
#include "server/hub.hpp"
#include "server/sqlite_store.hpp"

using namespace sotto;
using namespace sotto::relay;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A blocking anonymous (NK) client over one TCP socket.
class NkClient {
 public:
  NkClient(std::uint16_t port, const X25519PublicKey& relay) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    auto hs = noise::sotto_nk_initiator(relay, rng_);
    REQUIRE(hs.ok());
    auto m1 = hs->write_message({});
    REQUIRE(m1.ok());
    write_frame(noise::first_frame_body(noise::HandshakeType::kNK, *m1));
    auto m2 = read_frame();
    REQUIRE(m2);
    REQUIRE(hs->read_message(*m2).ok());
    auto t = hs->split();
    REQUIRE(t.ok());
    transport_.emplace(std::move(*t));
  }

  Response call(std::uint64_t id, Request request) {
    auto ct = transport_->encrypt(encode_client_request(ClientRequest{id, std::move(request)}));
    REQUIRE(ct.ok());
    write_frame(*ct);
    auto frame = read_frame();
    REQUIRE(frame);
    auto pt = transport_->decrypt(*frame);
    REQUIRE(pt.ok());
    auto msg = decode_server_frame(pt->view(), CodecLimits{});
    REQUIRE(msg.ok());
    REQUIRE(std::holds_alternative<Response>(*msg));
    return std::get<Response>(*msg);
  }

  // True when the relay closed the connection (end of stream or reset).
  bool read_until_closed() {
    std::uint8_t b[1];
    std::error_code ec;
    asio::read(socket_, asio::buffer(b), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  void write_frame(ByteView body) {
    auto f = encode_frame(body);
    REQUIRE(f.ok());
    asio::write(socket_, asio::buffer(*f));
  }
  std::optional<Bytes> read_frame() {
    std::uint8_t len[2];
    std::error_code ec;
    asio::read(socket_, asio::buffer(len), ec);
    if (ec) return std::nullopt;
    Bytes body(get_u16be(len));
    asio::read(socket_, asio::buffer(body), ec);
    if (ec) return std::nullopt;
    return body;
  }

  SystemRng rng_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::optional<noise::NoiseTransport> transport_;
};

struct Snapshot {
  bool writing = false;
  std::size_t output_bytes = 0;
  std::size_t input_bytes = 0;
  std::size_t deadlines = 0;
};

}  // namespace

TEST_CASE("an idle connection holds no output, its writer runs only while there is output",
          "[connection]") {
  std::string tmpl = (fs::temp_directory_path() / "sotto-connection-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  SqliteStoreOptions o;
  o.path = (dir / "relay.db").string();
  auto store = std::move(SqliteStore::open(o)).value();

  RelayConfig config;
  config.metrics_enabled = false;
  config.limits.idle_timeout_ms = 600;
  SystemRng rng;
  FakeClock clock;
  auto key = crypto::x25519_generate(rng);
  const X25519PublicKey relay_public = key.public_key;

  asio::io_context io(1);
  Hub hub(io, config, std::move(key), *store, clock, rng);
  Connection::Acceptor acceptor(io.get_executor(), {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::shared_ptr<Connection> conn;
  acceptor.async_accept([&](const std::error_code& ec, Connection::Socket socket) {
    REQUIRE_FALSE(ec);
    REQUIRE(hub.admit("127.0.0.1") == Admit::kOk);
    conn = std::make_shared<Connection>(std::move(socket), hub);
    hub.add(conn);
    conn->start();
  });
  // The accept, then the connection's own operations, are all that keep run() going.
  std::promise<void> ran;
  std::thread server([&] {
    io.run_for(60s);
    ran.set_value();
  });
  auto snapshot = [&] {
    std::promise<Snapshot> p;
    asio::post(io, [&] {
      p.set_value(Snapshot{conn->writing(), conn->output_bytes_held(), conn->input_bytes_held(),
                           hub.deadlines().size()});
    });
    return p.get_future().get();
  };
  // The client can read what was written before the relay's thread has run the
  // write's completion: the state once that has run (at most 5 s later).
  auto settled = [&] {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    Snapshot s = snapshot();
    while (s.writing && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
      s = snapshot();
    }
    return s;
  };

  NkClient client(port, relay_public);
  // Handshake done, message 2 written: nothing held for output, one deadline.
  auto idle = settled();
  CHECK_FALSE(idle.writing);
  CHECK(idle.output_bytes == 0);
  CHECK(idle.input_bytes == 0);
  CHECK(idle.deadlines == 1);

  // A request starts the writer; once answered it has stopped again.
  auto r = client.call(1, FetchBundleRequest{*Ed25519PublicKey::from(Bytes(32, 0x11))});
  CHECK(r.status == Status::kNotFound);
  const auto answered = std::chrono::steady_clock::now();
  auto after = settled();
  CHECK_FALSE(after.writing);
  CHECK(after.output_bytes == 0);
  CHECK(after.input_bytes == 0);
  CHECK(after.deadlines == 1);

  // The sweep closes it at its idle deadline (600 ms after the answer was written).
  CHECK(client.read_until_closed());
  const auto waited = std::chrono::steady_clock::now() - answered;
  CHECK(waited >= 400ms);
  CHECK(waited < 10s);

  // Gone from the hub and the sweep: nothing is left pending, run() returns.
  REQUIRE(ran.get_future().wait_for(30s) == std::future_status::ready);
  server.join();
  CHECK(io.stopped());
  CHECK(hub.deadlines().size() == 0);
  CHECK(hub.metrics().connections_current == 0);
  CHECK(hub.metrics().handshakes_failed == 0);
  conn.reset();
  store->close();
  fs::remove_all(dir);
}
