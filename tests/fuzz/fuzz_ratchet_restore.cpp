// fuzz_ratchet_restore.cpp — ratchet::State::restore of arbitrary bytes: a
// stored session that was corrupted on disk (or crafted by whoever can write
// the client's store; the store is encrypted, so this is defence in depth).
//
// Properties (abort on violation): a state that restores serialises to bytes
// that restore to the same state (serialise is a fixed point after one
// round); it can encrypt (or refuses cleanly with the errors the API names),
// and what it encrypts parses; decrypting a message of the fixed conversation
// against it fails or succeeds without crashing.
#include <cstddef>
#include <cstdint>

#include "common/ratchet.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FixedConversation conversation = fixed_conversation();
  auto state = ratchet::State::restore(ByteView(data, size));
  if (!state.ok()) {
    SOTTO_FUZZ_CHECK(state.error() == ProtocolError::kStateCorrupt, "restore failed otherwise");
    return 0;
  }
  const SecretBytes saved = state->serialize();
  auto again = ratchet::State::restore(saved);
  SOTTO_FUZZ_CHECK(again.ok(), "a serialised state does not restore");
  SOTTO_FUZZ_CHECK(again->serialize().equals(saved), "serialise/restore is not a fixed point");
  SOTTO_FUZZ_CHECK(state->skipped_key_count() <= ratchet::kMaxStoredSkippedKeys,
                   "restored more skipped keys than a session may hold");

  SeededRng rng(kInputSeed);
  for (const Bytes& m : conversation.pending) (void)ratchet::decrypt(*state, m, rng);

  if (state->can_send()) {
    const std::uint32_t n = state->sending_counter();
    auto m = ratchet::encrypt(*state, plaintext_of("fuzz"));
    if (m.ok()) {
      auto parsed = ratchet::parse_message(*m);
      SOTTO_FUZZ_CHECK(parsed.ok(), "an encrypted message does not parse");
      SOTTO_FUZZ_CHECK(parsed->header.counter == n, "message counter != sending counter");
      SOTTO_FUZZ_CHECK(parsed->header.ratchet_key == state->ratchet_public_key(), "ratchet key");
    } else {
      SOTTO_FUZZ_CHECK(m.error() == ProtocolError::kNonceExhausted, "encrypt failed otherwise");
    }
  } else {
    auto m = ratchet::encrypt(*state, plaintext_of("fuzz"));
    SOTTO_FUZZ_CHECK(!m.ok() && m.error() == ProtocolError::kOutOfOrder, "sent without a chain");
  }
  return 0;
}
