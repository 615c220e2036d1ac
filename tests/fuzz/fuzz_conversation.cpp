// fuzz_conversation.cpp — a whole Double Ratchet conversation driven by the
// input: each byte is one step of a hostile network between Alice and Bob
// (after tests/unit/test_ratchet_interaction.cpp, with the fuzzer choosing
// the steps instead of a seeded RNG).
//
// Byte b: op = b & 7, arg = b >> 3 (0..31).
//   0, 1  Alice (0) or Bob (1) sends one message (Alice if Bob cannot send
//         yet); arg >= 24 makes it a burst of (arg - 23) * 40 messages of
//         which every 8th is queued and the rest lost
//   2     deliver the oldest queued message of direction arg & 1 (in order)
//   3     deliver queued message arg % n (reordering)
//   4     drop queued message arg % n
//   5     deliver already delivered message arg % n again (duplicate)
//   6     save and restore party arg & 1 (serialize, State::restore)
//   7     arg odd: reflect queued message arg % n to its own sender;
//         arg even: flip one bit of it and deliver the copy
//
// Oracle (abort on violation): a crypto-free model of each receiver
// (ratchet_model.hpp) predicts the outcome of every delivery; the ratchet must
// agree, and every message that decrypts must decrypt to exactly what was
// sent. Duplicates, reflections and tampered copies never decrypt; a restored
// state serialises to the same bytes. Determinism: the sessions and every
// ratchet key come from fixed SeededRng streams.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/ratchet.hpp"
#include "fuzz/fuzz_fixtures.hpp"
#include "fuzz/ratchet_model.hpp"

using namespace sotto;
using namespace sotto::fuzz;
using namespace sotto::ratchet;

namespace {

// Keeps an input's work bounded (libFuzzer's default -max_len is 4096).
constexpr int kMaxMessagesPerInput = 4000;

struct InFlight {
  int from;  // 0 = Alice, 1 = Bob
  Bytes message;
  std::string plaintext;
};

Outcome outcome_of(const Result<Decrypted, ProtocolError>& r) {
  if (r.ok()) return Outcome::kOk;
  switch (r.error()) {
    case ProtocolError::kDuplicateMessage:
      return Outcome::kDuplicate;
    case ProtocolError::kTooManySkipped:
      return Outcome::kTooManySkipped;
    case ProtocolError::kDecryptFailed:
      return Outcome::kDecryptFailed;
    default:
      SOTTO_FUZZ_CHECK(false, "a genuine message failed with an unexpected error");
      return Outcome::kDecryptFailed;
  }
}

class Conversation {
 public:
  explicit Conversation(const SessionPair& start)
      : alice_(start.alice.clone()), bob_(start.bob.clone()), rng_(kInputSeed) {
    party_[0] = &alice_;
    party_[1] = &bob_;
    epochs_[1][bob_.ratchet_public_key()] = 0;
    model_[0].dhr = bob_.ratchet_public_key();
    model_[0].epoch = &epochs_[1];
    model_[1].epoch = &epochs_[0];
  }

  void step(std::uint8_t b) {
    const unsigned op = b & 7u;
    const unsigned arg = b >> 3;
    switch (op) {
      case 0:
      case 1:
        send(static_cast<int>(op), arg);
        break;
      case 2:
        for (std::size_t i = 0; i < queue_.size(); ++i) {
          if (queue_[i].from == static_cast<int>(arg & 1u)) {
            deliver(i);
            break;
          }
        }
        break;
      case 3:
        if (!queue_.empty()) deliver(arg % queue_.size());
        break;
      case 4:
        if (!queue_.empty())
          queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(arg % queue_.size()));
        break;
      case 5:
        if (!delivered_.empty()) duplicate(delivered_[arg % delivered_.size()]);
        break;
      case 6:
        save_and_restore(static_cast<int>(arg & 1u));
        break;
      default:
        if (queue_.empty()) break;
        if (arg & 1u) {
          const InFlight& msg = queue_[arg % queue_.size()];
          SOTTO_FUZZ_CHECK(!decrypt(*party_[msg.from], msg.message, rng_).ok(),
                           "a message decrypted for its own sender");
        } else {
          const InFlight& msg = queue_[arg % queue_.size()];
          Bytes t = msg.message;
          const std::size_t bit = (tampered_++ * 131u + arg) % (t.size() * 8);
          t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
          SOTTO_FUZZ_CHECK(!decrypt(*party_[1 - msg.from], t, rng_).ok(),
                           "a tampered message decrypted");
        }
        break;
    }
  }

