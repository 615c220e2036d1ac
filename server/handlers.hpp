// handlers.hpp — the relay protocol's request handlers: a validated request
// plus the connection's session -> one Response, via the store.
//
// Every handler answers exactly once through `reply`, possibly later and from
// the store's writer thread (the caller re-posts to its executor). A write is
// answered only from its store completion: a Send is ACCEPTED only once the
// envelope is durably committed, or once the recipient acknowledged it (an early
// envelope, pushed while its insert was queued: RelayStore::admit). Store failures map to statuses
// (busy, full disk, closed -> SERVER_BUSY; nothing is lost that was already accepted).
//
// Authentication: the IK handshake gives the device's transport key (rs) and
// its device hello (identity key, device id). A session is authenticated for
// an account when the account's stored transport key equals rs and its stored
// device id equals the hello's; until then only Register and FetchBundle are
// allowed (UNAUTHORISED otherwise). Register needs the transport key
// certificate and a proof of possession of IK bound to the handshake hash, and
// replaces the device keys of an existing account (a new or restored device).
// An anonymous (NK) session may only FetchBundle; everything else UNAUTHORISED.
//
// Prekeys are checked as an initiator will check them (common/prekeys.hpp): a
// signed prekey must decode (116 bytes), carry IK's signature (UNAUTHORISED
// otherwise), have a window of at most 90 days that has not ended, and a
// canonical, non-low-order key (MALFORMED otherwise); every one-time prekey
// key must be canonical and not low order (MALFORMED).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "common/clock.hpp"
#include "common/relay_auth.hpp"
#include "common/wire_requests.hpp"
#include "server/store.hpp"

namespace sotto::relay {

struct Session {
  bool anonymous = false;                         // an NK connection: no rs, no hello
  X25519PublicKey remote_static;                  // rs from the IK handshake
  std::array<std::uint8_t, 64> handshake_hash{};  // h, binds proofs to this connection
  relay_auth::DeviceHello hello;                  // who the device says it is
  std::optional<AccountId> account;               // set once authenticated
};

struct HandlerResult {
  Response response;
  // Register: the account this session is now authenticated as.
  std::optional<AccountId> authenticated;
  // DeleteAccount: the session is no longer authenticated.
  bool deauthenticated = false;
  // Send: the recipient whose live connections should pull their mailbox (not set when
  // the envelope was pushed to them at admission).
  std::optional<AccountId> notify;
  // Ack: how many queued messages it deleted (metrics).
  std::uint64_t acked = 0;
  std::uint64_t acked_before_commit = 0;  // of which never written (metrics)
};

using Reply = std::function<void(HandlerResult)>;

struct HandlerContext {
  RelayStore& store;
  const Clock& clock;
  // Where admit hands an early envelope (store.hpp); none: recipients pull after the
  // commit (notify).
  LiveDelivery* live = nullptr;
};

void handle_request(HandlerContext ctx, const Session& session, ClientRequest request, Reply reply);

// Looks up whether the hello's account exists with this transport key and
// device id (called once, right after the handshake); its record when it does.
std::optional<AccountRecord> authenticate(RelayStore& store, const Session& session);

// What an anonymous (NK) connection may ask: FetchBundle only.
bool allowed_anonymously(const Request& request);

Status status_for(StoreError e);
AccountId account_id_of(const IdentityKey& key);

}  // namespace sotto::relay
