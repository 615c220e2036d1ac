// connection.hpp — one client connection: Noise IK (a device) or NK
// (anonymous: FetchBundle only) handshake as responder,
// then a reader coroutine (frames -> requests -> handlers) and a writer
// coroutine (responses and pushes -> encrypted frames), joined by a bounded
// queue, with a watchdog enforcing the handshake, frame and idle deadlines.
// Reading and writing keep separate deadlines (the watchdog fires at the
// earlier): a write never extends the handshake deadline or the deadline of
// a frame being read, and a frame never extends the handshake deadline.
//
// What fails (each closes this connection only, logged without ids or
// content): a first frame over kMaxFirstFrameBody or any frame over the
// transport maximum (checked on the 2-byte prefix, before the body is read),
// a failed handshake, too many frames that fail authentication (each one is
// dropped and counted), a deadline, a write queue that reaches its bound (a
// reader that stopped reading). A malformed request is answered MALFORMED, a
// request over the rate limits RATE_LIMITED with retry_after_ms, and the
// connection stays up.
//
// Ownership: the Hub (listener.cpp) holds a shared_ptr to each connection
// while it runs; store completions hold one until they have been re-posted to
// the connection's executor. Everything runs on one io_context thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <asio.hpp>

#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/noise.hpp"
#include "common/wire_codec.hpp"
#include "server/config.hpp"
#include "server/handlers.hpp"
#include "server/store.hpp"

namespace sotto::relay {

class Hub;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, Hub& hub);
  // Runs the connection to its end (spawned by the listener).
  asio::awaitable<void> run();
  // New mail for this connection's account: pull it from the store.
  void notify_mail();
  // An early envelope for this account (Hub::admitted): push it or pull.
  void deliver_live(Sequence seq, const Bytes& ciphertext);
  // Graceful shutdown: stop reading, finish answering, then close.
  void stop();
  const std::optional<AccountId>& account() const { return session_.account; }
  const std::string& peer_address() const { return peer_address_; }

 private:
  asio::awaitable<std::optional<Bytes>> read_frame(std::size_t max_body);
  asio::awaitable<bool> handshake();
  asio::awaitable<void> reader();
  asio::awaitable<void> writer();
  asio::awaitable<void> watchdog();
  void on_request(Bytes plaintext_frame);
  void on_result(HandlerResult result);
  void enqueue(Bytes frame);
  void pump_deliveries();
  void flush_live();
  // The reading side's deadline (handshake, frame or idle) and the writing
  // side's (frame, while a write is pending); the watchdog fires at the earlier.
  using TimePoint = asio::steady_timer::time_point;
  void set_read_deadline(TimePoint t);
  void set_write_deadline(TimePoint t);
  static TimePoint after_ms(std::uint32_t ms);
  void close();

  asio::ip::tcp::socket socket_;
  Hub& hub_;
  std::string peer_address_;
  asio::steady_timer deadline_;
  TimePoint read_deadline_ = TimePoint::max();
  TimePoint write_deadline_ = TimePoint::max();
  bool in_frame_ = false;  // between a frame's length prefix and its last byte
  asio::steady_timer wake_writer_;
  std::optional<noise::NoiseTransport> transport_;
  Session session_;
  std::deque<Bytes> queue_;  // plaintext frames waiting for the writer
  std::size_t in_flight_ = 0;
  Sequence pushed_up_to_ = 0;
  Push live_push_;  // early envelopes staged for the writer's next round
  std::size_t live_bytes_ = 0;
  bool mail_pending_ = false;
  bool reading_done_ = false;
  bool closed_ = false;
};

}  // namespace sotto::relay
