// messenger_error.hpp — what the messenger (messenger.hpp) reports when a
// command cannot be done, as a value with a text a person can act on.
//
// Every MessengerError has a kind (for programs: the CLI maps kinds to exit
// codes and the tests match on them) and a message (for people: it names the
// file, the relay, the contact or the relay's status, and what to do next). It
// also carries the underlying store or relay error code when there is one.
// Messages never contain keys, passphrases or message text: they are built
// from names, ids, paths, counts and status names only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/client_error.hpp"
#include "client/store_error.hpp"
#include "common/errors.hpp"
#include "common/result.hpp"

namespace sotto::client {

enum class MessengerErrorKind {
  kNoProfile,         // no profile in the directory: run `sotto init`
  kProfileExists,     // `init` over an existing profile
  kWrongPassphrase,   // the passphrase does not unlock the profile
  kStore,             // any other store failure (tampered, I/O, locked, ...)
  kUnknownContact,    // no contact by that name
  kInvalidArgument,   // a bad name, id, address or text
  kRelayUnreachable,  // no TCP connection to the relay (the message lists what was tried)
  kRelayKeyMismatch,  // the relay did not prove the pinned key: refused to talk
  kRelay,             // the connection failed or timed out, or the relay sent nonsense
  kRejected,          // the relay answered with an error status (the message names it)
  kNotDelivered,      // a send whose outcome is unknown: kept in the outbox for a retry
  kProtocol,          // a peer's bundle did not verify, a session could not be made
};
std::string_view to_string(MessengerErrorKind k);

struct MessengerError {
  MessengerErrorKind kind = MessengerErrorKind::kStore;
  std::string message;
  std::optional<StoreError> store;       // when a store call failed
  std::optional<ClientErrorKind> relay;  // when a relay call failed
  std::optional<relay::Status> status;   // when the relay answered with an error status
};

template <class T>
using MessengerResult = Result<T, MessengerError>;

// Store and relay failures as messenger errors. `doing` says what was being
// done ("opening the profile", "sending to alice"), for the message.
MessengerError from_store(const StoreFailure& f, std::string_view doing = {});
MessengerError from_relay(const ClientError& e, std::string_view doing = {});
MessengerError messenger_error(MessengerErrorKind kind, std::string message);

// RATE_LIMITED and SERVER_BUSY say "not now" rather than "never".
inline bool transient(const std::optional<relay::Status>& s) {
  return s && (*s == relay::Status::kServerBusy || *s == relay::Status::kRateLimited);
}

inline Failure<MessengerError> messenger_fail(MessengerErrorKind kind, std::string message) {
  return fail(messenger_error(kind, std::move(message)));
}

}  // namespace sotto::client

// SOTTO_STORE_TRY(var, expr, doing): like SOTTO_TRY for a StoreResult inside a
// function returning MessengerResult; the failure becomes from_store(f, doing).
#define SOTTO_STORE_TRY(var, expr, doing)                                               \
  auto SOTTO_CONCAT(sotto_st_, __LINE__) = (expr);                                      \
  if (!SOTTO_CONCAT(sotto_st_, __LINE__))                                               \
    return ::sotto::fail(                                                               \
        ::sotto::client::from_store(SOTTO_CONCAT(sotto_st_, __LINE__).error(), doing)); \
  var = std::move(SOTTO_CONCAT(sotto_st_, __LINE__)).value()
#define SOTTO_STORE_TRY_VOID(expr, doing)                                                          \
  do {                                                                                             \
    auto sotto_stv_ = (expr);                                                                      \
    if (!sotto_stv_) return ::sotto::fail(::sotto::client::from_store(sotto_stv_.error(), doing)); \
  } while (0)
