// relay_key.cpp — see relay_key.hpp.
#include "server/relay_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sotto::relay {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<void, std::string> write_all(int fd, ByteView data, const std::string& name) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write " + name + ": " + errno_text());
    done += static_cast<std::size_t>(n);
  }
  return {};
}

void fsync_dir(const std::filesystem::path& dir) {
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
}

}  // namespace

Result<X25519KeyPair, std::string> create_relay_key(const std::filesystem::path& dir, Rng& rng) {
  const auto path = dir / kRelayKeyFile;
  // 0600 from creation: the file is never visible with wider permissions.
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (f.fd < 0) return fail("cannot create " + path.string() + ": " + errno_text());
  auto pair = crypto::x25519_generate(rng);
  SOTTO_TRY_VOID(write_all(f.fd, pair.secret.view(), path.string()));
  if (::fsync(f.fd) != 0) return fail("cannot sync " + path.string() + ": " + errno_text());
  fsync_dir(dir);
  return pair;
}

Result<X25519KeyPair, std::string> load_relay_key(const std::filesystem::path& dir) {
  const auto path = dir / kRelayKeyFile;
  Fd f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
  if (f.fd < 0) return fail("cannot open " + path.string() + ": " + errno_text());
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return fail("cannot stat " + path.string() + ": " + errno_text());
  if (!S_ISREG(st.st_mode)) return fail(path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return fail(path.string() + " is accessible by group or others; run: chmod 600 " +
                path.string());
  if (st.st_size != 32)
    return fail(path.string() + " must hold exactly 32 bytes, holds " + std::to_string(st.st_size));
  X25519SecretKey secret;
  std::size_t done = 0;
  while (done < 32) {
    ssize_t n = ::read(f.fd, secret.data() + done, 32 - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot read " + path.string());
    done += static_cast<std::size_t>(n);
  }
  return crypto::x25519_from_secret(std::move(secret));
}

std::string relay_address(const HostPort& listen, const X25519PublicKey& key) {
  return format_relay_address(listen.host, listen.port, key);
}

// The text rules live in common/relay_address.* (the client parses the same form).
Result<RelayAddress, std::string> parse_relay_address(std::string_view text) {
  SOTTO_TRY(auto parsed, sotto::parse_relay_address(text));
  return RelayAddress{HostPort{std::move(parsed.host), parsed.port}, parsed.key};
}

}  // namespace sotto::relay
