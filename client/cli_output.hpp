// cli_output.hpp — how `sotto` prints: one line per message or record, as text
// for people or, with --json, one JSON object per line for programs.
//
// Message text is written from SecretBytes straight to the stream (JSON-escaped
// in --json mode): printing plaintext to stdout is the program's purpose, but
// it never passes through a std::string, a log or an error message. Text that
// is not valid UTF-8 is written with U+FFFD in place of each bad byte in JSON
// (so every line is valid JSON) and as is in text mode.
//
// Line formats (README.md and `sotto --help` repeat them):
//   recv     text  "NAME: text"  (NAME = the contact name, or the sender's id)
//            json  {"from":NAME|null,"id":ID,"time":UNIX,"text":TEXT}
//   undecryptable (text mode: on stderr, "sotto: could not decrypt a message from NAME: WHY")
//            json  {"from":NAME|null,"id":ID|null,"time":UNIX,"error":"undecryptable","reason":WHY}
//   history  text  "YYYY-MM-DD HH:MM:SS NAME: text"  (NAME "me" for outgoing)
//            json  {"direction":"in"|"out","time":UNIX,"text":TEXT} (+ "undecryptable":true)
// (compact, like every other --json line: nlohmann::json::dump()).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "client/messenger.hpp"
#include "common/bytes.hpp"

namespace sotto::client {

// Writes `bytes` as a JSON string literal (quotes included).
void write_json_string(std::ostream& out, ByteView bytes);
inline void write_json_string(std::ostream& out, std::string_view s) {
  write_json_string(out, ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// "YYYY-MM-DD HH:MM:SS" in local time.
std::string format_time(std::uint64_t unix_seconds);

// A received message or undecryptable notice (see the formats above).
// `out` is stdout, `err` stderr; flushes.
void print_received(std::ostream& out, std::ostream& err, bool json, const ReceivedMessage& m);

// One history entry with `peer` (the contact name).
void print_history_entry(std::ostream& out, bool json, std::string_view peer,
                         const HistoryEntry& e);

}  // namespace sotto::client
