// client_helpers.hpp — what the client integration tests share: a relay with
// N initialised `sotto` profiles that know each other as contacts, and
// helpers that send, receive and read history through the real CLI, parsing
// its --json lines.
//
//   auto net = make_network({"alice", "bob"});       // relay + profiles + contacts
//   send_ok(net->client("alice"), "bob", "hello");
//   auto got = receive(net->client("bob"), 1);       // recv --json until 1 message
//   CHECK(got[0].sender == "alice");  CHECK(got[0].text == "hello");
//
// JSON field names are read leniently (sender: "from"/"sender"/"contact"/"name";
// text: "text"/"body"), so the tests state what the CLI promises (issue 4: a
// line with sender, id, time and text), not how a field is spelled.
#pragma once

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/account_id.hpp"
#include "integration/relay_process.hpp"
#include "integration/sotto_process.hpp"

namespace sotto::test {

using namespace std::chrono_literals;

inline std::string field(const nlohmann::json& j, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (j.contains(n) && j[n].is_string()) return j[n].get<std::string>();
  return {};
}

// The identity key bytes of an account id text (empty if it does not parse).
inline Bytes id_bytes(const std::string& account_text) {
  auto id = AccountId::parse(account_text);
  if (!id) return {};
  return Bytes(id->key().bytes.begin(), id->key().bytes.end());
}
// `sotto-relay disclose --account` takes the key as 64 hex characters.
inline std::string id_hex(const std::string& account_text) {
  return to_hex(id_bytes(account_text));
}

struct Received {
  std::string sender;     // the contact's name ("" or the id for a stranger)
  std::string sender_id;  // the sender's account id when printed
  std::string text;
  std::string id;  // a message id, when printed
};

inline Received to_received(const nlohmann::json& j) {
  Received r;
  r.sender = field(j, {"from", "sender", "contact", "name"});
  // `recv --json` prints the sender's account id as "id" (cli_output.hpp).
  r.sender_id = field(j, {"from_id", "sender_id", "account_id", "account", "id"});
  r.text = field(j, {"text", "body"});
  r.id = field(j, {"message_id"});
  return r;
}

// Lines of a --json output that carry a message text.
inline std::vector<Received> messages_in(const std::string& json_out) {
  SottoRun r;
  r.out = json_out;
  std::vector<Received> out;
  for (const auto& j : r.json())
    if (j.contains("text") || j.contains("body")) out.push_back(to_received(j));
  return out;
}

// A process must never end in a stack trace or an abort.
inline void check_no_crash(const SottoRun& r) {
  INFO(r.describe());
  CHECK(r.err.find("terminate called") == std::string::npos);
  CHECK(r.err.find("what():") == std::string::npos);
  CHECK(r.err.find("Assertion") == std::string::npos);
  CHECK(r.err.find("AddressSanitizer") == std::string::npos);
  CHECK(r.status < 128);  // not killed by a signal
  CHECK_FALSE(r.timed_out);
}

inline void send_ok(const SottoProfile& from, const std::string& to, const std::string& text) {
  auto r = from.run({"send", to, text});
  INFO(from.name() << " -> " << to << ": " << r.describe());
  REQUIRE(r.status == 0);
}

// `recv --json --timeout S` runs until `n` messages have come (or the deadline).
inline std::vector<Received> receive(const SottoProfile& p, std::size_t n,
                                     std::chrono::seconds deadline = 60s, int timeout_s = 3) {
  std::vector<Received> got;
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (got.size() < n && std::chrono::steady_clock::now() < end) {
    auto r = p.run_json({"recv", "--timeout", std::to_string(timeout_s)});
    check_no_crash(r);
    INFO(p.name() << " recv: " << r.describe());
    REQUIRE(r.status == 0);
    for (auto& m : messages_in(r.out)) got.push_back(std::move(m));
    // An undecryptable message is a failure of the conversation: say why.
    for (const auto& j : r.json())
      if (j.contains("error")) FAIL_CHECK(p.name() << " could not decrypt: " << j.dump());
  }
  return got;
}

// The texts in `NAME`'s history as `p` has it (`history NAME --json`).
inline std::vector<std::string> history_texts(const SottoProfile& p, const std::string& name) {
  auto r = p.run_json({"history", name});
  INFO(p.name() << " history " << name << ": " << r.describe());
  REQUIRE(r.status == 0);
  std::vector<std::string> texts;
  for (const auto& m : messages_in(r.out)) texts.push_back(m.text);
  return texts;
}

inline std::size_t count_of(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<std::size_t>(std::count(v.begin(), v.end(), s));
}

inline std::vector<std::string> texts_of(const std::vector<Received>& v) {
  std::vector<std::string> out;
  for (const auto& m : v) out.push_back(m.text);
  return out;
}

struct Network {
  RelayProcess relay;
  std::vector<std::unique_ptr<SottoProfile>> clients;

  SottoProfile& client(const std::string& name) {
    for (auto& c : clients)
      if (c->name() == name) return *c;
    FAIL("no client " << name);
    throw 0;  // unreachable: FAIL throws
  }
};

// A relay, the named profiles initialised against it and, when `contacts`,
// each one added as a contact (by its own name) in every other profile.
inline std::unique_ptr<Network> make_network(const std::vector<std::string>& names,
                                             bool contacts = true) {
  auto relay = RelayProcess::create();
  INFO((relay ? std::string() : relay.error()));
  REQUIRE(relay);
  auto net = std::make_unique<Network>(Network{std::move(*relay), {}});
  for (const auto& n : names) {
    auto p = SottoProfile::create(n);
    REQUIRE(p);
    auto ok = p->init(net->relay.address_text());
    INFO((ok ? std::string() : ok.error()) << "\nrelay log:\n" << net->relay.log());
    REQUIRE(ok);
    net->clients.push_back(std::make_unique<SottoProfile>(std::move(*p)));
  }
  if (contacts) {
    for (auto& a : net->clients)
      for (auto& b : net->clients) {
        if (a == b) continue;
        auto r = a->run({"contact", "add", b->name(), b->account_id()});
        INFO(r.describe());
        REQUIRE(r.status == 0);
      }
  }
  return net;
}

}  // namespace sotto::test
