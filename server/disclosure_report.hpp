// disclosure_report.hpp — what `disclose` and `stats` print: the store's
// Disclosure / StoreStats rendered as text for people or JSON for tools.
//
// A disclosure lists every field the relay holds about one account (public
// keys, created and last-seen day, one-time prekey ids, queued message
// sequence numbers, sizes and arrival hours) and states what it does not hold.
// It never prints ciphertext: its size is what is held that could matter.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "server/store.hpp"

namespace sotto::relay {

nlohmann::json disclosure_json(const Disclosure& d);
std::string disclosure_text(const Disclosure& d);

nlohmann::json stats_json(const StoreStats& s);
std::string stats_text(const StoreStats& s);

// "2026-11-30" for a unix day number; "2026-11-30T14:00Z" for an arrival bucket.
std::string format_day(UnixDay day);
std::string format_hour(ArrivalBucket bucket);

}  // namespace sotto::relay
