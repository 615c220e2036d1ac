// connection.cpp — see connection.hpp.
#include "server/connection.hpp"

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "common/frame.hpp"
#include "common/relay_auth.hpp"
#include "server/hub.hpp"

namespace sotto::relay {

namespace {
constexpr std::size_t kMaxInFlight = 32;            // requests awaiting the store per connection
constexpr std::size_t kDeliveryBatch = 64;          // envelopes fetched per store read
constexpr std::size_t kMaxWriteBytes = 256 * 1024;  // frames coalesced into one write
constexpr int kReadsPerTurn = 4;                    // reads before the other connections get a turn
constexpr std::uint16_t kRequestsPerTurn = 32;      // requests handled before the others get a turn

// What every connection of this thread reads into: a readable socket is read
// here and only a frame that arrives split is copied out (FrameAssembler).
std::uint8_t* read_buffer_data(std::size_t& size) {
  static thread_local std::array<std::uint8_t, 64 * 1024> buffer;
  size = buffer.size();
  return buffer.data();
}
}  // namespace

Connection::Connection(Socket socket, Hub& hub) : socket_(std::move(socket)), hub_(hub) {
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  peer_address_ = ec ? std::string("?") : remote.address().to_string();
  // Every frame is written whole and at once: Nagle's algorithm would hold a
  // frame back until the previous one is acknowledged (the peer's delayed ACK:
  // up to 40 ms per answer on Linux).
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Reads happen only once the socket is readable, and never block.
  socket_.non_blocking(true, ec);
}

Connection::~Connection() {
  hub_.deadlines().cancel(*this);
}

Connection::TimePoint Connection::after_ms(std::uint32_t ms) {
  return asio::steady_timer::clock_type::now() + std::chrono::milliseconds(ms);
}

void Connection::set_read_deadline(TimePoint t) {
  read_deadline_ = t;
  if (!closed_) hub_.deadlines().set(*this, std::min(read_deadline_, write_deadline_));
}

void Connection::set_write_deadline(TimePoint t) {
  write_deadline_ = t;
  if (!closed_) hub_.deadlines().set(*this, std::min(read_deadline_, write_deadline_));
}

// The deadline in force (handshake, frame or idle) has passed.
void Connection::deadline_passed() {
  if (closed_) return;
  spdlog::debug("connection deadline passed");
  close();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (!established_) {
    ++hub_.metrics().handshakes_failed;
    spdlog::debug("handshake failed");
  }
  hub_.deadlines().cancel(*this);
  std::error_code ec;
  socket_.shutdown(Socket::shutdown_both, ec);
  socket_.close(ec);  // pending operations complete with operation_aborted
  queue_ = WriteQueue();
  std::vector<Response>().swap(answers_);
  Bytes().swap(backlog_);
  // Later, not now: the caller may be the hub walking its connections.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->hub_.remove(self); });
}

void Connection::stop() {
  reading_done_ = true;
  std::error_code ec;
  // Nothing more is read; answers already owed are still written.
  socket_.shutdown(Socket::shutdown_receive, ec);
  flush();
}

void Connection::start() {
  // Accept -> handshake complete, message 2 written included.
  set_read_deadline(after_ms(hub_.config().limits.handshake_timeout_ms));
  wait_readable();
}

void Connection::wait_readable() {
  if (closed_ || reading_done_) return;
  socket_.async_wait(Socket::wait_read, [self = shared_from_this()](const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    self->on_readable();
  });
}

void Connection::on_readable() {
  try {
    if (closed_ || reading_done_) {
      Bytes().swap(backlog_);
      return;
    }
    turn_requests_ = 0;
    // What was received before the last yield comes first.
    if (!backlog_.empty()) {
      ByteView data = ByteView(backlog_).subspan(backlog_pos_);
      const Consumed c = consume(data);
      if (c == Consumed::kYield && !data.empty()) {
        backlog_pos_ = backlog_.size() - data.size();
        resume_reading_later();
        return;
      }
      Bytes().swap(backlog_);
      backlog_pos_ = 0;
      if (c == Consumed::kStopped) return;
      if (c == Consumed::kYield) {
        resume_reading_later();
        return;
      }
    }
    std::size_t capacity = 0;
    auto* buffer = read_buffer_data(capacity);
    for (int turn = 0; turn < kReadsPerTurn; ++turn) {
      if (closed_ || reading_done_) return;
      std::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(buffer, capacity), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        // Drained: the next byte to arrive makes the socket readable again.
        wait_readable();
        return;
      }
      if (ec) {
        end_of_input();  // end of stream or a broken connection
        return;
      }
      ByteView data(buffer, n);
      const Consumed c = consume(data);
      if (c == Consumed::kStopped) return;
      if (!data.empty()) {
        // Frames wait for the next turn. The shared buffer is the next
        // reader's: keep what is left of ours.
        backlog_.assign(data.begin(), data.end());
        backlog_pos_ = 0;
        resume_reading_later();
        return;
      }
      if (n < capacity) {
        // A short read emptied the socket's buffer: wait instead of reading
        // again for EAGAIN. The wait re-arms the descriptor (EPOLL_CTL_MOD),
        // which reports it at once if bytes arrived in the meantime.
        wait_readable();
        return;
      }
      if (c == Consumed::kYield) {
        resume_reading_later();  // answers first, then the rest of the input
        return;
      }
    }
    // Still more to read: continue after the other connections had their turn.
    resume_reading_later();
  } catch (const std::exception& e) {
    // The per-connection boundary: log, close, never swallow silently.
    spdlog::warn("connection error: {}", e.what());
    close();
  }
}

