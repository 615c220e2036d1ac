// chat.cpp — see chat.hpp.
#include "client/chat.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "client/line_editor.hpp"

namespace sotto::client {
namespace {

constexpr std::string_view kPrompt = "> ";

// ---- signals: restore the terminal at once, then wake the loop ----

int g_wake_fd = -1;                      // write end of the self-pipe
int g_tty_fd = -1;                       // the terminal in raw mode, or -1
termios g_saved_termios{};               // its settings before raw mode
volatile sig_atomic_t g_raw_active = 0;  // raw mode is on
volatile sig_atomic_t g_signal = 0;      // SIGINT/SIGTERM/SIGHUP received
volatile sig_atomic_t g_winch = 0;       // the window changed size

extern "C" void chat_on_signal(int sig) {
  const int saved_errno = errno;
  if (sig == SIGWINCH) {
    g_winch = 1;
  } else {
    if (g_raw_active) (void)::tcsetattr(g_tty_fd, TCSANOW, &g_saved_termios);
    g_raw_active = 0;
    g_signal = sig;
  }
  if (g_wake_fd >= 0) (void)!::write(g_wake_fd, "s", 1);
  errno = saved_errno;
}

class SignalGuard {
 public:
  SignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = chat_on_signal;
    sigemptyset(&sa.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~SignalGuard() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  static constexpr std::array<int, 4> kSignals{SIGINT, SIGTERM, SIGHUP, SIGWINCH};
  std::array<struct sigaction, 4> old_{};
};

// Raw mode for the whole life of the object (restored by the destructor).
class RawTerminal {
 public:
  explicit RawTerminal(int fd) {
    if (::tcgetattr(fd, &g_saved_termios) != 0) return;
    termios raw = g_saved_termios;
    // No echo, no line editing by the driver, keys like ^C arrive as bytes;
    // CR is not turned into LF on input. Output processing (OPOST) stays on.
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL | INLCR | IGNCR | ISTRIP);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    g_tty_fd = fd;
    if (::tcsetattr(fd, TCSANOW, &raw) == 0) g_raw_active = 1;
  }
  ~RawTerminal() {
    if (g_raw_active) (void)::tcsetattr(g_tty_fd, TCSANOW, &g_saved_termios);
    g_raw_active = 0;
    g_tty_fd = -1;
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  bool active() const { return g_raw_active != 0; }
};

void write_all(int fd, ByteView bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal or pipe is gone: nothing to tell it
    done += static_cast<std::size_t>(n);
  }
}
void write_all(int fd, std::string_view text) {
  write_all(fd, label_bytes(text));
}

std::size_t terminal_width(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

bool starts_with(ByteView v, std::string_view prefix) {
  return v.size() >= prefix.size() && std::memcmp(v.data(), prefix.data(), prefix.size()) == 0;
}
bool equals(ByteView v, std::string_view s) {
  return v.size() == s.size() && starts_with(v, s);
}

// ---- what the threads hand to the terminal thread ----

class Inbox {
 public:
  explicit Inbox(int wake_fd) : wake_fd_(wake_fd) {}
  void push(ChatLine line) {
    {
      std::lock_guard lock(mu_);
      lines_.push_back(std::move(line));
    }
    (void)!::write(wake_fd_, "m", 1);
  }
  std::deque<ChatLine> take() {
    std::lock_guard lock(mu_);
    return std::exchange(lines_, {});
  }
  void set_fatal(std::string why) {
    {
      std::lock_guard lock(mu_);
      fatal_ = std::move(why);
    }
    (void)!::write(wake_fd_, "f", 1);
  }
  std::optional<std::string> fatal() {
    std::lock_guard lock(mu_);
    return fatal_;
  }

 private:
  int wake_fd_;
  std::mutex mu_;
  std::deque<ChatLine> lines_;
  std::optional<std::string> fatal_;
};

ChatLine notice(ChatLine::Kind kind, std::string_view text) {
  return ChatLine{kind, {}, SecretBytes::copy_of(label_bytes(text))};
}

// Sends queued lines in order on its own thread; reports each outcome.
class Sender {
 public:
  Sender(ChatBackend& backend, Inbox& inbox)
      : backend_(backend), inbox_(inbox), thread_([this](std::stop_token st) { loop(st); }) {}
  ~Sender() {
    thread_.request_stop();
    cv_.notify_all();
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void enqueue(SecretBytes text) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(text));
      ++pending_;
    }
    cv_.notify_all();
  }
  bool idle() {
    std::lock_guard lock(mu_);
    return pending_ == 0;
  }
  // Stops after the send in progress; returns how many queued lines were dropped.
  std::size_t stop() {
    std::size_t dropped = 0;
    {
      std::lock_guard lock(mu_);
      dropped = queue_.size();
      queue_.clear();
    }
    thread_.request_stop();
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return dropped;
  }
  int failures() const { return failures_.load(); }

