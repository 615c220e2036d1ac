// sotto_load.hpp — the relay load benchmark's Sotto clients: many device
// connections (Noise IK, docs/protocol.md section 60 and 70-relay-protocol.md)
// driven by callbacks on one io_context, so one thread can hold hundreds of
// busy connections or ten thousand idle ones. client/relay_client.hpp runs one
// blocking io_context per connection, which cannot; this is built from the
// same core pieces (common/noise*, frame, wire_codec, relay_auth).
//
//   SottoFleet fleet(address, 64 * 1024);
//   fleet.connect_all(accounts, Setup::kRegister, 64, 120s);   // handshake + Register
//   auto target = make_sotto_target(address, pairs);           // a LoadTarget
//
// A DeviceConn coalesces every request made in one turn of the event loop, or
// while a write is in flight, into the next write (a posted flush) as one frame
// (a ClientBatch of up to kMaxBatch requests, as the real client's submit_all
// does), and reads with one buffer of the size given. Register proves possession exactly as
// client/relay_client.cpp does (Sign_IK over the handshake hash), so the relay authenticates later
// connections of the same account at the handshake.
//
// What fails: a connection that closes or fails its handshake or whose
// request is refused makes connect_all (or the target) report an error naming
// the status; the load target retries SERVER_BUSY and RATE_LIMITED sends and
// counts them as errors. Ownership: a fleet owns its io_context and its
// connections; a target owns its fleet. Single-threaded.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "bench/load_common.hpp"
#include "common/crypto.hpp"
#include "common/frame.hpp"
#include "common/identity.hpp"
#include "common/noise.hpp"
#include "common/relay_address.hpp"
#include "common/rng.hpp"
#include "common/wire_codec.hpp"

namespace sotto::bench {

// A device's keys as the benchmark needs them (private halves kept in memory
// for the run only).
struct Account {
  IdentityKeyPair identity;
  X25519KeyPair transport;
  Bytes signed_prekey;  // encode_signed_prekey of a fresh signed prekey
};
std::vector<Account> make_accounts(std::size_t n, Rng& rng);

class DeviceConn : public std::enable_shared_from_this<DeviceConn> {
 public:
  using OnResponse = std::function<void(relay::Response&)>;
  using OnPush = std::function<void(relay::Push&)>;

  DeviceConn(asio::io_context& io, std::size_t read_buffer);
  // TCP connect, IK message 1 (with the device hello), message 2, Split();
  // `ready` runs once, with an error message or nothing.
  void start(const RelayAddress& address, const Account& account, Rng& rng,
             std::function<void(std::optional<std::string>)> ready);
  // Queues one request for the next write; returns its id.
  std::uint64_t request(relay::Request r);
  void close();

  OnResponse on_response;
  OnPush on_push;
  // After the frames of one read have been handed to on_response/on_push.
  std::function<void()> on_read_done;
  std::function<void(std::string)> on_failure;  // after the handshake
  const std::array<std::uint8_t, 64>& handshake_hash() const { return hash_; }
  bool open() const { return open_; }

 private:
  void read();
  void flush();
  bool seal_staged();
  void failed(std::string why);
  void on_frame(Bytes frame);

  asio::ip::tcp::socket socket_;
  std::optional<noise::NoiseHandshake> handshake_;
  std::optional<noise::NoiseTransport> transport_;
  std::function<void(std::optional<std::string>)> ready_;
  FrameDecoder decoder_{kMaxFrameBody};
  relay::CodecLimits limits_;
  Bytes read_buffer_;
  std::vector<relay::ClientRequest> staged_;  // requests for the next write's frames
  Bytes pending_;                             // frames queued for the next write
  Bytes writing_;                             // the write in progress
  bool write_active_ = false;
  bool flush_posted_ = false;  // a flush is posted for the end of this turn
  bool open_ = false;
  std::uint64_t next_id_ = 1;
  std::array<std::uint8_t, 64> hash_{};
};

enum class Setup {
  kRegister,  // Register (authenticates the connection)
  kConfirm,   // GetPreKeyCount: OK only on a connection authenticated at the handshake
};

class SottoFleet {
 public:
  SottoFleet(RelayAddress address, std::size_t read_buffer);
  ~SottoFleet();
  SottoFleet(const SottoFleet&) = delete;
  SottoFleet& operator=(const SottoFleet&) = delete;

  // One connection per account, at most `parallel` being set up at once.
  Result<void, std::string> connect_all(const std::vector<Account>& accounts, Setup setup,
                                        std::size_t parallel, std::chrono::seconds timeout);
  // Connections that are still open.
  std::size_t open_count() const;
  void close_all();
  asio::io_context& io() { return io_; }
  std::vector<std::shared_ptr<DeviceConn>>& conns() { return conns_; }

 private:
  RelayAddress address_;
  std::size_t read_buffer_;
  asio::io_context io_{1};
  SystemRng rng_;
  std::vector<std::shared_ptr<DeviceConn>> conns_;
};

// `pairs` senders and `pairs` receivers, registered; sender i sends to receiver i.
Result<std::unique_ptr<LoadTarget>, std::string> make_sotto_target(const RelayAddress& address,
                                                                   std::size_t pairs);

}  // namespace sotto::bench
