// test_chat.cpp — `sotto chat`'s loop (client/chat.*) with a fake backend:
// scripted mode (lines from a pipe are sent in order, commands are not sent,
// incoming messages are printed as "NAME: text", end of input waits for the
// sends, a failed send makes the exit status 1) and interactive mode driven
// through pipes (an incoming message is printed above the half-typed line,
// which stays intact; ^C leaves; a contact's escape sequences are defused).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "client/chat.hpp"

using namespace sotto;
using namespace sotto::client;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string str(const SecretBytes& s) {
  return std::string(s.view().begin(), s.view().end());
}

class FakeBackend : public ChatBackend {
 public:
  Result<void, std::string> follow(const std::function<void(ChatLine)>& on_line,
                                   std::stop_token stop) override {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, stop, [&] { return !incoming_.empty(); });
      if (stop.stop_requested()) return {};
      auto [who, text] = incoming_.front();
      incoming_.erase(incoming_.begin());
      lock.unlock();
      on_line(ChatLine{ChatLine::kMessage, who, SecretBytes::copy_of(label_bytes(text))});
      lock.lock();
    }
  }
  Result<void, std::string> send(const SecretBytes& text) override {
    std::lock_guard lock(mu_);
    sent_.push_back(str(text));
    if (str(text) == "fail me") return fail(std::string("the relay refused it"));
    return {};
  }
  Result<std::vector<std::string>, std::string> verify() override {
    return std::vector<std::string>{"safety number 12345 67890", "not verified"};
  }
  void deliver(std::string who, std::string text) {
    {
      std::lock_guard lock(mu_);
      incoming_.emplace_back(std::move(who), std::move(text));
    }
    cv_.notify_all();
  }
  std::vector<std::string> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<std::pair<std::string, std::string>> incoming_;
  std::vector<std::string> sent_;
};

struct TempFile {
  fs::path path;
  int fd = -1;
  explicit TempFile(const std::string& name) {
    std::string templ = (fs::temp_directory_path() / ("sotto-chat-" + name + "-XXXXXX")).string();
    fd = ::mkstemp(templ.data());
    path = templ;
  }
  ~TempFile() {
    ::close(fd);
    std::error_code ec;
    fs::remove(path, ec);
  }
  std::string read() const {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 10s) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (read().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

void write_fd(int fd, const std::string& s) {
  REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
}

}  // namespace

TEST_CASE("chat, scripted: lines are sent in order, commands are not", "[chat]") {
  FakeBackend backend;
  TempFile out("out"), err("err");
  int in[2];
  REQUIRE(::pipe(in) == 0);
  ChatOptions o{"bob", in[0], out.fd, err.fd, ChatOptions::Mode::kScripted};
  auto done = std::async(std::launch::async, [&] { return run_chat(backend, o); });

  write_fd(in[1], "hello bob\n/verify\n//starts with a slash\n\n/help\nbye\r\n");
  backend.deliver("bob", "hi there");
  REQUIRE(out.wait_for("bob: hi there\n"));
  write_fd(in[1], "last line without newline");
  ::close(in[1]);
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  CHECK(done.get() == 0);
  ::close(in[0]);
  CHECK(backend.sent() == std::vector<std::string>{"hello bob", "/starts with a slash", "bye",
                                                   "last line without newline"});
  // Our own lines are not echoed on stdout; notices go to stderr.
  CHECK(out.read() == "bob: hi there\n");
  CHECK(err.read().find("safety number 12345 67890") != std::string::npos);
  CHECK(err.read().find("/quit") != std::string::npos);
}

TEST_CASE("chat, scripted: /quit stops reading, a failed send is exit status 1", "[chat]") {
  FakeBackend backend;
  TempFile out("out"), err("err");
  int in[2];
  REQUIRE(::pipe(in) == 0);
  ChatOptions o{"bob", in[0], out.fd, err.fd, ChatOptions::Mode::kScripted};
  SECTION("quit") {
    write_fd(in[1], "one\n/quit\nnever sent\n");
    CHECK(run_chat(backend, o) == 0);
    const auto sent = backend.sent();
    CHECK(std::find(sent.begin(), sent.end(), "never sent") == sent.end());
  }
  SECTION("failure") {
    write_fd(in[1], "fail me\nok\n");
    ::close(in[1]);
    in[1] = -1;
    CHECK(run_chat(backend, o) == 1);
    CHECK(backend.sent() == std::vector<std::string>{"fail me", "ok"});
    CHECK(err.read().find("not sent: the relay refused it") != std::string::npos);
  }
  if (in[1] >= 0) ::close(in[1]);
  ::close(in[0]);
}

TEST_CASE("chat, interactive: a message appears above the half-typed line", "[chat]") {
  FakeBackend backend;
  TempFile out("out"), err("err");
  int in[2];
  REQUIRE(::pipe(in) == 0);
  ChatOptions o{"bob", in[0], out.fd, err.fd, ChatOptions::Mode::kInteractive};
  auto done = std::async(std::launch::async, [&] { return run_chat(backend, o); });

  REQUIRE(out.wait_for("/help"));  // the greeting
  write_fd(in[1], "half a li");
  REQUIRE(out.wait_for("> half a li"));
  backend.deliver("bob", "an answer \x1b[2J arrives");
  // The prompt line is cleared, the message printed (its escape defused), and
  // the half line redrawn below it.
  REQUIRE(out.wait_for("\r\x1b[2Kbob: an answer ?[2J arrives\n\r\x1b[2K> half a li"));
  write_fd(in[1], "ne\r");
  REQUIRE(out.wait_for("you: half a line"));
  write_fd(in[1], "\x03");  // ^C leaves
  REQUIRE(done.wait_for(10s) == std::future_status::ready);
  CHECK(done.get() == 0);
  CHECK(backend.sent() == std::vector<std::string>{"half a line"});
  ::close(in[1]);
  ::close(in[0]);
}