 private:
  void loop(std::stop_token st) {
    for (;;) {
      SecretBytes text;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, st, [&] { return !queue_.empty(); });
        if (st.stop_requested()) return;
        text = std::move(queue_.front());
        queue_.pop_front();
      }
      auto sent = backend_.send(text);
      if (!sent) ++failures_;
      {
        // Idle before the outcome is posted: the terminal thread, woken by
        // it, must see the queue drained (scripted mode leaves then).
        std::lock_guard lock(mu_);
        --pending_;
      }
      if (sent)
        inbox_.push(ChatLine{ChatLine::kMessage, "you", std::move(text)});
      else
        inbox_.push(notice(ChatLine::kError, "not sent: " + sent.error()));
    }
  }

  ChatBackend& backend_;
  Inbox& inbox_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<SecretBytes> queue_;
  std::size_t pending_ = 0;  // queued or being sent
  std::atomic<int> failures_{0};
  std::jthread thread_;  // last: started after everything it uses
};

// ---- the chat loop ----

class Chat {
 public:
  Chat(ChatBackend& backend, const ChatOptions& o, bool interactive, int wake_read, Inbox& inbox)
      : backend_(backend),
        o_(o),
        interactive_(interactive),
        sanitize_(interactive || ::isatty(o.out_fd) == 1),
        wake_read_(wake_read),
        inbox_(inbox),
        editor_(kPrompt, interactive ? terminal_width(o.out_fd) : 0),
        sender_(backend, inbox) {}

  int run();
  // Stops the sender (after the send in progress) and shows what it posted
  // last; returns how many queued lines were never sent.
  std::size_t finish() {
    const std::size_t dropped = sender_.stop();
    for (auto& l : inbox_.take()) show(l);
    return dropped;
  }
  int failures() const { return sender_.failures(); }

 private:
  void show(const ChatLine& line);
  void show_notice(std::string_view text) { show(notice(ChatLine::kNotice, text)); }
  // A submitted line: a command, or text to send. false: quit.
  bool handle_line(SecretBytes line);
  void redraw() {
    if (interactive_) write_all(o_.out_fd, editor_.render().view());
  }

  ChatBackend& backend_;
  const ChatOptions& o_;
  bool interactive_;
  bool sanitize_;
  int wake_read_;
  Inbox& inbox_;
  LineEditor editor_;
  Sender sender_;
  SecretText partial_;  // scripted mode: the line read so far
};

void Chat::show(const ChatLine& line) {
  SecretText text;
  switch (line.kind) {
    case ChatLine::kMessage:
      text.append(std::string_view(line.who));
      text.append(std::string_view(": "));
      break;
    case ChatLine::kNotice:
      text.append(std::string_view("* "));
      break;
    case ChatLine::kError:
      text.append(std::string_view("! "));
      break;
  }
  if (sanitize_) {
    SecretBytes clean = sanitize_for_terminal(line.text.view());
    text.append(clean.view());
  } else {
    text.append(line.text.view());
  }
  if (interactive_) {
    SecretBytes body = text.take();
    write_all(o_.out_fd, editor_.print_above(body.view()).view());
    return;
  }
  // Scripted: messages on stdout (not our own), notices on stderr.
  if (line.kind == ChatLine::kMessage && line.who == "you") return;
  text.append(std::string_view("\n"));
  SecretBytes body = text.take();
  const int fd = line.kind == ChatLine::kMessage ? o_.out_fd : o_.err_fd;
  if (line.kind != ChatLine::kMessage) write_all(fd, std::string_view("sotto: "));
  write_all(fd, body.view());
}

bool Chat::handle_line(SecretBytes line) {
  ByteView v = line.view();
  if (!v.empty() && v.back() == '\r') v = v.first(v.size() - 1);
  if (v.empty()) return true;
  if (starts_with(v, "//")) {
    sender_.enqueue(SecretBytes::copy_of(v.subspan(1)));
    return true;
  }
  if (!starts_with(v, "/")) {
    sender_.enqueue(SecretBytes::copy_of(v));
    return true;
  }
  if (equals(v, "/quit") || equals(v, "/exit")) return false;
  if (equals(v, "/help")) {
    for (const auto& l : chat_help_lines()) show_notice(l);
  } else if (equals(v, "/verify")) {
    auto lines = backend_.verify();
    if (!lines)
      show(notice(ChatLine::kError, lines.error()));
    else
      for (const auto& l : *lines) show_notice(l);
  } else {
    show(notice(ChatLine::kError, "unknown command (/help lists them)"));
  }
  return true;
}

