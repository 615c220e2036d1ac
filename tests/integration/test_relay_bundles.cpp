// test_relay_bundles.cpp — bundle fetch with one-time-prekey consumption
// against the real relay (issue 3, "Tests"; docs/protocol.md section 70
// 7.6): each fetch hands out exactly one one-time prekey, oldest first, never
// the same one twice, and falls back to the signed prekey alone when none is
// left; fetches over anonymous connections consume the same way; the bundle
// verifies with the core's verify_bundle.
#include <catch2/catch.hpp>

#include <set>

#include "integration/test_device.hpp"

using namespace sotto;
using namespace sotto::test;

TEST_CASE("each fetch consumes exactly one one-time prekey, then the signed prekey alone",
          "[integration][bundles]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device bob(3), alice;
  auto b = bob.connect_registered(*relay);
  auto a = alice.connect(*relay);
  REQUIRE(must(b.prekey_count()) == 3);

  std::vector<PreKeyId> handed_out;
  for (std::uint32_t left = 3; left > 0; --left) {
    auto fetched = must(a.fetch_bundle(bob.id()));
    REQUIRE(fetched.bundle.one_time_prekey.has_value());
    handed_out.push_back(fetched.bundle.one_time_prekey->id);
    // The key handed out is the one bob uploaded under that id.
    const auto* mine = bob.find_prekey(fetched.bundle.one_time_prekey->id);
    REQUIRE(mine != nullptr);
    CHECK(mine->public_key == *fetched.bundle.one_time_prekey);
    CHECK(fetched.bundle.signed_prekey == bob.signed_prekey.public_key);
    CHECK(fetched.device_id == 1);
    // Exactly one fewer after each fetch.
    CHECK(must(b.prekey_count()) == left - 1);
    // The bundle passes the initiator's checks.
    CHECK(verify_bundle(fetched.bundle, unix_now()).ok());
  }
  // Oldest first (upload order), each handed out once.
  CHECK(handed_out == std::vector<PreKeyId>{100, 101, 102});

  // None left: the signed prekey alone, and the count stays at zero.
  for (int i = 0; i < 2; ++i) {
    auto fetched = must(a.fetch_bundle(bob.id()));
    CHECK_FALSE(fetched.bundle.one_time_prekey.has_value());
    CHECK(fetched.bundle.signed_prekey == bob.signed_prekey.public_key);
    CHECK(verify_bundle(fetched.bundle, unix_now()).ok());
  }
  CHECK(must(b.prekey_count()) == 0);

  // Replenished: fetches hand out the new ones.
  must(b.upload_prekeys(bob.add_prekeys(1)));
  auto fetched = must(a.fetch_bundle(bob.id()));
  REQUIRE(fetched.bundle.one_time_prekey.has_value());
  CHECK(fetched.bundle.one_time_prekey->id == 103);
  CHECK(must(b.prekey_count()) == 0);
}

TEST_CASE("concurrent fetchers never get the same one-time prekey", "[integration][bundles]") {
  auto relay = RelayProcess::create();
  REQUIRE(relay.ok());
  Device bob(20);
  auto b = bob.connect_registered(*relay);
  // Three fetchers (one anonymous) pipelining fetches on their own connections.
  Device f1, f2;
  SystemRng rng;
  auto c1 = f1.connect(*relay);
  auto c2 = f2.connect(*relay);
  auto c3 = must(RelayClient::connect_anonymous(relay->address(), rng, kTimeout));
  std::vector<RelayClient*> clients{&c1, &c2, &c3};
  std::vector<std::vector<std::uint64_t>> ids;
  for (auto* c : clients) {
    std::vector<relay::Request> burst(8, relay::FetchBundleRequest{bob.id()});
    ids.push_back(must(c->submit_all(std::move(burst))));
  }
  std::multiset<PreKeyId> seen;
  std::size_t without = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    for (auto id : ids[i]) {
      auto r = must(clients[i]->wait_response(id));
      REQUIRE(r.status == relay::Status::kOk);
      const auto& bundle = std::get<relay::Bundle>(r.result);
      if (bundle.one_time_prekey)
        seen.insert(bundle.one_time_prekey->id);
      else
        ++without;
    }
  }
  // 24 fetches, 20 prekeys: each handed out exactly once, then 4 without.
  CHECK(seen.size() == 20);
  CHECK(std::set<PreKeyId>(seen.begin(), seen.end()).size() == 20);
  CHECK(without == 4);
  CHECK(must(b.prekey_count()) == 0);
}
