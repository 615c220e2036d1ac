// test_listener.cpp — the relay's network edge in-process: serve() on a
// loopback port, driven by a client built on the core over a real socket.
// An anonymous (NK) connection completes its handshake, may fetch bundles
// (NOT_FOUND for an unknown account) and is refused everything else
// (UNAUTHORISED); past the per-address burst it is answered RATE_LIMITED with
// retry_after_ms; SIGTERM stops serve() cleanly.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <deque>
#include <thread>

#include <asio.hpp>

#include "common/frame.hpp"
#include "common/identity.hpp"
#include "common/noise.hpp"
#include "common/prekeys.hpp"
#include "common/relay_auth.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"
#include "server/listener.hpp"
#include "server/sqlite_store.hpp"
#include "support/server_messages.hpp"

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
  // NK when `device` is absent; IK with the device hello otherwise.
  Client(std::uint16_t port, const X25519PublicKey& relay,
         std::optional<X25519KeyPair> device = std::nullopt, Bytes hello = {})
      : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    const bool ik = device.has_value();
    auto hs = ik ? noise::sotto_ik_initiator(std::move(*device), relay, rng_)
                 : noise::sotto_nk_initiator(relay, rng_);
    REQUIRE(hs.ok());
    auto m1 = hs->write_message(hello);
    REQUIRE(m1.ok());
    write_frame(
        noise::first_frame_body(ik ? noise::HandshakeType::kIK : noise::HandshakeType::kNK, *m1));
    auto m2 = read_frame();
    REQUIRE(hs->read_message(m2).ok());
    std::copy(hs->handshake_hash().bytes.begin(), hs->handshake_hash().bytes.end(), h.begin());
    auto t = hs->split();
    REQUIRE(t.ok());
    transport_.emplace(std::move(*t));
  }

  std::array<std::uint8_t, 64> h{};  // the handshake hash (channel binding)

  void send_request(std::uint64_t id, Request request) {
    auto ct = transport_->encrypt(encode_client_request(ClientRequest{id, std::move(request)}));
    REQUIRE(ct.ok());
    write_frame(*ct);
  }
  // The next message (the answers of a Responses frame one by one).
  ServerMessage next() {
    if (unread_.empty()) {
      auto pt = transport_->decrypt(read_frame());
      REQUIRE(pt.ok());
      auto msg = decode_server_frame(pt->view(), CodecLimits{});
      REQUIRE(msg.ok());
      test::unbatch(std::move(*msg), unread_);
    }
    auto m = std::move(unread_.front());
    unread_.pop_front();
    return m;
  }

  // Sends a request and returns its response (pushes in between are skipped).
  Response call(std::uint64_t id, Request request) {
    send_request(id, std::move(request));
    for (;;) {
      auto m = next();
      if (auto* r = std::get_if<Response>(&m)) return *r;
    }
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
  std::deque<ServerMessage> unread_;  // decoded, not yet returned by next()
};

AccountId account_id_of_bytes(const Ed25519PublicKey& k) {
  AccountId id{};
  std::copy(k.view().begin(), k.view().end(), id.begin());
  return id;
}

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

TEST_CASE("a device registers, receives its mail in order, acks, and gets the rest again",
          "[listener][ik]") {
  std::string tmpl = (fs::temp_directory_path() / "sotto-listener-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  SqliteStoreOptions o;
  o.path = (dir / "relay.db").string();
  auto store = std::move(SqliteStore::open(o)).value();
  RelayConfig config;
  config.listen = HostPort{"127.0.0.1", free_port()};
  config.metrics_enabled = false;
  SystemRng rng;
  auto key = crypto::x25519_generate(rng);
  const X25519PublicKey relay_public = key.public_key;
  std::optional<Result<void, std::string>> served;
  std::thread server([&] { served.emplace(serve(config, std::move(key), *store)); });

  auto ik = generate_identity(rng);
  auto tk = crypto::x25519_generate(rng);
  const Bytes hello = relay_auth::encode_device_hello({ik.public_key, 4});
  auto connect = [&] {
    std::unique_ptr<Client> c;
    for (int i = 0; i < 100 && !c; ++i) {
      try {
        c = std::make_unique<Client>(config.listen.port, relay_public,
                                     crypto::x25519_from_secret(tk.secret.clone()), hello);
      } catch (const std::system_error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    REQUIRE(c);
    return c;
  };

  {
    auto cp = connect();
    Client& c = *cp;
    RegisterRequest r;
    r.identity_key = ik.public_key;
    r.device_id = 4;
    r.transport_key = tk.public_key;
    r.transport_key_signature = relay_auth::sign_transport_key(ik, tk.public_key, 4);
    const auto now = static_cast<std::uint64_t>(std::time(nullptr));
    r.signed_prekey = encode_signed_prekey(generate_signed_prekey(ik, 1, now, rng).public_key);
    r.proof_of_possession =
        relay_auth::sign_registration(ik, relay_auth::HandshakeHashView(c.h), tk.public_key, 4);
    auto reg = c.call(1, r);
    REQUIRE(reg.status == Status::kOk);
    // Three envelopes to itself: each ACCEPTED, then pushed in order on this connection.
    int accepted = 0;
    std::vector<std::uint64_t> pushed;
    for (std::uint8_t i = 1; i <= 3; ++i)
      c.send_request(10 + i, SendRequest{ik.public_key, Bytes(5, i)});
    while (accepted < 3 || pushed.size() < 3) {
      auto m = c.next();
      if (auto* resp = std::get_if<Response>(&m)) {
        CHECK(resp->status == Status::kAccepted);
        ++accepted;
      } else {
        for (const auto& d : std::get<Push>(m).deliveries) {
          pushed.push_back(d.sequence);
          CHECK(d.envelope == Bytes(5, static_cast<std::uint8_t>(d.sequence)));
        }
      }
    }
    CHECK(pushed == std::vector<std::uint64_t>{1, 2, 3});
    CHECK(c.call(20, AckRequest{{1, 2}}).status == Status::kOk);
  }
  {
    // A new connection is authenticated at the handshake and gets what was not
    // acknowledged once its first transport message authenticated (key
    // confirmation, protocol 70.7): the Push comes before that request's answer.
    auto cp = connect();
    Client& c = *cp;
    c.send_request(21, GetPreKeyCountRequest{});
    auto m = c.next();
    REQUIRE(std::holds_alternative<Push>(m));
    const auto& d = std::get<Push>(m).deliveries;
    REQUIRE(d.size() == 1);
    CHECK(d[0].sequence == 3);
    auto answer = c.next();
    REQUIRE(std::holds_alternative<Response>(answer));
    CHECK(std::get<Response>(answer).status == Status::kOk);
  }
  auto rec = store->get_account(account_id_of_bytes(ik.public_key));
  REQUIRE(rec.ok());
  CHECK(rec->keys.device_id == 4);
  CHECK(rec->last_seen_day == static_cast<std::uint64_t>(std::time(nullptr)) / 86'400);

  std::raise(SIGTERM);
  server.join();
  REQUIRE(served);
  CHECK(served->ok());
  store->close();
  fs::remove_all(dir);
}
