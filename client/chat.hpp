// chat.hpp — `sotto chat NAME`: type and send lines to one contact while
// incoming messages appear as they arrive, without mangling the line being
// typed.
//
//   run_chat(ctx, "bob");                                 // from the CLI, or:
//   MessengerChatBackend backend(*messenger, "bob");     // chat_backend.hpp
//   int status = run_chat(backend, {.peer_name = "bob"});
//
// Two modes, chosen by whether standard input and output are terminals:
// - Interactive: the terminal in raw mode (no echo, no line buffering, no
//   signals from keys; output processing kept, so "\n" is a new line), one
//   prompt line edited by LineEditor, messages printed above it. The terminal
//   is restored when chat returns, and on SIGINT, SIGTERM and SIGHUP (the
//   handler restores it at once, then the loop ends). The prompt follows the
//   window's width (SIGWINCH).
// - Scripted (stdin or stdout not a terminal): stdin is read line by line and
//   each line is sent; incoming messages are printed as "NAME: text" lines;
//   at the end of stdin chat waits for the pending sends and returns.
// In both, a line starting with "/" is a command: /quit, /verify (the safety
// number and whether it was verified), /help; "//text" sends "/text". Empty
// lines are not sent.
//
// Threads: the backend's follow() runs on its own thread and hands incoming
// lines over through a queue; sends run in order on a second thread (a slow
// or unreachable relay never freezes typing). The terminal is written only by
// the calling thread. The backend must be safe to call from both threads.
//
// What fails: run_chat returns the process exit status — 0 after /quit, ^C,
// ^D or end of input with every send accepted; 1 when a send failed (scripted
// mode) or receiving stopped for good (a relay key mismatch, a store failure:
// the reason is printed to stderr after the terminal is restored). SIGINT,
// SIGTERM and SIGHUP end the chat cleanly (0), as they end `recv --follow`.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto::client {

// One thing to show: an incoming message, or a notice from the program.
struct ChatLine {
  enum Kind { kMessage, kNotice, kError };
  Kind kind = kMessage;
  std::string who;   // kMessage: the sender's contact name, or its account id
  SecretBytes text;  // kMessage: the plaintext; otherwise the notice (no content)
};

// What chat needs from the messenger (implemented over it in chat_backend.*,
// and by a fake in the tests).
class ChatBackend {
 public:
  virtual ~ChatBackend() = default;
  // Receives until `stop` is requested, calling `on_line` for each message
  // (after it is stored) and each notice. An error means receiving cannot go
  // on (a retry would not help); its text is for people.
  virtual Result<void, std::string> follow(const std::function<void(ChatLine)>& on_line,
                                           std::stop_token stop) = 0;
  // Sends `text` to the peer; returns once the relay accepted it.
  virtual Result<void, std::string> send(const SecretBytes& text) = 0;
  // The lines /verify shows: the safety number and the verification state.
  virtual Result<std::vector<std::string>, std::string> verify() = 0;
};

struct ChatOptions {
  std::string peer_name;  // for the prompt and the messages
  int in_fd = 0;
  int out_fd = 1;
  int err_fd = 2;
  // Interactive mode when both fds are terminals (default), or forced.
  enum class Mode { kAuto, kInteractive, kScripted } mode = Mode::kAuto;
};

int run_chat(ChatBackend& backend, const ChatOptions& options);

// `sotto chat NAME` from the CLI (cli.cpp): opens the profile, checks that NAME
// is a contact (a clear error otherwise, before the terminal is touched), then
// runs the chat over the Messenger (chat_backend.*) on stdin/stdout/stderr.
class CliContext;
int run_chat(CliContext& ctx, const std::string& contact_name);

// The /help text, one command per line.
std::vector<std::string> chat_help_lines();

}  // namespace sotto::client
