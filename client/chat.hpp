// chat.hpp — `sotto chat NAME`: the interactive chat (type and send lines
// while incoming messages appear, /quit, /verify, /help). Implemented by the
// chat helper in client/chat.cpp over Messenger::run_follow (a receiving
// thread) and the thread-safe Messenger::send (messenger.hpp).
//
// Returns the process exit code (cli.hpp: 0 ok, 1 failure). What fails is
// reported through ctx.failure().
#pragma once

#include <string>

#include "client/cli.hpp"

namespace sotto::client {

int run_chat(CliContext& ctx, const std::string& contact_name);

}  // namespace sotto::client
