// cli.cpp — the `sotto` command line (see cli.hpp): CLI11 parsing, the
// profile directory, and one function per command. Parse errors and anything
// CLI11 throws stop here (exit 2 with a one-line message); commands return
// MessengerResult and print "sotto: <message>" (exit 1).
#include "client/cli.hpp"

#include <pthread.h>
#include <unistd.h>

#include <sodium.h>
#include <CLI/CLI.hpp>
#include <atomic>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/chat.hpp"
#include "client/cli_output.hpp"
#include "client/passphrase.hpp"

namespace sotto::client {
namespace fs = std::filesystem;

namespace {

constexpr char kProfileEnv[] = "SOTTO_PROFILE";
constexpr char kKdfEnv[] = "SOTTO_KDF";

void print_json(std::ostream& out, const nlohmann::json& j) {
  out << j.dump() << '\n';
  out.flush();
}

std::string id_text(const IdentityPublicKey& k) {
  return AccountId(k).to_text();
}

// Reads standard input to its end into SecretBytes (for `send NAME -`).
Result<SecretBytes, std::string> read_stdin_text() {
  const std::size_t limit = max_text_bytes();
  SecretBytes buf(limit + 1);
  std::size_t n = 0;
  while (n < buf.size()) {
    const ssize_t r = ::read(STDIN_FILENO, buf.data() + n, buf.size() - n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(std::string("cannot read standard input"));
    }
    if (r == 0) break;
    n += static_cast<std::size_t>(r);
  }
  if (n > limit)
    return fail("the message on standard input is longer than " + std::to_string(limit) + " bytes");
  // One trailing newline (what `echo` adds) is not part of the message.
  if (n > 0 && buf.data()[n - 1] == '\n') --n;
  buf.truncate(n);
  return buf;
}

// SIGINT/SIGTERM -> stop_source, without doing anything unsafe in a handler:
// the signals are blocked in every thread and one thread waits for them.
class SignalStop {
 public:
  SignalStop() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    waiter_ = std::thread([this] {
      timespec tick{0, 200'000'000};
      while (!done_.load()) {
        if (sigtimedwait(&set_, nullptr, &tick) > 0) {
          source_.request_stop();
          return;
        }
      }
    });
  }
  ~SignalStop() {
    done_ = true;
    waiter_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  std::stop_token token() const { return source_.get_token(); }

 private:
  sigset_t set_{};
  sigset_t old_{};
  std::stop_source source_;
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

// `sotto send NAME TEXT`: TEXT is taken out of argv before CLI11 copies it
// into std::strings, and the argv bytes are wiped once they are in
// SecretBytes (which also hides the text from /proc/PID/cmdline from then on).
constexpr char kTextPlaceholder[] = "\x01sotto-message-text";

char* take_send_text(int argc, char** argv) {
  int i = 1;
  // Global options before the command (with their values).
  while (i < argc) {
    const std::string_view a = argv[i];
    if (a == "--profile" || a == "--passphrase-file") {
      i += 2;
    } else if (a.size() > 1 && a[0] == '-') {
      ++i;
    } else {
      break;
    }
  }
  if (i >= argc || std::string_view(argv[i]) != "send") return nullptr;
  int positional = 0;
  for (++i; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.size() > 1 && a[0] == '-') continue;  // an option (e.g. --help)
    if (++positional == 2) {
      if (a == "-") return nullptr;  // standard input
      char* original = argv[i];
      argv[i] = const_cast<char*>(kTextPlaceholder);
      return original;
    }
  }
  return nullptr;
}

// ---- commands ----

int cmd_init(CliContext& ctx, const std::string& relay, const std::optional<std::string>& kdf) {
  auto dir = ctx.profile_dir();
  if (!dir) return ctx.failure(dir.error());
  if (ProfileStore::exists(*dir))
    return ctx.failure("a profile already exists in " + dir->string() +
                       " (use --profile DIR for another one)");
  auto address = parse_relay_address(relay);
  if (!address) return ctx.failure(address.error());
  PassphraseRequest req;
  req.file = ctx.globals().passphrase_file;
  req.prompt = "New passphrase for the profile: ";
  req.confirm = true;
  auto pass = read_passphrase(req);
  if (!pass) return ctx.failure(pass.error());
  auto m = Messenger::init(*dir, *pass, relay, ctx.rng(), ctx.clock(), program_options(kdf));
  if (!m) return ctx.failure(m.error());
  if (ctx.json())
    print_json(ctx.out(), {{"id", (*m)->account_id().to_text()}, {"profile", dir->string()}});
  else
    ctx.out() << (*m)->account_id().to_text() << '\n';
  return kExitOk;
}

int cmd_id(CliContext& ctx) {
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  if (ctx.json())
    print_json(ctx.out(), {{"id", (*m)->account_id().to_text()},
                           {"relay", (*m)->relay_address().to_string()}});
  else
    ctx.out() << (*m)->account_id().to_text() << '\n';
  return kExitOk;
}

int cmd_contact_add(CliContext& ctx, const std::string& name, const std::string& id) {
  // Check the id before asking for the passphrase.
  if (auto parsed = AccountId::parse(id); !parsed)
    return ctx.failure("not a valid account id (" + std::string(to_string(parsed.error())) +
                       "): expected sotto1... as printed by `sotto id`");
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  if (auto r = (*m)->add_contact(name, id); !r) return ctx.failure(r.error());
  if (ctx.json()) print_json(ctx.out(), {{"added", name}, {"id", id}});
  return kExitOk;
}

int cmd_contact_list(CliContext& ctx) {
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  auto list = (*m)->contacts();
  if (!list) return ctx.failure(list.error());
  for (const auto& c : *list) {
    if (ctx.json())
      print_json(ctx.out(),
                 {{"name", c.name}, {"id", id_text(c.account_id)}, {"verified", c.verified}});
    else
      ctx.out() << c.name << ' ' << id_text(c.account_id) << ' '
                << (c.verified ? "verified" : "unverified") << '\n';
  }
  return kExitOk;
}

int cmd_contact_remove(CliContext& ctx, const std::string& name) {
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  if (auto r = (*m)->remove_contact(name); !r) return ctx.failure(r.error());
  if (ctx.json()) print_json(ctx.out(), {{"removed", name}});
  return kExitOk;
}

int cmd_send(CliContext& ctx, const std::string& name, const std::string& text_arg,
             char* argv_text) {
  // The text into SecretBytes at once.
  SecretBytes text;
  if (argv_text != nullptr && text_arg == kTextPlaceholder) {
    const std::size_t n = std::strlen(argv_text);
    text = SecretBytes::copy_of(ByteView(reinterpret_cast<const std::uint8_t*>(argv_text), n));
    sodium_memzero(argv_text, n);
  } else if (text_arg == "-") {
    auto in = read_stdin_text();
    if (!in) return ctx.failure(in.error());
    text = std::move(*in);
  } else {
    text = SecretBytes::copy_of(label_bytes(text_arg));
  }
  if (text.empty()) return ctx.failure("the message is empty: nothing was sent");
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  (*m)->set_notice_handler([&](std::string_view n) { ctx.err() << "sotto: " << n << '\n'; });
  if (auto r = (*m)->send(name, text); !r) return ctx.failure(r.error());
  if (ctx.json()) print_json(ctx.out(), {{"sent", true}, {"to", name}});
  return kExitOk;
}

int cmd_recv(CliContext& ctx, bool follow, std::optional<double> timeout) {
  if (timeout && !(*timeout >= 0)) return ctx.failure("--timeout must be 0 or more seconds");
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  Messenger& messenger = **m;
  messenger.set_notice_handler([&](std::string_view n) {
    ctx.err() << "sotto: " << n << '\n';
    ctx.err().flush();
  });
  auto print = [&](const ReceivedMessage& msg) {
    print_received(ctx.out(), ctx.err(), ctx.json(), msg);
  };
  const auto wait =
      std::chrono::milliseconds(static_cast<std::int64_t>(timeout.value_or(0) * 1000.0));
  if (!follow) {
    auto r = messenger.receive(print, ReceiveOptions{wait});
    if (!r) return ctx.failure(r.error());
    return kExitOk;
  }
  SignalStop signals;
  FollowOptions options;
  if (timeout) options.duration = wait;
  auto r = messenger.run_follow(print, signals.token(), options);
  if (!r) return ctx.failure(r.error());
  return kExitOk;
}

int cmd_history(CliContext& ctx, const std::string& name, std::size_t limit) {
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  auto entries = (*m)->history(name, limit);
  if (!entries) return ctx.failure(entries.error());
  for (const auto& e : *entries) print_history_entry(ctx.out(), ctx.json(), name, e);
  ctx.out().flush();
  return kExitOk;
}

int cmd_verify(CliContext& ctx, const std::string& name, bool mark) {
  auto m = ctx.open();
  if (!m) return ctx.failure(m.error());
  auto number = (*m)->safety_number(name);
  if (!number) return ctx.failure(number.error());
  if (mark) {
    if (auto r = (*m)->mark_verified(name); !r) return ctx.failure(r.error());
  }
  auto c = (*m)->contact(name);
  if (!c) return ctx.failure(c.error());
  const std::string grouped = number->grouped();
  if (ctx.json()) {
    print_json(ctx.out(), {{"name", c->name},
                           {"id", id_text(c->account_id)},
                           {"safety_number", grouped},
                           {"verified", c->verified}});
    return kExitOk;
  }
  // Two lines of six groups, as people read them aloud.
  ctx.out() << "Safety number with " << c->name << ":\n"
            << "  " << grouped.substr(0, 35) << "\n"
            << "  " << grouped.substr(36) << "\n";
  if (c->verified)
    ctx.out() << c->name << " is verified.\n";
  else
    ctx.out() << c->name << " is NOT verified. Compare this number with " << c->name
              << " in person or over a channel you trust; if it matches, run\n"
              << "  sotto verify " << c->name << " --mark-verified\n";
  return kExitOk;
}

int cmd_passwd(CliContext& ctx, const std::optional<std::string>& new_file,
               const std::optional<std::string>& kdf) {
  auto dir = ctx.profile_dir();
  if (!dir) return ctx.failure(dir.error());
  PassphraseRequest old_req;
  old_req.file = ctx.globals().passphrase_file;
  old_req.prompt = "Current passphrase: ";
  auto old_pass = read_passphrase(old_req);
  if (!old_pass) return ctx.failure(old_pass.error());
  PassphraseRequest new_req;
  new_req.file = new_file;
  new_req.env = kNewPassphraseEnv;
  new_req.prompt = "New passphrase: ";
  new_req.confirm = true;
  auto new_pass = read_passphrase(new_req);
  if (!new_pass) return ctx.failure(new_pass.error());
  // Only the store is needed: the store key is re-wrapped, nothing re-encrypted.
  if (!ProfileStore::exists(*dir))
    return ctx.failure("no profile in " + dir->string() +
                       ": create one with `sotto init --relay ADDRESS` (or pass --profile DIR)");
  auto options = program_options(kdf);
  auto store = ProfileStore::open(*dir, *old_pass, options.store);
  if (!store) return ctx.failure(from_store(store.error(), "opening the profile"));
  if (auto r = (*store)->change_passphrase(*old_pass, *new_pass); !r)
    return ctx.failure(from_store(r.error(), "changing the passphrase"));
  if (ctx.json())
    print_json(ctx.out(), {{"passphrase_changed", true}});
  else
    ctx.out() << "passphrase changed\n";
  return kExitOk;
}

int run(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"sotto: end-to-end encrypted messaging through a Sotto relay"};
  app.require_subcommand(1);
  // Global options are accepted after the command too (`sotto recv --json`).
  app.fallthrough();
  app.footer(
      "Exit codes: 0 success, 1 the command failed (reason on stderr), 2 usage error.\n"
      "Passphrase: --passphrase-file FILE (first line), else $SOTTO_PASSPHRASE (weaker: other\n"
      "processes of the same user can read it), else asked on the terminal.\n"
      "Profile: --profile DIR, else $SOTTO_PROFILE, else $XDG_DATA_HOME/sotto or\n"
      "~/.local/share/sotto.");
  GlobalOptions g;
  std::string profile, passphrase_file;
  app.add_option("--profile", profile, "profile directory")->type_name("DIR");
  app.add_flag("--json", g.json, "machine-readable output: one JSON object per line");
  app.add_option("--passphrase-file", passphrase_file, "read the passphrase from FILE's first line")
      ->type_name("FILE");

