// relay_link.hpp — one Noise connection from a device to a relay over TCP,
// driven synchronously: every call runs the link's own io_context in the
// calling thread until the operation completes or its deadline passes.
//
//   open():    resolve HOST, TCP connect to each address in turn (recording
//              why each failed), send the first frame `0x01 || IK message 1`
//              (payload: the device hello of common/relay_auth.hpp) or
//              `0x02 || NK message 1` (empty payload), read message 2, Split()
//              (docs/protocol.md section 60 6.6, 70-relay-protocol.md 7.1).
//   send():    one transport message (a ClientFrame's bytes) in one frame.
//   receive(): the next transport message from the relay, or nothing when the
//              deadline passes first (the link stays usable: reads are
//              cancelled between frames, never inside one, thanks to the
//              FrameDecoder holding partial frames).
//
// What fails (ClientError): kUnreachable with every address tried and why;
// kHandshakeFailed when the relay closes the connection during the handshake
// (what a relay with another key does: it cannot decrypt message 1, so it
// closes without a word) or its message 2 does not authenticate; kTimeout when
// the deadline passes during connect, handshake or a write (the link is then
// closed: a half-written frame cannot be resumed); kClosed at end of stream or
// a socket error, and once 8 frames failed authentication (section 6.8);
// kProtocol for a framing error. After any failure but a receive() timeout the
// link is closed and every later call fails the same way.
//
// Ownership: the link owns its socket, io_context and Noise transport (keys
// wiped on destruction). The transport key pair is moved in; the Rng is used
// only during open(). Not thread-safe; one thread drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>

#include "client/client_error.hpp"
#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/relay_address.hpp"
#include "common/relay_auth.hpp"
#include "common/result.hpp"
#include "common/rng.hpp"
#include "common/secret.hpp"

namespace sotto::client {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// What an IK (device) connection presents: its transport key pair (the Noise
// static key) and the hello naming its identity and device id.
struct DeviceCredentials {
  X25519KeyPair transport_key;
  relay_auth::DeviceHello hello;
};

class RelayLink {
 public:
  // A device connection (IK) when `device` is set, else an anonymous one (NK).
  [[nodiscard]] static Result<std::unique_ptr<RelayLink>, ClientError> open(
      const RelayAddress& address, std::optional<DeviceCredentials> device, Rng& rng,
      Deadline deadline);

  ~RelayLink();
  RelayLink(const RelayLink&) = delete;
  RelayLink& operator=(const RelayLink&) = delete;

  // Encrypts `plaintext` (at most 65519 bytes) as one transport message and writes its frame.
  [[nodiscard]] Result<void, ClientError> send(ByteView plaintext, Deadline deadline);
  // Several transport messages written with one write (pipelining).
  [[nodiscard]] Result<void, ClientError> send_all(std::span<const Bytes> plaintexts,
                                                   Deadline deadline);
  // The next transport message's plaintext; nullopt when `deadline` passes first.
  // A message that fails authentication is dropped (and counted, section 6.8).
  [[nodiscard]] Result<std::optional<SecretBytes>, ClientError> receive(Deadline deadline);

  // Writes raw bytes on the socket, outside Noise (tests: injected garbage).
  [[nodiscard]] Result<void, ClientError> send_raw(ByteView bytes, Deadline deadline);

  // The Noise handshake hash h (64 bytes), the channel binding of relay_auth.
  relay_auth::HandshakeHashView handshake_hash() const;
  const RelayAddress& address() const;
  bool is_open() const;
  // Closes the socket (the relay sees end of stream). Idempotent.
  void close();

  struct State;

 private:
  explicit RelayLink(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace sotto::client
