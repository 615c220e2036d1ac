// outbox.hpp — envelopes sealed and committed but not yet ACCEPTED by the relay.
//
// Sending commits the advanced ratchet state, the history row and the
// envelope (here) in one transaction BEFORE the envelope leaves, so a crash
// never makes the client encrypt twice under one message key. The envelope
// stays in the outbox until the relay answers ACCEPTED (removed), refuses it
// for good (removed, reported), or the answer is unknown (kept: sent again by
// the next command that talks to the relay; a duplicate that did reach the
// relay the first time is recognised by the recipient by its bytes and
// dropped, docs/protocol.md section 70 7.7).
//
// Kept in the profile store as the setting "outbox" (sealed like every value):
//   u32be(count) || count x ( recipient IK (32) || u32be(len) || envelope )
// Entries are in the order they were sealed and are sent in that order.
// What fails: a value that does not parse is kTampered for "settings".
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "client/profile_store.hpp"
#include "common/bytes.hpp"
#include "common/identity.hpp"

namespace sotto::client {

inline constexpr std::string_view kOutboxSetting = "outbox";

struct OutboxEntry {
  IdentityPublicKey recipient;
  Bytes envelope;
  bool operator==(const OutboxEntry&) const = default;
};

Bytes encode_outbox(const std::vector<OutboxEntry>& entries);
std::optional<std::vector<OutboxEntry>> decode_outbox(ByteView bytes);

StoreResult<std::vector<OutboxEntry>> load_outbox(ProfileStore& store);
// Writes the list (removes the setting when it is empty).
StoreResult<void> save_outbox(ProfileStore& store, const std::vector<OutboxEntry>& entries);

}  // namespace sotto::client
