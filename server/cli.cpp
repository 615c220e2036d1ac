// cli.cpp — see cli.hpp.
#include "server/cli.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fcntl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include "common/rng.hpp"
#include "server/config.hpp"
#include "server/data_lock.hpp"
#include "server/disclosure_report.hpp"
#include "server/listener.hpp"
#include "server/relay_key.hpp"
#include "server/store_open.hpp"

namespace sotto::relay {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kConfigFile = "relay.toml";

// A failure while running a command: printed, exit status 1.
struct CommandError {
  std::string message;
};
using CommandResult = Result<void, CommandError>;
Failure<CommandError> command_error(std::string m) {
  return fail(CommandError{std::move(m)});
}

// CLI11 checks for HOST:PORT and log levels, so bad values are usage errors (status 2).
std::string check_host_port(const std::string& s) {
  auto r = parse_host_port(s);
  return r ? std::string() : r.error();
}
std::string check_log_level(const std::string& s) {
  auto r = parse_log_level(s);
  return r ? std::string() : r.error();
}

void setup_logging(LogLevel level) {
  auto logger = spdlog::stderr_color_mt("relay");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  switch (level) {
    case LogLevel::kTrace:
      spdlog::set_level(spdlog::level::trace);
      break;
    case LogLevel::kDebug:
      spdlog::set_level(spdlog::level::debug);
      break;
    case LogLevel::kInfo:
      spdlog::set_level(spdlog::level::info);
      break;
    case LogLevel::kWarn:
      spdlog::set_level(spdlog::level::warn);
      break;
    case LogLevel::kError:
      spdlog::set_level(spdlog::level::err);
      break;
    case LogLevel::kOff:
      spdlog::set_level(spdlog::level::off);
      break;
  }
}

Result<RelayConfig, CommandError> load_dir_config(const fs::path& dir) {
  if (!fs::is_directory(dir))
    return command_error(dir.string() + " is not a relay data directory (run `sotto-relay init`)");
  auto config = load_config(dir / kConfigFile);
  if (!config) return command_error(config.error());
  return std::move(*config);
}

// Writes `text` to a new file (O_EXCL) with `mode`.
CommandResult write_new_file(const fs::path& path, std::string_view text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return command_error("cannot create " + path.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return command_error("cannot write " + path.string());
  return {};
}

CommandResult cmd_init(const fs::path& dir, const std::string& listen_text) {
  auto listen = parse_host_port(listen_text);
  if (!listen) return command_error("--listen: " + listen.error());
  // The data directory is private to the relay's user.
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return command_error("cannot create " + dir.string() + ": " + std::strerror(errno));
  for (auto name : {kRelayKeyFile, kConfigFile, kStoreFile})
    if (fs::exists(dir / name))
      return command_error(dir.string() + " already holds " + std::string(name) +
                           "; init never overwrites a relay");
  auto lock = DataDirLock::acquire(dir);
  if (!lock) return command_error(lock.error());
  SOTTO_TRY_VOID(write_new_file(dir / kConfigFile, default_config_text(*listen), 0600));
  SystemRng rng;
  auto key = create_relay_key(dir, rng);
  if (!key) return command_error(key.error());
  auto config = load_dir_config(dir);
  if (!config) return fail(config.error());
  auto store = open_relay_store(dir, *config);
  if (!store) return command_error(store.error());
  (*store)->close();
  std::cout << relay_address(*listen, key->public_key) << "\n";
  return {};
}

CommandResult cmd_address(const fs::path& dir) {
  SOTTO_TRY(auto config, load_dir_config(dir));
  auto key = load_relay_key(dir);
  if (!key) return command_error(key.error());
  std::cout << relay_address(config.listen, key->public_key) << "\n";
  return {};
}

struct RunOverrides {
  std::string listen, log_level, metrics_listen;
  const char* allocator = "";
};

CommandResult cmd_run(const fs::path& dir, const RunOverrides& o) {
  SOTTO_TRY(auto config, load_dir_config(dir));
  if (!o.listen.empty()) config.listen = *parse_host_port(o.listen);
  if (!o.log_level.empty()) config.log_level = *parse_log_level(o.log_level);
  if (!o.metrics_listen.empty()) {
    config.metrics_listen = *parse_host_port(o.metrics_listen);
    auto ok = check_metrics_listen(config.metrics_listen);
    if (!ok) return command_error("--metrics-listen: " + ok.error());
  }
  setup_logging(config.log_level);
  spdlog::info("memory allocator: {}", o.allocator);
  // One relay per data directory: held until this function returns, after the
  // store has been closed.
  auto lock = DataDirLock::acquire(dir);
  if (!lock) return command_error(lock.error());
  ServeOptions options;
  if (const char* offset = std::getenv("SOTTO_RELAY_CLOCK_OFFSET_SECONDS")) {
    try {
      options.clock_offset_seconds = std::stoll(offset);
    } catch (const std::exception&) {
      return command_error("SOTTO_RELAY_CLOCK_OFFSET_SECONDS: not an integer");
    }
    spdlog::warn("clock shifted by {} s (SOTTO_RELAY_CLOCK_OFFSET_SECONDS, for tests only)",
                 options.clock_offset_seconds);
  }
  auto key = load_relay_key(dir);
  if (!key) return command_error(key.error());
  auto store = open_relay_store(dir, config);
  if (!store) return command_error(store.error());
  auto served = serve(config, std::move(*key), **store, options);
  (*store)->close();  // finishes pending commits
  if (!served) return command_error(served.error());
  spdlog::info("stopped");
  return {};
}

Result<AccountId, CommandError> parse_account(const std::string& text) {
  auto bytes = from_hex(text);
  if (text.size() != 64 || !bytes)
    return command_error("--account: expected the identity key as 64 hex characters");
  AccountId id{};
  std::copy(bytes->begin(), bytes->end(), id.begin());
  return id;
}

CommandResult cmd_disclose(const fs::path& dir, const std::string& account, bool json) {
  SOTTO_TRY(auto id, parse_account(account));
  SOTTO_TRY(auto config, load_dir_config(dir));
  auto store = open_relay_store(dir, config);
  if (!store) return command_error(store.error());
  auto d = (*store)->disclose(id);
  (*store)->close();
  if (!d && d.error() == StoreError::kNotFound) {
    if (json)
      std::cout << nlohmann::json{{"account", nullptr}, {"held", "nothing"}}.dump(2) << "\n";
    else
      std::cout << "This relay holds nothing about account " << account << ".\n";
    return {};
  }
  if (!d) return command_error("cannot read the store: " + std::string(to_string(d.error())));
  if (json)
    std::cout << disclosure_json(*d).dump(2) << "\n";
  else
    std::cout << disclosure_text(*d);
  return {};
}

CommandResult cmd_stats(const fs::path& dir, bool json) {
  SOTTO_TRY(auto config, load_dir_config(dir));
  auto store = open_relay_store(dir, config);
  if (!store) return command_error(store.error());
  auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  auto s = (*store)->stats(now);
  (*store)->close();
  if (!s) return command_error("cannot read the store: " + std::string(to_string(s.error())));
  if (json)
    std::cout << stats_json(*s).dump(2) << "\n";
  else
    std::cout << stats_text(*s);
  return {};
}

}  // namespace

int run_cli(int argc, char** argv, const char* allocator) {
  // Everything the relay creates (store, WAL, key) is private to its user.
  ::umask(077);
  CLI::App app{"sotto-relay: the Sotto store-and-forward relay"};
  app.require_subcommand(1);
  std::string data;

  auto* init = app.add_subcommand("init", "Create a relay: data directory, relay.toml, key, store");
  std::string init_listen = "127.0.0.1:7443";
  init->add_option("--data", data, "Data directory to create")->required();
  init->add_option("--listen", init_listen, "HOST:PORT to listen on (relay.toml: listen)")
      ->check(check_host_port)
      ->capture_default_str();

  auto* run = app.add_subcommand("run", "Serve until SIGINT/SIGTERM");
  RunOverrides overrides;
  overrides.allocator = allocator;
  run->add_option("--data", data, "Data directory")->required();
  run->add_option("--listen", overrides.listen, "HOST:PORT (relay.toml: listen)")
      ->check(check_host_port);
  run->add_option("--log-level", overrides.log_level,
                  "trace|debug|info|warn|error|off (relay.toml: log_level)")
      ->check(check_log_level);
  run->add_option("--metrics-listen", overrides.metrics_listen,
                  "loopback HOST:PORT for metrics (relay.toml: [metrics] listen)")
      ->check(check_host_port);

  auto* address = app.add_subcommand("address", "Print the relay address");
  address->add_option("--data", data, "Data directory")->required();

  auto* disclose = app.add_subcommand("disclose", "Print everything held about one account");
  std::string account;
  bool disclose_json = false;
  disclose->add_option("--data", data, "Data directory")->required();
  disclose->add_option("--account", account, "Identity key, 64 hex characters")->required();
  disclose->add_flag("--json", disclose_json, "JSON output");

  auto* stats = app.add_subcommand("stats", "Print counts: accounts, queued messages and bytes");
  bool stats_json_flag = false;
  stats->add_option("--data", data, "Data directory")->required();
  stats->add_flag("--json", stats_json_flag, "JSON output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  CommandResult result;
  if (*init)
    result = cmd_init(data, init_listen);
  else if (*run)
    result = cmd_run(data, overrides);
  else if (*address)
    result = cmd_address(data);
  else if (*disclose)
    result = cmd_disclose(data, account, disclose_json);
  else if (*stats)
    result = cmd_stats(data, stats_json_flag);
  if (!result) {
    std::cerr << "sotto-relay: " << result.error().message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace sotto::relay