  const CLI::Validator non_negative(
      [](std::string& v) -> std::string {
        if (!v.empty() && v[0] == '-') return "must be 0 or more, got " + v;
        return {};
      },
      "");
  std::optional<std::string> kdf;
  const std::vector<std::string> kdf_names{"moderate", "interactive", "minimum"};

  auto* init = app.add_subcommand("init", "create a profile and register with a relay");
  std::string relay;
  init->add_option("--relay", relay, "the relay address sotto://HOST:PORT/KEY")
      ->required()
      ->type_name("ADDRESS");
  init->add_option("--kdf", kdf, "passphrase hashing cost (minimum: tests only)")
      ->check(CLI::IsMember(kdf_names));

  auto* id = app.add_subcommand("id", "print this profile's account id (give it to contacts)");

  auto* contact = app.add_subcommand("contact", "manage contacts");
  contact->require_subcommand(1);
  std::string name, account, text;
  auto* contact_add = contact->add_subcommand("add", "add a contact: NAME and account ID");
  contact_add->add_option("NAME", name, "a name of your choice")->required();
  contact_add->add_option("ID", account, "the contact's account id (sotto1...)")->required();
  auto* contact_list = contact->add_subcommand("list", "list contacts");
  auto* contact_remove = contact->add_subcommand("remove", "remove a contact");
  contact_remove->add_option("NAME", name)->required();

