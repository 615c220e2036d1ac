// cli.hpp — the `sotto` command line (CLI11): global options, the commands,
// and what each prints (cli_output.hpp). main() is run_cli().
//
//   sotto [--profile DIR] [--json] [--passphrase-file FILE] COMMAND ...
//     init --relay ADDRESS [--kdf moderate|interactive|minimum]
//     id
//     contact add NAME ID | contact list | contact remove NAME
//     send NAME TEXT            (TEXT "-": standard input, up to its end)
//     recv [--follow] [--timeout SECONDS]
//     chat NAME                 (client/chat.*)
//     history NAME [--limit N]
//     verify NAME [--mark-verified]
//     passwd [--new-passphrase-file FILE] [--kdf ...]
//
// The profile directory: --profile, else $SOTTO_PROFILE, else
// $XDG_DATA_HOME/sotto, else ~/.local/share/sotto. The passphrase:
// passphrase.hpp. The Argon2id cost of a new or re-wrapped passphrase:
// --kdf, else $SOTTO_KDF, else "moderate" ("minimum" is for tests only).
//
// recv: without --follow, prints what is pending and exits; --timeout S then
// waits up to S seconds for a first message when none is pending. With
// --follow it prints messages as they arrive until interrupted (SIGINT or
// SIGTERM: exits 0) or, with --timeout S, for S seconds; it reconnects when
// the relay goes away (notices on stderr).
//
// Exit codes: 0 success; 1 the command failed (the reason is printed on
// stderr as "sotto: ..."); 2 usage error (unknown command or option, missing
// argument). Errors never print a stack trace, a key, a passphrase or message
// text. `send` exits 0 only once the relay has ACCEPTED the message.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "client/messenger.hpp"
#include "client/system_clock.hpp"
#include "common/rng.hpp"

namespace sotto::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::optional<std::string> profile;          // --profile
  bool json = false;                           // --json
  std::optional<std::string> passphrase_file;  // --passphrase-file
};

// What a command needs: the options, the streams, the RNG and clock, and the
// opened profile. Commands (and chat) use it; it is made by run_cli().
class CliContext {
 public:
  CliContext(GlobalOptions globals, std::ostream& out, std::ostream& err);

  const GlobalOptions& globals() const { return globals_; }
  bool json() const { return globals_.json; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  Rng& rng() { return rng_; }
  const sotto::Clock& clock() const { return clock_; }

  // The profile directory (see above); an error when none can be found.
  Result<std::filesystem::path, std::string> profile_dir() const;
  // Reads the passphrase and opens the profile (once; later calls return it).
  MessengerResult<Messenger*> open();
  // Prints "sotto: <message>" on stderr and returns kExitFailure.
  int failure(const std::string& message);
  int failure(const MessengerError& e) { return failure(e.message); }

 private:
  GlobalOptions globals_;
  std::ostream& out_;
  std::ostream& err_;
  SystemRng rng_;
  SystemClock clock_;
  std::unique_ptr<Messenger> messenger_;
};

// Messenger options for the program (defaults; Argon2id cost from `kdf`).
MessengerOptions program_options(const std::optional<std::string>& kdf = std::nullopt);

// Parses and runs; returns the exit code. Never throws.
int run_cli(int argc, char** argv);

}  // namespace sotto::client
