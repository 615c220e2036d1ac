// connection.cpp — see connection.hpp.
#include "server/connection.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/frame.hpp"
#include "common/relay_auth.hpp"
#include "server/hub.hpp"

namespace sotto::relay {

using asio::awaitable;
using asio::use_awaitable;
namespace {
constexpr std::size_t kMaxInFlight = 32;            // requests awaiting the store per connection
constexpr std::size_t kDeliveryBatch = 64;          // envelopes fetched per store read
constexpr std::size_t kMaxWriteBytes = 256 * 1024;  // frames coalesced into one write
}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Hub& hub)
    : socket_(std::move(socket)),
      hub_(hub),
      deadline_(socket_.get_executor()),
      wake_writer_(socket_.get_executor()) {
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  peer_address_ = ec ? std::string("?") : remote.address().to_string();
  // Every frame is written whole and at once: Nagle's algorithm would hold a
  // frame back until the previous one is acknowledged (the peer's delayed ACK:
  // up to 40 ms per answer on Linux).
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  wake_writer_.expires_at(asio::steady_timer::time_point::max());
}

Connection::TimePoint Connection::after_ms(std::uint32_t ms) {
  return asio::steady_timer::clock_type::now() + std::chrono::milliseconds(ms);
}

void Connection::set_read_deadline(TimePoint t) {
  read_deadline_ = t;
  deadline_.expires_at(std::min(read_deadline_, write_deadline_));
}

void Connection::set_write_deadline(TimePoint t) {
  write_deadline_ = t;
  deadline_.expires_at(std::min(read_deadline_, write_deadline_));
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  deadline_.cancel();
  wake_writer_.cancel();
}

void Connection::stop() {
  reading_done_ = true;
  std::error_code ec;
  // The reader sees end of stream; answers already owed are still written.
  socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);
  wake_writer_.cancel();
}

// The deadline in force (handshake, frame or idle) closes the connection when it passes.
awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (!closed_) {
    std::error_code ec;
    co_await deadline_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (!closed_ && deadline_.expiry() <= asio::steady_timer::clock_type::now()) {
      spdlog::debug("connection deadline passed");
      close();
    }
  }
}

// length (u16be) || body; the length is checked before any body byte is read.
awaitable<std::optional<Bytes>> Connection::read_frame(std::size_t max_body) {
  std::uint8_t prefix[kFrameHeaderLen];
  std::error_code ec;
  co_await asio::async_read(socket_, asio::buffer(prefix), asio::redirect_error(use_awaitable, ec));
  if (ec) co_return std::nullopt;
  const std::size_t len = get_u16be(prefix);
  if (len == 0 || len > max_body) {
    spdlog::debug("frame length {} refused", len);
    co_return std::nullopt;
  }
  // The frame deadline, which never extends one already in force (the handshake's).
  set_read_deadline(std::min(read_deadline_, after_ms(hub_.config().limits.frame_timeout_ms)));
  in_frame_ = true;
  Bytes body(len);
  co_await asio::async_read(socket_, asio::buffer(body), asio::redirect_error(use_awaitable, ec));
  in_frame_ = false;
  if (ec) co_return std::nullopt;
  co_return body;
}

awaitable<bool> Connection::handshake() {
  // Accept -> handshake complete, message 2 written included.
  set_read_deadline(after_ms(hub_.config().limits.handshake_timeout_ms));
  auto first = co_await read_frame(noise::kMaxFirstFrameBody);
  if (!first) co_return false;
  auto parsed = noise::parse_first_frame_body(*first);
  if (!parsed) co_return false;
  const bool anonymous = parsed->pattern == noise::Pattern::kNK;
  if (!anonymous && parsed->pattern != noise::Pattern::kIK) co_return false;
  auto hs = noise::sotto_responder(
      parsed->pattern, crypto::x25519_from_secret(hub_.key().secret.clone()), hub_.rng());
  if (!hs) co_return false;
  auto payload = hs->read_message(parsed->message);
  if (!payload) co_return false;
  if (anonymous) {
    // NK: P1 is empty in version 1 (no hello: the client stays anonymous).
    if (!payload->view().empty()) co_return false;
  } else {
    if (!hs->remote_static()) co_return false;
    // P1: the device hello (identity key, device id).
    auto hello = relay_auth::decode_device_hello(payload->view());
    if (!hello) co_return false;
    session_.remote_static = *hs->remote_static();
    session_.hello = *hello;
  }
  auto message2 = hs->write_message({});
  if (!message2) co_return false;
  auto framed = encode_frame(*message2);
  if (!framed) co_return false;
  std::error_code ec;
  co_await asio::async_write(socket_, asio::buffer(*framed),
                             asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  std::copy(hs->handshake_hash().bytes.begin(), hs->handshake_hash().bytes.end(),
            session_.handshake_hash.begin());
  session_.anonymous = anonymous;
  auto transport = hs->split();
  if (!transport) co_return false;
  transport_.emplace(std::move(*transport));
  if (anonymous) {
    ++hub_.metrics().handshakes_anonymous;
    co_return true;
  }
  if (auto record = authenticate(hub_.store(), session_)) {
    session_.account = record->keys.identity_key;
    hub_.bind(*session_.account, this);
    hub_.seen(record->keys.identity_key, record->last_seen_day);
  }
  co_return true;
}

awaitable<void> Connection::run() {
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), watchdog(), asio::detached);
  try {
    if (!co_await handshake()) {
      ++hub_.metrics().handshakes_failed;
      spdlog::debug("handshake failed");
      close();
      hub_.remove(self);
      co_return;
    }
    if (session_.account) {
      mail_pending_ = true;
      pump_deliveries();
    }
    asio::co_spawn(socket_.get_executor(), writer(), asio::detached);
    co_await reader();
  } catch (const std::exception& e) {
    // The per-connection boundary: log, close, never swallow silently.
    spdlog::warn("connection error: {}", e.what());
    close();
    hub_.remove(self);
  }
}