void Connection::resume_reading_later() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->on_readable(); });
}

// Hands the next whole frame at the front of `data` on (advancing it), then
// yields (kYield) while bytes or output remain: what the frame set going
// (its answer posted by the handler, a write completed) runs before the next
// frame is read, so pipelined requests are answered in order and a reader
// that keeps up is never cut off, while one that does not read still fills
// its queue and is cut off.
Connection::Consumed Connection::consume(ByteView& data) {
  while (!closed_ && !reading_done_) {
    const std::size_t max_body =
        transport_ ? hub_.config().limits.max_frame + noise::kTagLen : noise::kMaxFirstFrameBody;
    switch (frames_.next(data, max_body)) {
      case FrameAssembler::Step::kRefused:
        spdlog::debug("frame length {} refused", frames_.frame_length());
        end_of_input();
        return Consumed::kStopped;
      case FrameAssembler::Step::kNeedMore:
        if (frames_.in_frame() && !in_frame_) {
          // The frame deadline, which never extends one already in force (the handshake's).
          in_frame_ = true;
          set_read_deadline(
              std::min(read_deadline_, after_ms(hub_.config().limits.frame_timeout_ms)));
        }
        return Consumed::kAll;
      case FrameAssembler::Step::kFrame: {
        in_frame_ = false;
        const bool request = transport_.has_value();
        const std::uint16_t before = turn_requests_;
        if (!on_frame(frames_.body())) return Consumed::kStopped;
        // A frame counts as one request at least (one that fails authentication, too).
        turn_requests_ = std::max<std::uint16_t>(turn_requests_, before + 1);
        if (data.empty()) return queued_frames() == 0 ? Consumed::kAll : Consumed::kYield;
        // More frames arrived with this one: handle them in this turn while the
        // answers they can add stay well inside the write queue's bound (each
        // request adds at most one answer of its own; pushes keep to their half),
        // so a pipelining client costs one write per turn, not one per request.
        const std::size_t room =
            std::max<std::size_t>(1, hub_.config().limits.write_queue_frames / 8);
        if (!request || turn_requests_ >= kRequestsPerTurn || queued_frames() >= room)
          return Consumed::kYield;
        break;
      }
    }
  }
  return Consumed::kStopped;
}

bool Connection::on_frame(ByteView body) {
  if (!transport_) {
    if (!handshake(body)) {
      close();
      return false;
    }
    // The handshake deadline holds until message 2 is written (on_written).
    return !closed_;
  } else {
    auto plaintext = transport_->decrypt(body);
    if (!plaintext) {
      // Dropped and counted, not answered; too many and the transport closes.
      ++hub_.metrics().auth_failed_frames;
      if (transport_->is_closed()) {
        end_of_input();
        return false;
      }
    } else {
      if (!key_confirmed_) confirm_key();
      on_request(plaintext->view());
    }
  }
  // Waiting for the next frame: the idle deadline.
  if (!closed_ && !reading_done_) set_read_deadline(after_ms(hub_.config().limits.idle_timeout_ms));
  return !closed_;
}

