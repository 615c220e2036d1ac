// secret.hpp — memory for secrets: private keys, chain and message keys,
// plaintexts and passphrases.
//
// SecretBytes is move-only, lives in memory from sodium_malloc (guard pages,
// mlock'd, never swapped when the OS allows), is wiped with sodium_memzero the
// moment it is freed, prints as "<redacted N bytes>" and never converts
// implicitly to std::string or std::vector. Copying is explicit (clone()).
//
// sodium_malloc maps three pages per call, which costs microseconds; the
// ratchet allocates a few secrets per message and every transport message
// decrypts into one, so secrets up to 64 KiB come from a pool: 64 KiB slabs
// taken from sodium_malloc and cut into power-of-two slots (32 B to 64 KiB). A
// freed slot is wiped before it goes back on the free list, so the wiping
// guarantee is the same; `secret_pool_stats()` exposes the pool for tests.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>

#include "common/bytes.hpp"

namespace sotto {

// Initialises libsodium once; safe to call from any thread, any number of times.
// Aborts if libsodium cannot be initialised (no usable RNG): nothing is safe then.
void ensure_sodium();

class SecretBytes {
 public:
  SecretBytes() noexcept = default;
  // `size` zero bytes.
  explicit SecretBytes(std::size_t size);
  // A secret copy of `v` (the caller wipes `v` if it was secret).
  static SecretBytes copy_of(ByteView v);

  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // An explicit copy.
  SecretBytes clone() const { return copy_of(view()); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::uint8_t* data() const { return data_; }
  std::uint8_t* data() { return data_; }
  ByteView view() const { return {data_, size_}; }
  MutableByteView mutable_view() { return {data_, size_}; }

  // Shrinks the visible size (the tail is wiped). Used after unpadding.
  void truncate(std::size_t new_size);

  // Constant-time comparison of contents (sizes are not secret).
  bool equals(const SecretBytes& other) const;

 private:
  void release() noexcept;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Prints "<redacted N bytes>": secrets never reach a log or a stream.
std::ostream& operator<<(std::ostream& os, const SecretBytes& s);

// A secret of exactly N bytes, with a tag so that different kinds of key are
// different types (a sending chain key cannot be passed as a receiving one).
template <class Tag, std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;

  // N zero bytes, to be filled through mutable_view().
  Secret() : b_(N) {}
  // A copy of `v`; `v` must be N bytes (checked: aborts otherwise, a programming error).
  static Secret copy_of(ByteView v) {
    Secret s;
    s.assign(v);
    return s;
  }
  // Takes over a SecretBytes of exactly N bytes.
  static Secret adopt(SecretBytes&& b) {
    Secret s(std::move(b));
    return s;
  }

  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&&) noexcept = default;
  Secret clone() const { return copy_of(view()); }

  std::span<const std::uint8_t, N> view() const {
    return std::span<const std::uint8_t, N>(b_.data(), N);
  }
  std::span<std::uint8_t, N> mutable_view() { return std::span<std::uint8_t, N>(b_.data(), N); }
  const std::uint8_t* data() const { return b_.data(); }
  std::uint8_t* data() { return b_.data(); }
  const SecretBytes& bytes() const { return b_; }
  bool equals(const Secret& other) const { return b_.equals(other.b_); }

  friend std::ostream& operator<<(std::ostream& os, const Secret& s) { return os << s.b_; }

 private:
  explicit Secret(SecretBytes&& b) : b_(std::move(b)) { check_size(b_.size()); }
  void assign(ByteView v);
  static void check_size(std::size_t n);
  SecretBytes b_;
};

namespace detail {
[[noreturn]] void secret_size_mismatch(std::size_t want, std::size_t got);
void secure_copy(std::uint8_t* dst, ByteView src);
}  // namespace detail

template <class Tag, std::size_t N>
void Secret<Tag, N>::check_size(std::size_t n) {
  if (n != N) detail::secret_size_mismatch(N, n);
}
template <class Tag, std::size_t N>
void Secret<Tag, N>::assign(ByteView v) {
  check_size(v.size());
  detail::secure_copy(b_.data(), v);
}

// Fixed-size public bytes (public keys, signatures): ordinary memory, compared
// with ==, printable as hex. A tag keeps kinds of key apart.
template <class Tag, std::size_t N>
struct PublicBytes {
  static constexpr std::size_t kSize = N;
  std::array<std::uint8_t, N> bytes{};

  // nullopt unless `v` is exactly N bytes.
  static std::optional<PublicBytes> from(ByteView v) {
    if (v.size() != N) return std::nullopt;
    PublicBytes p;
    std::copy(v.begin(), v.end(), p.bytes.begin());
    return p;
  }
  ByteView view() const { return {bytes.data(), N}; }
  const std::uint8_t* data() const { return bytes.data(); }
  std::uint8_t* data() { return bytes.data(); }
  bool operator==(const PublicBytes&) const = default;
  auto operator<=>(const PublicBytes&) const = default;
};

// Counters of the small-secret pool, for tests and metrics.
struct SecretPoolStats {
  std::size_t slabs = 0;         // slabs taken from sodium_malloc
  std::size_t slots_in_use = 0;  // slots handed out and not yet freed
};
SecretPoolStats secret_pool_stats();

}  // namespace sotto
