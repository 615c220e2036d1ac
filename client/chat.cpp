// chat.cpp — PLACEHOLDER for `sotto chat NAME` (see chat.hpp): the
// interactive chat is written separately and replaces this file whole.
#include "client/chat.hpp"

namespace sotto::client {

int run_chat(CliContext& ctx, const std::string& contact_name) {
  (void)contact_name;
  return ctx.failure(
      "`sotto chat` is not available in this build; use `sotto send` and "
      "`sotto recv --follow`");
}

}  // namespace sotto::client