bool Connection::handshake(ByteView first) {
  auto parsed = noise::parse_first_frame_body(first);
  if (!parsed) return false;
  const bool anonymous = parsed->pattern == noise::Pattern::kNK;
  if (!anonymous && parsed->pattern != noise::Pattern::kIK) return false;
  auto hs = noise::sotto_responder(
      parsed->pattern, crypto::x25519_from_secret(hub_.key().secret.clone()), hub_.rng());
  if (!hs) return false;
  auto payload = hs->read_message(parsed->message);
  if (!payload) return false;
  if (anonymous) {
    // NK: P1 is empty in version 1 (no hello: the client stays anonymous).
    if (!payload->view().empty()) return false;
  } else {
    if (!hs->remote_static()) return false;
    // P1: the device hello (identity key, device id).
    auto hello = relay_auth::decode_device_hello(payload->view());
    if (!hello) return false;
    session_.remote_static = *hs->remote_static();
    session_.hello = *hello;
  }
  auto message2 = hs->write_message({});
  if (!message2) return false;
  auto framed = encode_frame(*message2);
  if (!framed) return false;
  std::copy(hs->handshake_hash().bytes.begin(), hs->handshake_hash().bytes.end(),
            session_.handshake_hash.begin());
  session_.anonymous = anonymous;
  auto transport = hs->split();
  if (!transport) return false;
  transport_.emplace(std::move(*transport));
  // Message 2 goes out first and as is (the client cannot send a transport
  // frame before it has it); everything queued after it is encrypted.
  out_ = std::move(*framed);
  flush();
  if (anonymous) {
    ++hub_.metrics().handshakes_anonymous;
    return true;
  }
  if (auto record = authenticate(hub_.store(), session_)) {
    // The connection speaks for the account, but IK message 1 can be replayed by
    // anyone who recorded it: nothing is pushed and no last-seen day is written
    // until a transport message from the client authenticates (confirm_key), which
    // only the holder of the handshake's ephemeral secret can produce (70.7).
    session_.account = record->keys.identity_key;
    stored_last_seen_ = record->last_seen_day;
  }
  return true;
}

// Key confirmation: the first client transport message authenticated. Only now
// does the connection join its account's live connections and get its mail.
void Connection::confirm_key() {
  key_confirmed_ = true;
  if (!session_.account) return;
  hub_.bind(*session_.account, this);
  hub_.seen(*session_.account, stored_last_seen_);
  mail_pending_ = true;
  pump_deliveries();
  flush();
}

// End of stream, a refused frame or a closed transport: nothing more is read.
void Connection::end_of_input() {
  reading_done_ = true;
  if (!transport_) {
    close();  // the handshake did not complete
    return;
  }
  flush();
}

// A frame's requests: one, or those of a batch, each answered on its own.
void Connection::on_request(ByteView frame) {
  auto decoded = decode_client_frames(frame, hub_.codec_limits());
  if (!decoded) {
    on_decoded(fail(decoded.error()), hub_.request_tokens(peer_address_, session_.account).take());
    return;
  }
  // A version-2 frame says the client reads Responses: from now on its answers
  // share frames (answer()).
  if (decoded->version >= kWireVersion) batched_answers_ = true;
  turn_requests_ = static_cast<std::uint16_t>(
      std::min<std::size_t>(turn_requests_ + decoded->requests.size(), 0xffff));
  // Every request costs a token, decodable or not; a refused frame costs one.
  // The tokens are all taken first (nothing the requests set going touches the
  // rate limits, so the answers are those of one request at a time).
  // (The codec refuses a batch over codec_limits().max_batch, which is kMaxBatch.)
  std::array<std::optional<std::uint32_t>, kMaxBatch> retry_after;
  const std::size_t n = std::min(decoded->requests.size(), retry_after.size());
  {
    auto tokens = hub_.request_tokens(peer_address_, session_.account);
    for (std::size_t i = 0; i < n; ++i) retry_after[i] = tokens.take();
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (closed_) return;
    on_decoded(std::move(decoded->requests[i]), retry_after[i]);
  }
}

void Connection::on_decoded(Result<ClientRequest, FrameRejection> request,
                            std::optional<std::uint32_t> retry_after) {
  auto& metrics = hub_.metrics();
  metrics.count(metrics.frames, request ? request_name(request->request) : "undecodable");
  if (!request) {
    const auto& rej = request.error();
    on_result(HandlerResult{Response{rej.request_id.value_or(0), rej.status, std::nullopt, {}},
                            std::nullopt, false, std::nullopt});
    return;
  }
  if (retry_after) {
    on_result(HandlerResult{Response{request->request_id, Status::kRateLimited, *retry_after, {}},
                            std::nullopt, false, std::nullopt});
    return;
  }
  if (in_flight_ >= kMaxInFlight) {
    on_result(HandlerResult{Response{request->request_id, Status::kServerBusy, std::nullopt, {}},
                            std::nullopt, false, std::nullopt});
    return;
  }
  ++in_flight_;
  handle_request(HandlerContext{hub_.store(), hub_.clock(), &hub_}, session_, std::move(*request),
                 [self = shared_from_this()](HandlerResult result) {
                   // Store completions run on the writer thread: back to ours, with
                   // the rest of their batch (one post per burst).
                   self->hub_.completed(self, std::move(result));
                 });
}

