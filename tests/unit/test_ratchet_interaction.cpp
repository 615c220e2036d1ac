// test_ratchet_interaction.cpp — libsignal-style interaction test: a seeded
// RNG drives Alice and Bob through 10,000+ random steps (send, in-order
// delivery, reordered delivery, drop, duplicate, tamper, reflection, bursts,
// save/restore) and checks every outcome against a crypto-free model of the
// receiving side (which chain is current, Nr, the skipped (key, N) pairs with
// the kMaxSkip limit and oldest-first eviction at kMaxStoredSkippedKeys).
//
// Asserted: every delivered message decrypts to exactly what was sent; every
// refusal is the error the spec prescribes; duplicates, tampered and
// reflected messages never decrypt; a failed decrypt changes nothing (the
// message is still deliverable later); a restored state serialises to the
// same bytes.
#include <catch2/catch.hpp>

#include "fuzz/ratchet_model.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ratchet.hpp"
#include "support/ratchet_helpers.hpp"

using namespace sotto;
using namespace sotto::ratchet;
using namespace sotto::ratchet::testing;

namespace {

// The receiving side of one party, without any cryptography: the model the
// conversation fuzzer shares (tests/fuzz/ratchet_model.hpp).
using sotto::fuzz::Outcome;
using sotto::fuzz::ReceiverModel;

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
      FAIL("unexpected error " << to_string(r.error()));
      return Outcome::kDecryptFailed;
  }
}

struct InFlight {
  int from;  // 0 = Alice, 1 = Bob
  Bytes message;
  std::string plaintext;
};

struct Stats {
  int sent = 0, delivered = 0, dropped = 0, duplicates = 0, too_many = 0, lost_to_eviction = 0,
      tampered = 0, reflected = 0, restores = 0, max_skipped = 0;
};

}  // namespace