awaitable<void> Connection::reader() {
  const std::size_t max_body = hub_.config().limits.max_frame + noise::kTagLen;
  while (!closed_ && !reading_done_) {
    set_read_deadline(after_ms(hub_.config().limits.idle_timeout_ms));
    auto frame = co_await read_frame(max_body);
    if (!frame) break;
    auto plaintext = transport_->decrypt(*frame);
    if (!plaintext) {
      // Dropped and counted, not answered; too many and the transport closes.
      ++hub_.metrics().auth_failed_frames;
      if (transport_->is_closed()) break;
      continue;
    }
    on_request(Bytes(plaintext->view().begin(), plaintext->view().end()));
  }
  reading_done_ = true;
  wake_writer_.cancel();
}

void Connection::on_request(Bytes frame) {
  auto request = decode_client_frame(frame, hub_.codec_limits());
  auto& metrics = hub_.metrics();
  metrics.count(metrics.frames, request ? request_name(request->request) : "undecodable");
  // Every frame costs a token, decodable or not; a refused one costs nothing.
  const auto retry_after = hub_.rate_limit(peer_address_, session_.account);
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
  auto self = shared_from_this();
  auto executor = socket_.get_executor();
  handle_request(HandlerContext{hub_.store(), hub_.clock(), &hub_}, session_, std::move(*request),
                 [self, executor](HandlerResult result) {
                   // Store completions run on the writer thread: back to ours.
                   asio::post(executor, [self, r = std::move(result)]() mutable {
                     --self->in_flight_;
                     self->on_result(std::move(r));
                   });
                 });
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
  enqueue(encode_server_message(result.response));
  if (result.notify) hub_.notify(*result.notify);
  pump_deliveries();
  wake_writer_.cancel();
}

void Connection::enqueue(Bytes frame) {
  if (closed_) return;
  // A reader that stops reading is cut off: memory per connection stays bounded.
  if (queue_.size() >= hub_.config().limits.write_queue_frames) {
    spdlog::debug("write queue full: closing a slow reader");
    close();
    return;
  }
  queue_.push_back(std::move(frame));
}

void Connection::notify_mail() {
  mail_pending_ = true;
  pump_deliveries();
  wake_writer_.cancel();
}

// An early envelope admitted for this account, handed over from memory. Pushed at
// once only when it is the next one this connection owes (every lower sequence already
// pushed, nothing left to pull from the store); otherwise the store is read, which
// returns it in its place (fetch includes early envelopes): sequence order, always.
void Connection::deliver_live(Sequence seq, const Bytes& ciphertext) {
  if (closed_ || !session_.account || seq <= pushed_up_to_) return;
  const std::size_t push_budget =
      std::max<std::size_t>(1, hub_.config().limits.write_queue_frames / 2);
  if (mail_pending_ || seq != pushed_up_to_ + 1 || queue_.size() + 1 >= push_budget) {
    notify_mail();
    return;
  }
  // Staged: every envelope delivered before the writer runs goes out in one Push.
  if (!live_push_.deliveries.empty() &&
      push_overhead(live_push_.deliveries.size() + 1) + live_bytes_ + ciphertext.size() >
          hub_.config().limits.max_frame)
    flush_live();
  live_push_.deliveries.push_back(Delivery{seq, ciphertext});
  live_bytes_ += ciphertext.size();
  pushed_up_to_ = seq;
  ++hub_.metrics().deliveries;
  wake_writer_.cancel();
}

// The staged live Push joins the write queue (before anything pulled after it).
void Connection::flush_live() {
  if (live_push_.deliveries.empty()) return;
  enqueue(encode_server_message(live_push_));
  live_push_.deliveries.clear();
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
  if (queue_.size() >= push_budget) return;  // resumes after the next write
  const std::size_t limit = std::min(kDeliveryBatch, push_budget - queue_.size());
  auto batch = hub_.store().fetch(*session_.account, pushed_up_to_, limit);
  flush_live();  // lower sequences than the batch: first
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

awaitable<void> Connection::writer() {
  auto self = shared_from_this();
  while (!closed_) {
    flush_live();
    if (queue_.empty()) {
      if (reading_done_ && in_flight_ == 0) break;  // drained: graceful end
      std::error_code ec;
      wake_writer_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_writer_.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    // Everything queued goes out in one write (one syscall), each frame
    // encrypted on its own: length || ENCRYPT(frame).
    Bytes out;
    bool broken = false;
    while (!queue_.empty() && out.size() < kMaxWriteBytes) {
      Bytes plaintext = std::move(queue_.front());
      queue_.pop_front();
      auto ciphertext = transport_->encrypt(plaintext);
      if (!ciphertext) {
        broken = true;
        break;
      }
      auto framed = encode_frame(*ciphertext);
      if (!framed) {
        broken = true;
        break;
      }
      append(out, *framed);
    }
    if (broken) break;
    set_write_deadline(after_ms(hub_.config().limits.frame_timeout_ms));
    std::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(out), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    set_write_deadline(TimePoint::max());
    // A frame written is activity: it restarts the idle deadline, but never
    // the deadline of a frame the client is in the middle of sending.
    if (!reading_done_ && !in_frame_)
      set_read_deadline(after_ms(hub_.config().limits.idle_timeout_ms));
    pump_deliveries();
  }
  close();
  hub_.remove(self);
}

}  // namespace sotto::relay
