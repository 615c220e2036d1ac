// connection.hpp — one client connection: Noise IK (a device) or NK
// (anonymous: FetchBundle only) handshake as responder, then requests
// (frames -> requests -> handlers) and their answers and pushes (-> encrypted
// frames), with the handshake, frame and idle deadlines.
//
// An idle connection costs almost nothing: no coroutine, no timer and no
// buffer. It waits for readability (one pending socket wait); when the socket
// is readable it reads what is there into a buffer shared by every connection
// of the thread and handles each whole frame at once; only a frame that
// arrives split is kept (FrameAssembler), and, when several frames arrive
// at once, the bytes after those handled in this turn (up to 32 request frames
// per turn of the event loop, fewer when the write queue holds more than an
// eighth of its bound: then the answers and the writes go first; a batch frame
// counts its requests). Answers to a client that sends version-2 frames are
// staged and leave together as one Responses frame per write (protocol 70.2).
// Output is written by a
// callback chain that exists only while there is output: queued frames (WriteQueue, allocated on
// first use) are encrypted and written with one call, and the write buffer is freed when the write
// completes. A write starts once per turn of the event loop (a posted flush), so the
// answers and pushes produced by the handlers that ran in between share one system call. Deadlines
// live in the hub's DeadlineSweep. Reading and writing keep separate deadlines (the sweep fires at
// the earlier): a write never extends the handshake deadline or the deadline of a frame being read,
// and a frame never extends the handshake deadline.
//
// What fails (each closes this connection only, logged without ids or
// content): a first frame over kMaxFirstFrameBody or any frame over the
// transport maximum (checked on the 2-byte prefix, before the body is taken),
// a failed handshake, too many frames that fail authentication (each one is
// dropped and counted), a deadline, a write queue that reaches its bound (a
// reader that stopped reading). A malformed request is answered MALFORMED, a
// request over the rate limits RATE_LIMITED with retry_after_ms, and the
// connection stays up. End of stream (or a refused frame after the
// handshake) stops reading; the answers already owed are written, then the
// connection closes.
//
// Ownership: the Hub (listener.cpp) holds a shared_ptr to each connection
// until it has closed; every pending socket operation and every store
// completion holds one until it has run on the connection's executor.
// Everything runs on one io_context thread.
#pragma once

#include <cstdint>
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
#include "server/deadline_sweep.hpp"
#include "server/frame_assembler.hpp"
#include "server/handlers.hpp"
#include "server/store.hpp"
#include "server/write_queue.hpp"

namespace sotto::relay {

class Hub;

class Connection final : public std::enable_shared_from_this<Connection>, private Deadlined {
 public:
  // Bound to the io_context's own executor, not the type-erased
  // any_io_executor: 48 bytes less in the socket and in every pending operation.
  using Socket = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;
  using Acceptor = asio::basic_socket_acceptor<asio::ip::tcp, asio::io_context::executor_type>;

  Connection(Socket socket, Hub& hub);
  ~Connection() override;
  // Starts the handshake deadline and waits for the first frame (called by
  // the listener once the connection is in the hub).
  void start();
  // New mail for this connection's account: pull it from the store.
  void notify_mail();
  // An early envelope for this account (Hub::admitted): push it or pull.
  bool deliver_live(Sequence seq, const Bytes& ciphertext);
  // A request's result, on the event loop (from the hub's completion inbox).
  void completed(HandlerResult result);
  // Graceful shutdown: stop reading, finish answering, then close.
  void stop();
  const std::optional<AccountId>& account() const { return session_.account; }
  const std::string& peer_address() const { return peer_address_; }
  // For tests: whether a write is in progress, and the heap the idle
  // connection holds for output (queue storage and write buffer).
  bool writing() const { return writing_; }
  std::size_t output_bytes_held() const {
    return queue_.capacity_bytes() + out_.capacity() + answers_.capacity() * sizeof(Response);
  }
  std::size_t input_bytes_held() const { return backlog_.capacity() + frames_.held(); }

 private:
  // Reading: one pending wait for readability; frames are handled as they complete.
  void wait_readable();
  void on_readable();
  void resume_reading_later();
  enum class Consumed { kAll, kYield, kStopped };
  Consumed consume(ByteView& data);
  bool on_frame(ByteView body);
  bool handshake(ByteView first);
  void confirm_key();
  void end_of_input();
  // Requests and their answers.
  void on_request(ByteView plaintext_frame);
  void on_decoded(Result<ClientRequest, FrameRejection> request,
                  std::optional<std::uint32_t> retry_after);
  void on_result(HandlerResult result);
  void answer(Response response);
  void flush_answers();
  void enqueue(Bytes frame);
  // Frames queued or owed: the write queue and the answers staged for one frame.
  std::size_t queued_frames() const { return queue_.size() + answers_.size(); }
  void pump_deliveries();
  void flush_live();
  // Writing: once per turn of the event loop (flush posts write_queued), a
  // write of everything queued when there is output and none is in progress.
  void flush();
  void write_queued();
  void on_written(const std::error_code& ec);
  // The reading side's deadline (handshake, frame or idle) and the writing
  // side's (frame, while a write is pending); the sweep fires at the earlier.
  using TimePoint = asio::steady_timer::time_point;
  void set_read_deadline(TimePoint t);
  void set_write_deadline(TimePoint t);
  static TimePoint after_ms(std::uint32_t ms);
  void deadline_passed() override;
  void close();

  Socket socket_;
  Hub& hub_;
  std::string peer_address_;
  TimePoint read_deadline_ = TimePoint::max();
  TimePoint write_deadline_ = TimePoint::max();
  FrameAssembler frames_;
  Bytes backlog_;  // received, not yet handled: only while frames wait their turn (consume)
  std::size_t backlog_pos_ = 0;
  std::optional<noise::NoiseTransport> transport_;
  Session session_;
  WriteQueue queue_;  // plaintext frames waiting to be written
  Bytes out_;         // the write in progress (empty otherwise)
  // (Members are ordered to leave no holes: a connection and its control block
  // fit jemalloc's 768-byte size class, which idle memory per connection shows.)
  std::uint32_t in_flight_ = 0;
  // A bound of the staged answers' Responses frame size (at most max_frame).
  std::uint32_t answers_bytes_ = kResponsesOverhead;
  Sequence pushed_up_to_ = 0;
  Push live_push_;  // early envelopes staged while a write is in progress
  // Answers staged for one Responses frame (version 2 clients only; see answer()).
  std::vector<Response> answers_;
  std::size_t live_bytes_ = 0;
  UnixDay stored_last_seen_{};       // the account's last-seen day, written at confirm_key
  bool in_frame_ = false;            // between a frame's length prefix and its last byte
  std::uint16_t turn_requests_ = 0;  // requests handled in this turn (consume)
  bool batched_answers_ = false;     // the client sent a version-2 frame: it reads Responses
  bool writing_ = false;
  bool flush_posted_ = false;   // write_queued is posted and has not run yet
  bool established_ = false;    // the handshake completed, message 2 written
  bool key_confirmed_ = false;  // a client transport message authenticated (confirm_key)
  bool mail_pending_ = false;
  bool reading_done_ = false;
  bool closed_ = false;
};

}  // namespace sotto::relay
