// store_error.hpp — the errors of the client's encrypted profile store.
//
// Every store call returns StoreResult<T>: a value or a StoreFailure, which
// carries a code, the logical table concerned (when there is one) and a detail
// for the user (a path, SQLite's message). No failure ever carries stored
// content, a key or a passphrase. describe() gives the text the CLI prints; two
// of them are fixed because users and tests rely on them:
//   kWrongPassphrase  "wrong passphrase"
//   kTampered         "store corrupted or tampered: table <table>"
// A tampered or damaged file always fails closed with kTampered (or, where the
// damage cannot be told apart from a wrong passphrase, kWrongPassphrase:
// docs/client-store.md, "What can be told apart"); it never yields wrong data.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sotto::client {

enum class StoreError {
  kWrongPassphrase,  // the passphrase does not unlock the store key
  kTampered,         // a record, the header or the file failed authentication or does not parse
  kNoProfile,        // no profile.db in the profile directory (or not a Sotto profile)
  kProfileExists,    // create() over an existing profile
  kSchemaTooNew,     // written by a newer sotto
  kIo,               // the file system or SQLite failed (full disk, I/O error, permissions)
  kBusy,             // another process holds the database lock past the timeout
  kOutOfMemory,      // Argon2id could not get the memory its parameters ask for
  kInvalidArgument,  // a caller error: empty passphrase, bad KDF parameters, oversize value
  kInvalidState,     // a transaction already open, or none open to commit
  kNotFound,         // a record the operation needs does not exist (e.g. removing a contact)
  kAlreadyExists,    // a contact name or account id already present
  kInternal,         // a bug: an SQL statement that should not fail did
};

std::string_view to_string(StoreError e);

struct StoreFailure {
  StoreError code = StoreError::kInternal;
  std::string table;   // the logical table, for kTampered (and where useful)
  std::string detail;  // for humans; never stored content
};

// The message for the user, e.g. "store corrupted or tampered: table contacts".
std::string describe(const StoreFailure& f);

template <class T>
using StoreResult = Result<T, StoreFailure>;

inline Failure<StoreFailure> store_fail(StoreError code, std::string table = {},
                                        std::string detail = {}) {
  return fail(StoreFailure{code, std::move(table), std::move(detail)});
}
inline Failure<StoreFailure> tampered(std::string table, std::string detail = {}) {
  return store_fail(StoreError::kTampered, std::move(table), std::move(detail));
}

}  // namespace sotto::client