 private:
  void send(int from, unsigned arg) {
    if (!party_[from]->can_send()) from = 0;
    const int count = arg >= 24 ? static_cast<int>(arg - 23) * 40 : 1;
    for (int i = 0; i < count && sent_ < kMaxMessagesPerInput; ++i) {
      State& s = *party_[from];
      const std::string text =
          std::string(from == 0 ? "A" : "B") + std::to_string(sent_++) + std::string(arg, '.');
      auto m = encrypt(s, plaintext_of(text));
      SOTTO_FUZZ_CHECK(m.ok(), "encrypt on a sending chain");
      auto& ep = epochs_[from];
      if (!ep.count(s.ratchet_public_key())) {
        const int n = static_cast<int>(ep.size());
        ep[s.ratchet_public_key()] = n;
      }
      if (count == 1 || i % 8 == 0) queue_.push_back(InFlight{from, std::move(m).value(), text});
    }
  }

  // Delivers queue_[i] to its recipient.
  void deliver(std::size_t i) {
    InFlight msg = queue_[i];
    const int to = 1 - msg.from;
    auto parsed = parse_message(msg.message);
    SOTTO_FUZZ_CHECK(parsed.ok(), "a sent message does not parse");
    const Outcome want = model_[to].predict(parsed->header);
    auto r = decrypt(*party_[to], msg.message, rng_);
    const Outcome got = outcome_of(r);
    SOTTO_FUZZ_CHECK(got == want, "the ratchet and the model disagree");
    if (got == Outcome::kOk) {
      SOTTO_FUZZ_CHECK(r->plaintext.equals(plaintext_of(msg.plaintext)),
                       "a delivered message decrypted to something else");
      *party_[to] = std::move(r->next);
      model_[to].apply(parsed->header);
      SOTTO_FUZZ_CHECK(party_[to]->skipped_key_count() == model_[to].skipped.size(),
                       "skipped key count differs from the model");
    } else if (got == Outcome::kTooManySkipped) {
      return;  // stays queued: may decrypt once the gap closes
    }
    delivered_.push_back(std::move(msg));
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  void duplicate(const InFlight& msg) {
    const int to = 1 - msg.from;
    auto parsed = parse_message(msg.message);
    SOTTO_FUZZ_CHECK(parsed.ok(), "a sent message does not parse");
    const Outcome want = model_[to].predict(parsed->header);
    SOTTO_FUZZ_CHECK(want != Outcome::kOk, "the model would accept a duplicate");
    auto r = decrypt(*party_[to], msg.message, rng_);
    SOTTO_FUZZ_CHECK(!r.ok(), "a duplicate decrypted");
    SOTTO_FUZZ_CHECK(outcome_of(r) == want, "duplicate refused with another error");
  }

  void save_and_restore(int who) {
    const SecretBytes saved = party_[who]->serialize();
    auto restored = State::restore(saved);
    SOTTO_FUZZ_CHECK(restored.ok(), "a saved state does not restore");
    SOTTO_FUZZ_CHECK(restored->serialize().equals(saved), "restore changed the state");
    *party_[who] = std::move(restored).value();
  }

  State alice_;
  State bob_;
  State* party_[2];
  SeededRng rng_;
  std::map<X25519PublicKey, int> epochs_[2];  // ratchet key -> order of use, per sender
  ReceiverModel model_[2];
  std::vector<InFlight> queue_;      // sent, not yet delivered
  std::vector<InFlight> delivered_;  // for duplicates
  int sent_ = 0;
  std::size_t tampered_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const SessionPair start = make_sessions(kSeed + 30);
  Conversation c(start);
  for (std::size_t i = 0; i < size; ++i) c.step(data[i]);
  return 0;
}
