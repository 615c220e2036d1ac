// passphrase.cpp — see passphrase.hpp.
#include "client/passphrase.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace sotto::client {
namespace {

// The terminal state to restore if a signal arrives while echo is off.
int g_tty_fd = -1;
struct termios g_saved_tty {};
volatile std::sig_atomic_t g_tty_saved = 0;

extern "C" void restore_tty_and_reraise(int sig) {
  if (g_tty_saved) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_tty);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Reads bytes up to '\n' (or the end) into a SecretBytes of kMaxPassphraseBytes + 2.
Result<SecretBytes, std::string> read_line(int fd, const std::string& what) {
  SecretBytes buf(kMaxPassphraseBytes + 2);
  std::size_t n = 0;
  for (;;) {
    if (n == buf.size()) return fail("the passphrase in " + what + " is longer than 4096 bytes");
    std::uint8_t c = 0;
    const ssize_t r = ::read(fd, &c, 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail("cannot read " + what + ": " + std::strerror(errno));
    }
    if (r == 0 || c == '\n') break;
    buf.data()[n++] = c;
    c = 0;
  }
  if (n > 0 && buf.data()[n - 1] == '\r') --n;
  buf.truncate(n);
  if (n > kMaxPassphraseBytes)
    return fail("the passphrase in " + what + " is longer than 4096 bytes");
  return buf;
}

}  // namespace

Result<SecretBytes, std::string> read_passphrase_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open the passphrase file " + path + ": " + std::strerror(errno));
  auto line = read_line(fd, "the passphrase file " + path);
  ::close(fd);
  if (!line) return line;
  if (line->empty()) return fail("the first line of the passphrase file " + path + " is empty");
  return line;
}

Result<SecretBytes, std::string> prompt_passphrase(std::string_view prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return fail(std::string("no passphrase given and no terminal to ask on: use --passphrase-file "
                            "FILE or set ") +
                kPassphraseEnv);
  struct termios saved {};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  void (*old_int)(int) = SIG_DFL;
  void (*old_term)(int) = SIG_DFL;
  if (is_tty) {
    g_tty_fd = fd;
    g_saved_tty = saved;
    g_tty_saved = 1;
    old_int = std::signal(SIGINT, restore_tty_and_reraise);
    old_term = std::signal(SIGTERM, restore_tty_and_reraise);
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  [[maybe_unused]] auto w = ::write(fd, prompt.data(), prompt.size());
  auto line = read_line(fd, "the terminal");
  if (is_tty) {
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    g_tty_saved = 0;
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
  ::close(fd);
  if (!line) return line;
  if (line->empty()) return fail(std::string("the passphrase is empty"));
  return line;
}

Result<SecretBytes, std::string> read_passphrase(const PassphraseRequest& request) {
  if (request.file) return read_passphrase_file(*request.file);
  if (const char* env = std::getenv(request.env); env != nullptr) {
    const std::size_t n = std::strlen(env);
    if (n == 0) return fail(std::string(request.env) + " is set but empty");
    if (n > kMaxPassphraseBytes)
      return fail(std::string(request.env) + " is longer than 4096 bytes");
    return SecretBytes::copy_of(ByteView(reinterpret_cast<const std::uint8_t*>(env), n));
  }
  SOTTO_TRY(SecretBytes first, prompt_passphrase(request.prompt));
  if (!request.confirm) return first;
  SOTTO_TRY(SecretBytes again, prompt_passphrase("Repeat the passphrase: "));
  if (!first.equals(again)) return fail(std::string("the two passphrases differ"));
  return first;
}

}  // namespace sotto::client
