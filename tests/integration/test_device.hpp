// test_device.hpp — a device as the integration tests need it: an identity
// key, a transport key, a signed prekey and one-time prekeys (all private
// halves kept, so the tests can decrypt what they receive), plus helpers to
// connect and register through client/relay_client.hpp.
//
// Not a client store: keys live only in this object, for the test's duration.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "client/relay_client.hpp"
#include "common/prekeys.hpp"
#include "common/rng.hpp"
#include "integration/relay_process.hpp"

namespace sotto::test {

using namespace std::chrono_literals;
using client::ClientErrorKind;
using client::RelayClient;

// Generous: the tests run on a loaded 2-core machine; a wait ends as soon as
// its condition holds, so this only bounds a failing test.
inline constexpr std::chrono::milliseconds kTimeout = 15s;

inline std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::time(nullptr));
}

inline X25519KeyPair copy_key(const X25519KeyPair& k) {
  return X25519KeyPair{k.secret.clone(), k.public_key};
}

struct Device {
  SystemRng rng;
  IdentityKeyPair identity;
  X25519KeyPair transport;
  std::uint32_t device_id = 1;
  SignedPreKeyPair signed_prekey;
  std::vector<OneTimePreKeyPair> one_time_prekeys;
  PreKeyId next_prekey_id = 100;

  explicit Device(std::size_t prekeys = 3)
      : identity(generate_identity(rng)),
        transport(crypto::x25519_generate(rng)),
        signed_prekey(generate_signed_prekey(identity, 1, unix_now(), rng)) {
    add_prekeys(prekeys);
  }

  const IdentityPublicKey& id() const { return identity.public_key; }

  // `n` fresh one-time prekeys (kept here), returning their public halves.
  std::vector<OneTimePreKeyPublic> add_prekeys(std::size_t n) {
    auto fresh = generate_one_time_prekeys(next_prekey_id, n, rng);
    std::vector<OneTimePreKeyPublic> out;
    for (auto& k : fresh) {
      out.push_back(k.public_key);
      one_time_prekeys.push_back(std::move(k));
    }
    return out;
  }
  std::vector<OneTimePreKeyPublic> prekey_publics() const {
    std::vector<OneTimePreKeyPublic> out;
    for (const auto& k : one_time_prekeys) out.push_back(k.public_key);
    return out;
  }
  const OneTimePreKeyPair* find_prekey(PreKeyId id) const {
    for (const auto& k : one_time_prekeys)
      if (k.public_key.id == id) return &k;
    return nullptr;
  }

  Result<RelayClient, client::ClientError> try_connect(const RelayProcess& relay) {
    return RelayClient::connect(relay.address(), identity.public_key, copy_key(transport),
                                device_id, rng, kTimeout);
  }
  RelayClient connect(const RelayProcess& relay) {
    auto c = try_connect(relay);
    if (!c) FAIL("connect: " << c.error().message << "\n" << relay.log());
    return std::move(*c);
  }
  // Connects and registers with the signed prekey and every one-time prekey held.
  RelayClient connect_registered(const RelayProcess& relay) {
    auto c = connect(relay);
    auto publics = prekey_publics();
    auto r = c.register_account(identity, signed_prekey.public_key, publics);
    if (!r) FAIL("register: " << r.error().message << "\n" << relay.log());
    return c;
  }
};

// REQUIREs success and hands back the value, printing the client's message otherwise.
template <class T>
T must(Result<T, client::ClientError> r) {
  if (!r) FAIL(r.error().message);
  return std::move(*r);
}
inline void must(Result<void, client::ClientError> r) {
  if (!r) FAIL(r.error().message);
}

inline Bytes bytes_of(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace sotto::test
