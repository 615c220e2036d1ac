// server_messages.hpp — for test clients that read the relay's frames one
// message at a time: a Responses frame (protocol version 2, several answers in
// one frame) is split into the answers it carries, in order, so a test waiting
// for one answer sees it whether or not the relay batched it.
#pragma once

#include <deque>
#include <utility>
#include <variant>

#include "common/wire_requests.hpp"

namespace sotto::test {

inline void unbatch(relay::ServerMessage message, std::deque<relay::ServerMessage>& out) {
  if (auto* batch = std::get_if<relay::Responses>(&message)) {
    for (auto& r : batch->responses) out.emplace_back(std::move(r));
    return;
  }
  out.push_back(std::move(message));
}

}  // namespace sotto::test
