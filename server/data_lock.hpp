// data_lock.hpp — DataDirLock: an exclusive flock(2) on DIR/lock, held for as
// long as a relay serves (or initialises) a data directory, so two relays can
// never open the same store and the same key.
//
// The lock file is created (mode 0600) if missing and never deleted: flock
// locks belong to the open file, so a crashed relay's lock is released by the
// kernel and a stale file is harmless. Read-only commands (address, stats,
// disclose) do not take it; SQLite's own locking keeps them consistent.
//
// What fails: a lock held by another process -> "DIR is in use by another
// sotto-relay (DIR/lock is locked)"; a lock file that cannot be opened -> the
// reason. Ownership: the lock is released when the DataDirLock is destroyed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sotto::relay {

inline constexpr std::string_view kLockFile = "lock";

class DataDirLock {
 public:
  [[nodiscard]] static Result<DataDirLock, std::string> acquire(const std::filesystem::path& dir);
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace sotto::relay