  auto* send = app.add_subcommand("send", "send a message; exits 0 once the relay accepted it");
  send->add_option("NAME", name, "the contact")->required();
  send->add_option("TEXT", text, "the message, or - to read standard input")->required();

  auto* recv = app.add_subcommand("recv", "receive, store and print pending messages");
  bool follow = false;
  std::optional<double> timeout;
  recv->add_flag("--follow,-f", follow, "keep receiving as messages arrive");
  recv->add_option("--timeout", timeout,
                   "without --follow: wait up to SECONDS for a first message; with --follow: "
                   "stop after SECONDS")
      ->type_name("SECONDS")
      ->check(non_negative);

  auto* chat = app.add_subcommand("chat", "interactive chat with a contact");
  chat->add_option("NAME", name, "the contact")->required();

  auto* history = app.add_subcommand("history", "show the messages exchanged with a contact");
  history->add_option("NAME", name, "the contact")->required();
  std::size_t limit = 0;
  history->add_option("--limit", limit, "only the last N messages")
      ->type_name("N")
      ->check(non_negative);

  auto* verify = app.add_subcommand("verify", "show the safety number of a contact");
  verify->add_option("NAME", name, "the contact")->required();
  bool mark = false;
  verify->add_flag("--mark-verified", mark, "record that you compared it and it matched");

