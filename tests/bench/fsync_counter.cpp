// fsync_counter.cpp — an LD_PRELOAD shim that counts the durable-write system
// calls of the process it is loaded into, for the relay load benchmark
// (relay_load.cpp): fsync, fdatasync and sync_file_range.
//
// The same shim is loaded into sotto-relay, mosquitto and redis-server, so the
// three are counted the same way (docs/performance.md, "Relay load benchmark").
// Each call adds one to a 64-bit counter at offset 0 of the file named by
// SOTTO_FSYNC_COUNTER (mapped shared, so the benchmark reads it while the
// process runs), then forwards to the libc function found with
// dlsym(RTLD_NEXT). Calls a binary makes through libc's PLT are seen, which is
// how SQLite, mosquitto and redis make them; a raw syscall() would not be.
//
// What fails: without the variable, or when the file cannot be mapped, calls
// are forwarded uncounted; a missing libc symbol answers -1 with ENOSYS.
// Not a test, not part of any shipped binary.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace {

std::uint64_t* counter() {
  // A function-local static: initialised once, thread-safely, on the first call.
  static std::uint64_t* mapped = []() -> std::uint64_t* {
    const char* path = ::getenv("SOTTO_FSYNC_COUNTER");
    if (path == nullptr) return nullptr;
    const int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return nullptr;
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    return p == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(p);
  }();
  return mapped;
}

void count() {
  if (std::uint64_t* c = counter()) __atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

template <class Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  count();
  if (!real) return errno = ENOSYS, -1;
  return real(fd);
}

int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  count();
  if (!real) return errno = ENOSYS, -1;
  return real(fd);
}

int sync_file_range(int fd, off64_t offset, off64_t nbytes, unsigned int flags) {
  static auto real = next<int (*)(int, off64_t, off64_t, unsigned int)>("sync_file_range");
  count();
  if (!real) return errno = ENOSYS, -1;
  return real(fd, offset, nbytes, flags);
}

}  // extern "C"
