// fuzz_envelope.cpp — opening a sealed envelope (open_envelope,
// common/envelope.hpp) addressed to the fixed recipient (Bob of
// fuzz_fixtures.hpp): what anyone can make a relay deliver to a client.
//
// Properties (abort on violation): an envelope that opens has a known payload
// type, a payload of at most kMaxPayloadBytes and exactly the length
// envelope_size() gives for it; the session layer's open_message agrees, and
// a prekey message's X3DH header names the envelope's sender.
#include <cstddef>
#include <cstdint>

#include "common/envelope.hpp"
#include "common/session.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const IdentityKeyPair bob = bob_identity();
  const ByteView envelope(data, size);

  auto opened = open_envelope(bob, envelope);
  if (!opened.ok()) {
    SOTTO_FUZZ_CHECK(!open_message(bob, envelope).ok(),
                     "open_message opened what open_envelope refused");
    return 0;
  }
  SOTTO_FUZZ_CHECK(is_envelope_size(size), "opened an envelope of an impossible size");
  SOTTO_FUZZ_CHECK(opened->type == kPayloadPreKeyMessage || opened->type == kPayloadRatchetMessage,
                   "opened a reserved payload type");
  SOTTO_FUZZ_CHECK(opened->payload.size() <= kMaxPayloadBytes, "payload above the maximum");
  SOTTO_FUZZ_CHECK(envelope_size(opened->payload.size()) == size, "size is not envelope_size()");

  auto message = open_message(bob, envelope);
  if (message.ok()) {
    SOTTO_FUZZ_CHECK(message->sender == opened->sender, "open_message changed the sender");
    SOTTO_FUZZ_CHECK(message->header.has_value() == (opened->type == kPayloadPreKeyMessage),
                     "X3DH header present iff prekey message");
    if (message->header) {
      SOTTO_FUZZ_CHECK(message->header->initiator_identity == opened->sender,
                       "prekey message from another initiator than the sender");
    }
  }
  return 0;
}