TEST_CASE("Alice and Bob survive 10,000 random steps of a hostile network",
          "[ratchet][interaction]") {
  SeededRng rng(0x5077'0030);
  SessionPair p = make_sessions(rng);
  State* party[2] = {&p.alice, &p.bob};
  // Ratchet-key epochs per sender; Bob's initial key is his epoch 0.
  std::map<X25519PublicKey, int> epochs[2];
  epochs[1][p.bob.ratchet_public_key()] = 0;
  ReceiverModel model[2];
  model[0].dhr = p.bob.ratchet_public_key();
  model[0].epoch = &epochs[1];
  model[1].epoch = &epochs[0];

  std::vector<InFlight> queue;      // sent, not yet delivered
  std::vector<InFlight> delivered;  // for duplicates
  Stats st;
  int next_id = 0;

  auto send_one = [&](int from) -> InFlight {
    State& s = *party[from];
    const std::string plaintext = std::string(from == 0 ? "A" : "B") + std::to_string(next_id++) +
                                  std::string(rng.uniform(40), '.');
    auto m = encrypt(s, text(plaintext));
    REQUIRE(m.ok());
    auto& ep = epochs[from];
    if (!ep.count(s.ratchet_public_key())) {
      const int n = static_cast<int>(ep.size());
      ep[s.ratchet_public_key()] = n;
    }
    ++st.sent;
    return InFlight{from, std::move(m).value(), plaintext};
  };

  // Delivers queue[i] to its recipient; returns true when it left the queue.
  auto deliver = [&](std::size_t i) {
    InFlight msg = queue[i];
    const int to = 1 - msg.from;
    auto parsed = parse_message(msg.message);
    REQUIRE(parsed.ok());
    const Outcome want = model[to].predict(parsed->header);
    auto r = decrypt(*party[to], msg.message, rng);
    const Outcome got = outcome_of(r);
    REQUIRE(static_cast<int>(got) == static_cast<int>(want));
    if (got == Outcome::kOk) {
      REQUIRE(r->plaintext.equals(text(msg.plaintext)));
      *party[to] = std::move(r->next);
      model[to].apply(parsed->header);
      REQUIRE(party[to]->skipped_key_count() == model[to].skipped.size());
      st.max_skipped = std::max(st.max_skipped, static_cast<int>(model[to].skipped.size()));
      ++st.delivered;
    } else if (got == Outcome::kTooManySkipped) {
      ++st.too_many;
      return false;  // may succeed once the gap closes
    } else {
      ++st.lost_to_eviction;  // its key was evicted: it can never decrypt
    }
    delivered.push_back(std::move(msg));
    queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  };

  constexpr int kSteps = 10'000;
  for (int step = 0; step < kSteps; ++step) {
    const std::uint32_t r = rng.uniform(1000);
    if (r < 300) {
      // Send (Bob only once he has a sending chain).
      int from = static_cast<int>(rng.uniform(2));
      if (!party[from]->can_send()) from = 0;
      queue.push_back(send_one(from));
    } else if (r < 550) {
      // In-order delivery: the oldest queued message of a random direction.
      const int from = static_cast<int>(rng.uniform(2));
      for (std::size_t i = 0; i < queue.size(); ++i) {
        if (queue[i].from == from) {
          deliver(i);
          break;
        }
      }
    } else if (r < 700) {
      if (!queue.empty()) deliver(rng.uniform(static_cast<std::uint32_t>(queue.size())));
    } else if (r < 780) {
      if (!queue.empty()) {
        queue.erase(queue.begin() + rng.uniform(static_cast<std::uint32_t>(queue.size())));
        ++st.dropped;
      }
    } else if (r < 850) {
      // Duplicate: an already delivered message again.
      if (!delivered.empty()) {
        const InFlight& msg = delivered[rng.uniform(static_cast<std::uint32_t>(delivered.size()))];
        const int to = 1 - msg.from;
        auto parsed = parse_message(msg.message);
        REQUIRE(parsed.ok());
        const Outcome want = model[to].predict(parsed->header);
        REQUIRE(want != Outcome::kOk);
        auto res = decrypt(*party[to], msg.message, rng);
        REQUIRE_FALSE(res.ok());
        REQUIRE(static_cast<int>(outcome_of(res)) == static_cast<int>(want));
        ++st.duplicates;
      }
    } else if (r < 900) {
      // Save and restore one party.
      const int who = static_cast<int>(rng.uniform(2));
      const SecretBytes saved = party[who]->serialize();
      auto restored = State::restore(saved);
      REQUIRE(restored.ok());
      REQUIRE(restored->serialize().equals(saved));
      *party[who] = std::move(restored).value();
      ++st.restores;
    } else if (r < 940) {
      // Tamper with one bit of a queued message: refused; the original stays deliverable.
      if (!queue.empty()) {
        const InFlight& msg = queue[rng.uniform(static_cast<std::uint32_t>(queue.size()))];
        Bytes t = msg.message;
        const std::uint32_t bit = rng.uniform(static_cast<std::uint32_t>(t.size() * 8));
        t[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        REQUIRE_FALSE(decrypt(*party[1 - msg.from], t, rng).ok());
        ++st.tampered;
      }
    } else if (r < 980) {
      // Reflection: a message delivered back to its own sender.
      if (!queue.empty()) {
        const InFlight& msg = queue[rng.uniform(static_cast<std::uint32_t>(queue.size()))];
        REQUIRE_FALSE(decrypt(*party[msg.from], msg.message, rng).ok());
        ++st.reflected;
      }
    } else {
      // Burst: many messages from one side, most of them lost on the way.
      int from = static_cast<int>(rng.uniform(2));
      if (!party[from]->can_send()) from = 0;
      const std::uint32_t n = 1 + rng.uniform(250);
      for (std::uint32_t i = 0; i < n; ++i) {
        InFlight msg = send_one(from);
        if (rng.uniform(10) == 0) {
          queue.push_back(std::move(msg));
        } else {
          ++st.dropped;
        }
      }
    }
  }

  // Drain: everything still queued is delivered in order; each either
  // decrypts or is refused exactly as the model says.
  for (int guard = 0; !queue.empty() && guard < 100000; ++guard) {
    if (!deliver(0)) queue.erase(queue.begin());
  }

  INFO("sent " << st.sent << " delivered " << st.delivered << " dropped " << st.dropped
               << " duplicates " << st.duplicates << " too_many " << st.too_many << " evicted "
               << st.lost_to_eviction << " tampered " << st.tampered << " reflected "
               << st.reflected << " restores " << st.restores << " max_skipped " << st.max_skipped);
  // Every kind of event happened.
  CHECK(st.delivered > 1000);
  CHECK(st.duplicates > 100);
  CHECK(st.too_many > 0);
  CHECK(st.lost_to_eviction > 0);
  CHECK(st.max_skipped == static_cast<int>(kMaxStoredSkippedKeys));
  CHECK(st.tampered > 100);
  CHECK(st.reflected > 50);
  CHECK(st.restores > 100);
  // The conversation still works both ways at the end.
  InFlight a = send_one(0);
  queue.push_back(a);
  REQUIRE(deliver(0));
  if (p.bob.can_send()) {
    queue.push_back(send_one(1));
    REQUIRE(deliver(0));
  }
}