void Connection::completed(HandlerResult result) {
  --in_flight_;
  on_result(std::move(result));
}

void Connection::on_result(HandlerResult result) {
  auto& metrics = hub_.metrics();
  const Status status = result.response.status;
  if (status == Status::kAccepted)
    ++metrics.sends_accepted;
  else if (status != Status::kOk)
    metrics.count(metrics.rejects, to_string(status));
  metrics.acks += result.acked;
  metrics.acks_before_commit += result.acked_before_commit;
  if (result.authenticated) {
    if (session_.account) hub_.unbind(*session_.account, this);
    session_.account = result.authenticated;
    hub_.bind(*session_.account, this);
    mail_pending_ = true;
    if (auto record = hub_.store().get_account(*result.authenticated))
      hub_.seen(*result.authenticated, record->last_seen_day);
  }
  if (result.deauthenticated && session_.account) {
    hub_.unbind(*session_.account, this);
    session_.account.reset();
  }
  answer(std::move(result.response));
  if (result.notify) hub_.notify(*result.notify);
  pump_deliveries();
  flush();
}

// An answer for the client. A version-1 client gets it as a frame of its own; a
// version-2 client's answers are staged and leave together as one Responses
// frame (flush_answers), before the next push and at the next write: the
// answers to a window of pipelined Sends cost one encryption, not one each.
// Staged answers count against the write queue's bound as the frames they
// would have been, so the bound and its order are those of version 1.
void Connection::answer(Response response) {
  if (closed_) return;
  if (!batched_answers_) {
    enqueue(encode_server_message(response));
    return;
  }
  if (queued_frames() >= hub_.config().limits.write_queue_frames) {
    spdlog::debug("write queue full: closing a slow reader");
    close();
    return;
  }
  // One Responses frame holds at most max_batch answers and max_frame bytes.
  const std::size_t size = response_size_bound(response);
  if (!answers_.empty() && answers_bytes_ + size > hub_.config().limits.max_frame) flush_answers();
  answers_.push_back(std::move(response));
  // At most max_frame plus one answer's bound (an answer alone may be larger).
  answers_bytes_ = static_cast<std::uint32_t>(answers_bytes_ + size);
  if (answers_.size() >= hub_.codec_limits().max_batch) flush_answers();
}

// The staged answers join the write queue, as one frame (or as the one answer).
void Connection::flush_answers() {
  if (answers_.empty() || closed_) return;
  std::vector<Response> answers;
  answers.swap(answers_);  // an idle connection holds nothing
  answers_bytes_ = kResponsesOverhead;
  if (answers.size() == 1)
    queue_.push_back(encode_server_message(answers.front()));
  else
    queue_.push_back(encode_server_message(Responses{std::move(answers)}));
}

void Connection::enqueue(Bytes frame) {
  if (closed_) return;
  // A reader that stops reading is cut off: memory per connection stays bounded.
  if (queued_frames() >= hub_.config().limits.write_queue_frames) {
    spdlog::debug("write queue full: closing a slow reader");
    close();
    return;
  }
  queue_.push_back(std::move(frame));
}

void Connection::notify_mail() {
  mail_pending_ = true;
  pump_deliveries();
  flush();
}

