// store_error.cpp — texts of the profile store's errors (see store_error.hpp).
#include "client/store_error.hpp"

namespace sotto::client {

std::string_view to_string(StoreError e) {
  switch (e) {
    case StoreError::kWrongPassphrase:
      return "wrong passphrase";
    case StoreError::kTampered:
      return "store corrupted or tampered";
    case StoreError::kNoProfile:
      return "no profile";
    case StoreError::kProfileExists:
      return "profile already exists";
    case StoreError::kSchemaTooNew:
      return "profile written by a newer sotto";
    case StoreError::kIo:
      return "storage I/O error";
    case StoreError::kBusy:
      return "profile is locked by another process";
    case StoreError::kOutOfMemory:
      return "not enough memory for the key derivation";
    case StoreError::kInvalidArgument:
      return "invalid argument";
    case StoreError::kInvalidState:
      return "invalid transaction state";
    case StoreError::kNotFound:
      return "not found";
    case StoreError::kAlreadyExists:
      return "already exists";
    case StoreError::kInternal:
      return "internal store error";
  }
  return "unknown store error";
}

std::string describe(const StoreFailure& f) {
  std::string out(to_string(f.code));
  if (f.code == StoreError::kTampered) {
    out += ": table ";
    out += f.table.empty() ? std::string("(file)") : f.table;
  } else if (!f.table.empty()) {
    out += " (" + f.table + ")";
  }
  if (!f.detail.empty()) out += ": " + f.detail;
  return out;
}

}  // namespace sotto::client
