// store_open.hpp — opens the relay's embedded store (SQLite, DIR/relay.db)
// with the limits and durability from relay.toml.
//
// What fails: a damaged or newer database, an unwritable directory: the
// message names the file and the store's reason. Ownership: the caller owns
// the store and must close() it before exit so pending commits finish.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "server/config.hpp"
#include "server/store.hpp"

namespace sotto::relay {

inline constexpr std::string_view kStoreFile = "relay.db";

StoreLimits store_limits_from(const RelayConfig& config);

[[nodiscard]] Result<std::unique_ptr<RelayStore>, std::string> open_relay_store(
    const std::filesystem::path& data_dir, const RelayConfig& config);

}  // namespace sotto::relay
