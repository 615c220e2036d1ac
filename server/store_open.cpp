// store_open.cpp — see store_open.hpp.
#include "server/store_open.hpp"

#include "server/sqlite_store.hpp"

namespace sotto::relay {

StoreLimits store_limits_from(const RelayConfig& config) {
  StoreLimits limits;
  limits.max_one_time_prekeys = config.quotas.one_time_prekeys;
  limits.mailbox_max_messages = config.quotas.mailbox_messages;
  limits.mailbox_max_bytes = config.quotas.mailbox_bytes;
  limits.retention_seconds = config.store.retention();
  return limits;
}

Result<std::unique_ptr<RelayStore>, std::string> open_relay_store(
    const std::filesystem::path& data_dir, const RelayConfig& config) {
  SqliteStoreOptions options;
  options.path = (data_dir / kStoreFile).string();
  options.durability =
      config.store.synchronous == Synchronous::kFull ? Durability::kFull : Durability::kNormal;
  options.limits = store_limits_from(config);
  options.hold = std::chrono::milliseconds(config.store.hold_ms);
  options.hold_max_envelopes = config.store.hold_max_envelopes;
  options.hold_max_bytes = config.store.hold_max_bytes;
  auto store = SqliteStore::open(std::move(options));
  if (!store)
    return fail("cannot open the store " + (data_dir / kStoreFile).string() + ": " +
                std::string(to_string(store.error().code)) +
                (store.error().detail.empty() ? "" : " (" + store.error().detail + ")"));
  return std::unique_ptr<RelayStore>(std::move(*store));
}

}  // namespace sotto::relay