// An early envelope admitted for this account, handed over from memory. Pushed at
// once only when it is the next one this connection owes (every lower sequence already
// pushed, nothing left to pull from the store); otherwise the store is read, which
// returns it in its place (fetch includes early envelopes): sequence order, always.
// True when this connection took it (staged for its next write, or pulled with it).
bool Connection::deliver_live(Sequence seq, const Bytes& ciphertext) {
  if (closed_ || !session_.account) return false;
  if (seq <= pushed_up_to_) return false;  // not a new envelope for this connection
  const std::size_t push_budget =
      std::max<std::size_t>(1, hub_.config().limits.write_queue_frames / 2);
  if (mail_pending_ || seq != pushed_up_to_ + 1 || queued_frames() + 1 >= push_budget) {
    notify_mail();
    return !closed_ && pushed_up_to_ >= seq;  // the pull reached it
  }
  // Staged: every envelope delivered while a write is in progress goes out in
  // one Push when it completes (flush).
  if (!live_push_.deliveries.empty() &&
      push_overhead(live_push_.deliveries.size() + 1) + live_bytes_ + ciphertext.size() >
          hub_.config().limits.max_frame)
    flush_live();
  live_push_.deliveries.push_back(Delivery{seq, ciphertext});
  live_bytes_ += ciphertext.size();
  pushed_up_to_ = seq;
  ++hub_.metrics().deliveries;
  flush();
  return true;
}

// The staged live Push joins the write queue (before anything pulled after it).
void Connection::flush_live() {
  if (live_push_.deliveries.empty()) return;
  flush_answers();  // answers staged before it go first, as they were produced
  enqueue(encode_server_message(live_push_));
  std::vector<Delivery>().swap(live_push_.deliveries);  // an idle connection holds nothing
  live_bytes_ = 0;
}

// Pushes queued envelopes in sequence order, while the write queue has room.
void Connection::pump_deliveries() {
  if (closed_ || !session_.account || !mail_pending_) return;
  // Pushes may fill half of the write queue (the other half is for answers);
  // each envelope adds at most one frame, so a batch never takes more than
  // the room left: a reader that keeps up is never cut off by its own mail.
  const std::size_t push_budget =
      std::max<std::size_t>(1, hub_.config().limits.write_queue_frames / 2);
  if (queued_frames() >= push_budget) return;  // resumes after the next write
  const std::size_t limit = std::min(kDeliveryBatch, push_budget - queued_frames());
  auto batch = hub_.store().fetch(*session_.account, pushed_up_to_, limit);
  flush_live();  // lower sequences than the batch: first
  flush_answers();
  if (!batch) return;
  mail_pending_ = batch->size() == limit;
  Push push;
  std::size_t bytes = 0;
  for (auto& e : *batch) {
    if (!push.deliveries.empty() &&
        push_overhead(push.deliveries.size() + 1) + bytes + e.ciphertext.size() >
            hub_.config().limits.max_frame) {
      enqueue(encode_server_message(push));
      push.deliveries.clear();
      bytes = 0;
    }
    bytes += e.ciphertext.size();
    pushed_up_to_ = e.seq;
    ++hub_.metrics().deliveries;
    push.deliveries.push_back(Delivery{e.seq, std::move(e.ciphertext)});
  }
  if (!push.deliveries.empty()) enqueue(encode_server_message(push));
}

// Output produced while the event loop works through its ready handlers (answers
// posted by the store, early envelopes for this account, the answer to the
// frame just read) is collected and written once, after them: one write
// per connection per turn of the loop, not one per frame.
void Connection::flush() {
  if (closed_ || writing_ || flush_posted_) return;
  flush_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->write_queued();
  });
}

void Connection::write_queued() {
  if (closed_ || writing_) return;
  flush_answers();
  flush_live();
  // Everything queued goes out in one write (one syscall), each frame
  // encrypted on its own: length || ENCRYPT(frame).
  while (!queue_.empty() && out_.size() < kMaxWriteBytes) {
    Bytes plaintext = std::move(queue_.front());
    queue_.pop_front();
    if (!transport_->encrypt_frame_into(plaintext, out_)) {
      close();
      return;
    }
  }
  if (out_.empty()) {
    if (reading_done_ && in_flight_ == 0) close();  // drained: graceful end
    return;
  }
  writing_ = true;
  set_write_deadline(after_ms(hub_.config().limits.frame_timeout_ms));
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const std::error_code& ec, std::size_t) {
                      self->on_written(ec);
                    });
}

void Connection::on_written(const std::error_code& ec) {
  writing_ = false;
  Bytes().swap(out_);  // an idle connection keeps no write buffer
  if (ec || closed_) {
    close();
    return;
  }
  set_write_deadline(TimePoint::max());
  established_ = true;  // message 2, at least, has been written
  // A frame written is activity: it restarts the idle deadline, but never
  // the deadline of a frame the client is in the middle of sending.
  if (!reading_done_ && !in_frame_ && transport_)
    set_read_deadline(after_ms(hub_.config().limits.idle_timeout_ms));
  pump_deliveries();
  flush();
}

}  // namespace sotto::relay