  auto* passwd = app.add_subcommand("passwd", "change the profile's passphrase");
  std::optional<std::string> new_file;
  passwd->add_option("--new-passphrase-file", new_file, "read the new passphrase from FILE")
      ->type_name("FILE");
  passwd->add_option("--kdf", kdf, "passphrase hashing cost (minimum: tests only)")
      ->check(CLI::IsMember(kdf_names));

  char* argv_text = take_send_text(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Help for a subcommand arrives as CallForHelp too; anything else is a usage error.
    err << "sotto: " << e.what() << "\nRun `sotto --help` for usage.\n";
    return kExitUsage;
  }
  if (!profile.empty()) g.profile = profile;
  if (!passphrase_file.empty()) g.passphrase_file = passphrase_file;
  if (!kdf) {
    if (const char* env = std::getenv(kKdfEnv); env != nullptr && *env != '\0') {
      if (std::find(kdf_names.begin(), kdf_names.end(), env) == kdf_names.end()) {
        err << "sotto: " << kKdfEnv << " must be moderate, interactive or minimum\n";
        return kExitUsage;
      }
      kdf = env;
    }
  }

  CliContext ctx(std::move(g), out, err);
  if (*init) return cmd_init(ctx, relay, kdf);
  if (*id) return cmd_id(ctx);
  if (*contact_add) return cmd_contact_add(ctx, name, account);
  if (*contact_list) return cmd_contact_list(ctx);
  if (*contact_remove) return cmd_contact_remove(ctx, name);
  if (*send) return cmd_send(ctx, name, text, argv_text);
  if (*recv) return cmd_recv(ctx, follow, timeout);
  if (*chat) return run_chat(ctx, name);
  if (*history) return cmd_history(ctx, name, limit);
  if (*verify) return cmd_verify(ctx, name, mark);
  if (*passwd) return cmd_passwd(ctx, new_file, kdf);
  err << "sotto: no command given\nRun `sotto --help` for usage.\n";
  return kExitUsage;
}

}  // namespace

