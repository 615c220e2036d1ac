// test_log_policy.cpp — an audit of the relay's sources: no log statement at
// info or above may print an id, an address, a key or any content. Debug and
// trace lines are for developers and are not shipped enabled.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

TEST_CASE("logs at info and above carry no ids, addresses, keys or content", "[logs]") {
  const fs::path server = fs::path(SOTTO_SOURCE_DIR) / "server";
  REQUIRE(fs::is_directory(server));
  // A whole statement: from spdlog::LEVEL( to the next ';'.
  const std::regex statement(R"(spdlog::(info|warn|error|critical)\(([^;]*)\);)");
  const std::regex forbidden(
      R"(account|identity|peer_address|address\(\)|remote|envelope|ciphertext|plaintext|hex|key\b|seq|recipient|hello)",
      std::regex::icase);
  int audited = 0;
  for (const auto& entry : fs::directory_iterator(server)) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string src = text.str();
    for (std::sregex_iterator it(src.begin(), src.end(), statement), end; it != end; ++it) {
      ++audited;
      INFO(entry.path().filename().string() << ": " << (*it)[0].str());
      CHECK_FALSE(std::regex_search((*it)[2].str(), forbidden));
    }
  }
  CHECK(audited >= 5);  // the audit saw the relay's log lines
}
