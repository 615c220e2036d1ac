// passphrase.hpp — where `sotto` gets the profile's passphrase, straight into
// SecretBytes (never a std::string), in this order:
//
//   1. --passphrase-file FILE: the file's first line, without its line ending
//      ("\n" or "\r\n"). For unattended use; keep the file 0600.
//   2. the environment variable SOTTO_PASSPHRASE. Weaker: the environment of a
//      process is readable in /proc/PID/environ by the same user (and by root),
//      and is inherited by every child process.
//   3. a prompt on the terminal (/dev/tty, so stdin stays free for message
//      text), with echo off; when creating a passphrase (init, passwd) it is
//      asked twice and must match.
//
// New passphrases for `passwd` come from --new-passphrase-file FILE, then
// SOTTO_NEW_PASSPHRASE, then the terminal (twice).
//
// What fails: a file that cannot be read or whose first line is empty, an empty
// variable, no terminal to ask on, an empty answer, two answers that differ,
// more than kMaxPassphraseBytes. Messages never contain the passphrase.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "client/store_crypto.hpp"
#include "common/result.hpp"
#include "common/secret.hpp"

namespace sotto::client {

// kMaxPassphraseBytes (4096) comes from the store (store_crypto.hpp).

inline constexpr char kPassphraseEnv[] = "SOTTO_PASSPHRASE";
inline constexpr char kNewPassphraseEnv[] = "SOTTO_NEW_PASSPHRASE";

struct PassphraseRequest {
  std::optional<std::string> file;  // --passphrase-file
  const char* env = kPassphraseEnv;
  std::string prompt = "Passphrase: ";
  bool confirm = false;  // ask twice on the terminal (creating a passphrase)
};

// The passphrase from the first source that is set (see above).
[[nodiscard]] Result<SecretBytes, std::string> read_passphrase(const PassphraseRequest& request);

// The first line of `path` (without "\n" / "\r\n").
[[nodiscard]] Result<SecretBytes, std::string> read_passphrase_file(const std::string& path);

// Asks on /dev/tty with echo off (Ctrl-C restores the terminal first).
[[nodiscard]] Result<SecretBytes, std::string> prompt_passphrase(std::string_view prompt);

}  // namespace sotto::client
