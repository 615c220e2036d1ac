// outbox.cpp — see outbox.hpp.
#include "client/outbox.hpp"

#include <algorithm>

namespace sotto::client {

Bytes encode_outbox(const std::vector<OutboxEntry>& entries) {
  Bytes out;
  put_u32be(out, static_cast<std::uint32_t>(entries.size()));
  for (const auto& e : entries) {
    out.insert(out.end(), e.recipient.bytes.begin(), e.recipient.bytes.end());
    put_u32be(out, static_cast<std::uint32_t>(e.envelope.size()));
    out.insert(out.end(), e.envelope.begin(), e.envelope.end());
  }
  return out;
}

std::optional<std::vector<OutboxEntry>> decode_outbox(ByteView bytes) {
  SecretReader r(bytes);
  auto count = r.u32();
  if (!count) return std::nullopt;
  std::vector<OutboxEntry> out;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto recipient = r.bytes(32);
    auto len = r.u32();
    if (!recipient || !len) return std::nullopt;
    auto envelope = r.bytes(*len);
    if (!envelope) return std::nullopt;
    OutboxEntry e;
    e.recipient = *IdentityPublicKey::from(*recipient);
    e.envelope.assign(envelope->begin(), envelope->end());
    out.push_back(std::move(e));
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

StoreResult<std::vector<OutboxEntry>> load_outbox(ProfileStore& store) {
  SOTTO_TRY(auto stored, store.setting(kOutboxSetting));
  if (!stored) return std::vector<OutboxEntry>{};
  auto decoded = decode_outbox(stored->view());
  if (!decoded) return tampered("settings", "the outbox does not parse");
  return std::move(*decoded);
}

StoreResult<void> save_outbox(ProfileStore& store, const std::vector<OutboxEntry>& entries) {
  if (entries.empty()) {
    SOTTO_TRY(bool removed, store.remove_setting(kOutboxSetting));
    (void)removed;
    return {};
  }
  const Bytes encoded = encode_outbox(entries);
  return store.put_setting(kOutboxSetting, encoded);
}

}  // namespace sotto::client