int Chat::run() {
  if (interactive_) {
    show_notice("chatting with " + o_.peer_name + " (/help for commands, /quit to leave)");
    redraw();
  }
  bool input_open = true;
  std::array<std::uint8_t, 4096> buf{};
  for (;;) {
    // End of scripted input: leave once every queued line was sent.
    if (!input_open && sender_.idle()) {
      for (auto& l : inbox_.take()) show(l);
      return 0;
    }
    pollfd fds[2] = {{wake_read_, POLLIN, 0}, {o_.in_fd, POLLIN, 0}};
    const int n = ::poll(fds, input_open ? 2 : 1, -1);
    if (n < 0 && errno != EINTR) return 1;
    if (g_signal != 0) return 0;  // SIGINT/SIGTERM/SIGHUP: a clean exit, like recv --follow
    if (fds[0].revents & POLLIN) {
      std::array<char, 64> drain{};
      (void)!::read(wake_read_, drain.data(), drain.size());
      if (g_winch) {
        g_winch = 0;
        editor_.set_width(terminal_width(o_.out_fd));
        redraw();
      }
      for (auto& l : inbox_.take()) show(l);
      if (inbox_.fatal()) return 1;
    }
    if (!input_open || !(fds[1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const ssize_t got = ::read(o_.in_fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      input_open = false;
      if (interactive_) return 0;
      if (partial_.size() > 0 && !handle_line(partial_.take())) return 0;
      continue;
    }
    const ByteView keys(buf.data(), static_cast<std::size_t>(got));
    if (interactive_) {
      auto out = editor_.feed(keys);
      sodium_memzero(buf.data(), buf.size());  // typed text
      if (!out.output.empty()) write_all(o_.out_fd, out.output.view());
      for (auto& e : out.events) {
        if (e.kind != EditorEvent::kSubmit) return 0;  // ^C, ^D: leave
        if (!handle_line(std::move(e.line))) return 0;
      }
      continue;
    }
    for (std::uint8_t b : keys) {
      if (b != '\n') {
        partial_.append(ByteView(&b, 1));
        continue;
      }
      if (!handle_line(partial_.take())) return 0;
    }
    sodium_memzero(buf.data(), buf.size());  // typed text
  }
}

}  // namespace

std::vector<std::string> chat_help_lines() {
  return {"type a line and press Enter to send it",
          "/verify  show the safety number and whether it was verified", "/help    this list",
          "/quit    leave (also ^C, or ^D on an empty line)",
          "//text   send a line that starts with /"};
}

int run_chat(ChatBackend& backend, const ChatOptions& options) {
  const bool interactive = options.mode == ChatOptions::Mode::kInteractive ||
                           (options.mode == ChatOptions::Mode::kAuto &&
                            ::isatty(options.in_fd) == 1 && ::isatty(options.out_fd) == 1);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    write_all(options.err_fd, std::string_view("sotto: chat: cannot create a pipe\n"));
    return 1;
  }
  g_wake_fd = wake[1];
  g_signal = 0;
  g_winch = 0;
  int status = 0;
  std::optional<std::string> fatal;
  std::size_t dropped = 0;
  int failures = 0;
  {
    SignalGuard signals;
    std::optional<RawTerminal> raw;
    if (interactive) raw.emplace(options.in_fd);
    Inbox inbox(wake[1]);
    Chat chat(backend, options, interactive, wake[0], inbox);
    std::jthread follower([&](std::stop_token st) {
      auto r = backend.follow([&](ChatLine l) { inbox.push(std::move(l)); }, st);
      if (!r) inbox.set_fatal(r.error());
    });
    status = chat.run();
    dropped = chat.finish();
    failures = chat.failures();
    follower.request_stop();
    follower.join();
    fatal = inbox.fatal();
    if (interactive) write_all(options.out_fd, std::string_view("\r\x1b[2K"));
  }  // the terminal is restored here
  g_wake_fd = -1;
  ::close(wake[0]);
  ::close(wake[1]);
  if (fatal) {
    write_all(options.err_fd, "sotto: receiving stopped: " + *fatal + "\n");
    if (status == 0) status = 1;
  }
  if (dropped > 0)
    write_all(options.err_fd,
              "sotto: " + std::to_string(dropped) + " line(s) not sent (chat ended first)\n");
  if (status == 0 && !interactive && failures > 0) status = 1;
  return status;
}

}  // namespace sotto::client
