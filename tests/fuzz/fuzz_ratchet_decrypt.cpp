// fuzz_ratchet_decrypt.cpp — ratchet::decrypt of arbitrary bytes against a
// fixed session: Bob's state of fuzz_fixtures.hpp's fixed conversation (one
// stored skipped key, a sending chain, a receiving chain), restored from its
// serialised form for every input.
//
// Properties (abort on violation): a message that decrypts does not decrypt a
// second time against the state it produced (replay); the new state
// serialises, restores and serialises to the same bytes; the input state is
// untouched either way (decrypt works on a copy).
#include <cstddef>
#include <cstdint>

#include "common/ratchet.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FixedConversation conversation = fixed_conversation();
  auto state = ratchet::State::restore(conversation.bob);
  SOTTO_FUZZ_CHECK(state.ok(), "restore of the fixed state");

  SeededRng rng(kInputSeed);
  const ByteView message(data, size);
  auto r = ratchet::decrypt(*state, message, rng);
  SOTTO_FUZZ_CHECK(state->serialize().equals(conversation.bob), "decrypt changed its input state");
  if (!r.ok()) return 0;

  SOTTO_FUZZ_CHECK(r->plaintext.size() <= ratchet::kMaxPlaintextBytes, "plaintext above maximum");
  SOTTO_FUZZ_CHECK(!ratchet::decrypt(r->next, message, rng).ok(), "a replayed message decrypted");
  const SecretBytes saved = r->next.serialize();
  auto restored = ratchet::State::restore(saved);
  SOTTO_FUZZ_CHECK(restored.ok(), "restore of a state decrypt produced");
  SOTTO_FUZZ_CHECK(restored->serialize().equals(saved), "serialise/restore round trip");
  return 0;
}
