// cli.hpp — sotto-relay's command line (CLI11): init, run, address, disclose, stats.
//
//   sotto-relay init --data DIR [--listen HOST:PORT]
//   sotto-relay run --data DIR [--listen HOST:PORT] [--log-level L] [--metrics-listen HOST:PORT]
//   sotto-relay address --data DIR
//   sotto-relay disclose --data DIR --account ID [--json]
//   sotto-relay stats --data DIR [--json]
//
// Every flag but --data (which locates relay.toml) is also a relay.toml key;
// a flag overrides the file. Unknown flags, missing required flags and bad
// values print an error naming them and exit with status 2; a failure while
// running (unreadable key, damaged store) exits with status 1. Output goes to
// stdout, errors and logs to stderr.
#pragma once

#include <iosfwd>

namespace sotto::relay {

// Runs the command line; returns the process exit status. `allocator` names the
// memory allocator the executable was linked with (logged by `run`).
int run_cli(int argc, char** argv, const char* allocator = "glibc malloc");

}  // namespace sotto::relay
