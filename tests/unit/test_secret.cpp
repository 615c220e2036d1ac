// test_secret.cpp — SecretBytes: redaction, move-only ownership, wiping.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>
#include <type_traits>

#include "common/crypto.hpp"
#include "common/secret.hpp"

using namespace sotto;

TEST_CASE("secret bytes print as redacted, whatever they hold", "[secret]") {
  SecretBytes s = SecretBytes::copy_of(label_bytes("hunter2-passphrase"));
  std::ostringstream os;
  os << s;
  CHECK(os.str() == "<redacted 18 bytes>");

  X25519SecretKey k;
  k.mutable_view()[0] = 0x41;
  std::ostringstream os2;
  os2 << k;
  CHECK(os2.str() == "<redacted 32 bytes>");
}

TEST_CASE("secret types are move-only and do not convert to strings or vectors", "[secret]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<SecretBytes>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<SecretBytes>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<SecretBytes>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<SecretBytes, std::string>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<SecretBytes, Bytes>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<SecretBytes, std::string_view>);
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<X25519SecretKey>);
  STATIC_REQUIRE_FALSE(std::is_convertible_v<X25519SecretKey, Bytes>);
  // Kinds of secret are different types.
  STATIC_REQUIRE_FALSE(std::is_convertible_v<X25519SecretKey, Ed25519Seed>);
}

TEST_CASE("moving a secret transfers it and empties the source", "[secret]") {
  SecretBytes a = SecretBytes::copy_of(label_bytes("abc"));
  const std::uint8_t* p = a.data();
  SecretBytes b = std::move(a);
  CHECK(b.data() == p);
  CHECK(b.size() == 3);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(a.data() == nullptr);
}

TEST_CASE("a destroyed secret's memory is wiped", "[secret]") {
  // Small secrets live in pool slots that stay mapped after free, so the freed
  // bytes can be read back: they must all be zero.
  const std::uint8_t* where = nullptr;
  std::size_t size = 0;
  {
    SecretBytes s(48);
    for (std::size_t i = 0; i < s.size(); ++i) s.data()[i] = static_cast<std::uint8_t>(0xA5 ^ i);
    where = s.data();
    size = s.size();
    REQUIRE_FALSE(crypto::is_zero(s.view()));
  }
  REQUIRE(where != nullptr);
  volatile const std::uint8_t* v = where;
  bool all_zero = true;
  for (std::size_t i = 0; i < size; ++i) all_zero = all_zero && v[i] == 0;
  CHECK(all_zero);
}

TEST_CASE("overwriting by move-assignment wipes the old secret", "[secret]") {
  SecretBytes a(32);
  for (auto& b : a.mutable_view()) b = 0x77;
  const std::uint8_t* old = a.data();
  a = SecretBytes::copy_of(label_bytes("new"));
  volatile const std::uint8_t* v = old;
  bool all_zero = true;
  for (std::size_t i = 0; i < 32; ++i) all_zero = all_zero && v[i] == 0;
  CHECK(all_zero);
}

TEST_CASE("truncate wipes the tail", "[secret]") {
  SecretBytes a = SecretBytes::copy_of(label_bytes("0123456789"));
  const std::uint8_t* p = a.data();
  a.truncate(4);
  CHECK(a.size() == 4);
  CHECK(p[4] == 0);
  CHECK(p[9] == 0);
  CHECK(p[3] == '3');
}

TEST_CASE("the pool gives every live secret its own slot", "[secret]") {
  auto before = secret_pool_stats();
  {
    std::vector<SecretBytes> many;
    for (int i = 0; i < 3000; ++i) many.emplace_back(32);
    std::set<const std::uint8_t*> distinct;
    for (auto& s : many) distinct.insert(s.data());
    CHECK(distinct.size() == many.size());
    CHECK(secret_pool_stats().slots_in_use == before.slots_in_use + 3000);
  }
  CHECK(secret_pool_stats().slots_in_use == before.slots_in_use);
}

TEST_CASE("secrets up to 64 KiB (any transport plaintext) come from the pool and are wiped",
          "[secret]") {
  for (std::size_t size :
       {std::size_t{4097}, std::size_t{20000}, std::size_t{65535}, std::size_t{65536}}) {
    INFO(size);
    const auto before = secret_pool_stats();
    const std::uint8_t* where = nullptr;
    {
      SecretBytes s(size);
      CHECK(secret_pool_stats().slots_in_use == before.slots_in_use + 1);
      for (auto& b : s.mutable_view()) b = 0x5a;
      where = s.data();
    }
    CHECK(secret_pool_stats().slots_in_use == before.slots_in_use);
    // The slot stays mapped in its slab: what was written reads back as zeros.
    volatile const std::uint8_t* v = where;
    bool all_zero = true;
    for (std::size_t i = 0; i < size; ++i) all_zero = all_zero && v[i] == 0;
    CHECK(all_zero);
  }
  const auto before = secret_pool_stats();
  SecretBytes beyond(65537);
  CHECK(secret_pool_stats().slots_in_use == before.slots_in_use);  // its own sodium_malloc
}

TEST_CASE("large secrets come straight from sodium_malloc and still round-trip", "[secret]") {
  SecretBytes big(100000);
  CHECK(crypto::is_zero(big.view()));
  big.data()[99999] = 1;
  SecretBytes copy = big.clone();
  CHECK(copy.equals(big));
  copy.data()[0] = 2;
  CHECK_FALSE(copy.equals(big));
}
