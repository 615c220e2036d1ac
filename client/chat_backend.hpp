// chat_backend.hpp — `sotto chat`'s backend over the Messenger: follow() is
// Messenger::run_follow (messages and notices become chat lines), send() is
// Messenger::send to the chat's contact, verify() the safety number and the
// verification state kept with the contact.
//
// Threads: the Messenger takes its own lock on every call (messenger.hpp), so
// follow() on one thread and send() on another is what it is made for.
// Ownership: borrows the Messenger, which must outlive the backend. What
// fails: each call returns the MessengerError's message (names, statuses,
// never message text).
#pragma once

#include <string>

#include "client/chat.hpp"
#include "client/messenger.hpp"

namespace sotto::client {

class MessengerChatBackend : public ChatBackend {
 public:
  MessengerChatBackend(Messenger& messenger, std::string peer_name)
      : messenger_(messenger), peer_(std::move(peer_name)) {}

  Result<void, std::string> follow(const std::function<void(ChatLine)>& on_line,
                                   std::stop_token stop) override;
  Result<void, std::string> send(const SecretBytes& text) override;
  Result<std::vector<std::string>, std::string> verify() override;

 private:
  Messenger& messenger_;
  std::string peer_;
};

}  // namespace sotto::client
