// fuzz_relay_config.cpp — the relay's configuration parser
// (relay::parse_config, server/config.hpp) on arbitrary text: an operator's
// typo must give a message, never a crash or an exception.
//
// Properties (abort on violation): parse_config returns (no exception escapes);
// a configuration it accepts passes the checks it promises (loopback metrics
// address, frame limit within the codec's).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/wire_codec.hpp"
#include "fuzz/fuzz_fixtures.hpp"
#include "server/config.hpp"

using namespace sotto;
using namespace sotto::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = parse_config(text, "fuzz.toml");
  if (!config.ok()) {
    SOTTO_FUZZ_CHECK(!config.error().empty(), "an error without a message");
    return 0;
  }
  SOTTO_FUZZ_CHECK(check_metrics_listen(config->metrics_listen).ok(), "metrics not on loopback");
  SOTTO_FUZZ_CHECK(config->limits.max_frame <= kMaxNoisePlaintext, "max_frame above the codec's");
  return 0;
}