CliContext::CliContext(GlobalOptions globals, std::ostream& out, std::ostream& err)
    : globals_(std::move(globals)), out_(out), err_(err) {}

Result<fs::path, std::string> CliContext::profile_dir() const {
  if (globals_.profile) return fs::path(*globals_.profile);
  if (const char* p = std::getenv(kProfileEnv); p != nullptr && *p != '\0') return fs::path(p);
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/')
    return fs::path(x) / "sotto";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path(h) / ".local" / "share" / "sotto";
  return fail(std::string("no profile directory: pass --profile DIR (HOME is not set)"));
}

MessengerResult<Messenger*> CliContext::open() {
  if (messenger_) return messenger_.get();
  auto dir = profile_dir();
  if (!dir) return messenger_fail(MessengerErrorKind::kInvalidArgument, dir.error());
  // No passphrase prompt for a profile that is not there.
  if (!ProfileStore::exists(*dir))
    return messenger_fail(MessengerErrorKind::kNoProfile,
                          "no profile in " + dir->string() +
                              ": create one with `sotto init --relay ADDRESS` (or pass "
                              "--profile DIR)");
  PassphraseRequest req;
  req.file = globals_.passphrase_file;
  auto pass = read_passphrase(req);
  if (!pass) return messenger_fail(MessengerErrorKind::kInvalidArgument, pass.error());
  auto m = Messenger::open(*dir, *pass, rng_, clock_, program_options());
  if (!m) return fail(m.error());
  messenger_ = std::move(*m);
  return messenger_.get();
}

int CliContext::failure(const std::string& message) {
  out_.flush();
  err_ << "sotto: " << message << '\n';
  err_.flush();
  return kExitFailure;
}

MessengerOptions program_options(const std::optional<std::string>& kdf) {
  MessengerOptions o;
  if (kdf == "interactive")
    o.store.kdf = KdfParams::interactive();
  else if (kdf == "minimum")
    o.store.kdf = KdfParams::minimum();
  else
    o.store.kdf = KdfParams::moderate();
  return o;
}

int run_cli(int argc, char** argv) {
  try {
    return run(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    // The last resort at the edge: one line, never a trace.
    std::cerr << "sotto: internal error: " << e.what() << '\n';
    return kExitFailure;
  } catch (...) {
    std::cerr << "sotto: internal error\n";
    return kExitFailure;
  }
}

}  // namespace sotto::client
