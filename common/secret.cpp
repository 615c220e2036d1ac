// secret.cpp — SecretBytes and the pool of small secret slots.
#include "common/secret.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <ostream>
#include <vector>

namespace sotto {

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) {
    std::fputs("sotto: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

namespace {

// Slots of 32, 64, ..., 65536 bytes (every Noise transport plaintext fits one);
// larger secrets get their own sodium_malloc.
constexpr std::size_t kMinSlot = 32;
constexpr std::size_t kMaxSlot = 64 * 1024;
constexpr std::size_t kClasses = 12;  // log2(65536/32) + 1
constexpr std::size_t kSlabBytes = 64 * 1024;

std::size_t class_of(std::size_t n) {
  std::size_t c = 0;
  std::size_t slot = kMinSlot;
  while (slot < n) {
    slot <<= 1;
    ++c;
  }
  return c;
}

class SecretPool {
 public:
  std::uint8_t* take(std::size_t cls) {
    std::lock_guard lock(mu_);
    auto& free = free_[cls];
    if (free.empty()) grow(cls);
    std::uint8_t* p = free.back();
    free.pop_back();
    ++in_use_;
    return p;
  }
  void give_back(std::size_t cls, std::uint8_t* p) {
    sodium_memzero(p, kMinSlot << cls);
    std::lock_guard lock(mu_);
    free_[cls].push_back(p);
    --in_use_;
  }
  SecretPoolStats stats() {
    std::lock_guard lock(mu_);
    return {slabs_, in_use_};
  }

 private:
  void grow(std::size_t cls) {
    auto* slab = static_cast<std::uint8_t*>(sodium_malloc(kSlabBytes));
    if (slab == nullptr) throw std::bad_alloc();
    sodium_memzero(slab, kSlabBytes);
    ++slabs_;
    const std::size_t slot = kMinSlot << cls;
    for (std::size_t off = kSlabBytes; off >= slot; off -= slot)
      free_[cls].push_back(slab + off - slot);
  }
  std::mutex mu_;
  std::vector<std::uint8_t*> free_[kClasses];
  std::size_t slabs_ = 0;
  std::size_t in_use_ = 0;
};

// Never destroyed: secrets with static storage may be freed after main returns.
SecretPool& pool() {
  static SecretPool* p = new SecretPool();
  return *p;
}

}  // namespace

SecretBytes::SecretBytes(std::size_t size) {
  ensure_sodium();
  if (size == 0) return;
  if (size <= kMaxSlot) {
    std::size_t cls = class_of(size);
    data_ = pool().take(cls);
    capacity_ = kMinSlot << cls;
  } else {
    data_ = static_cast<std::uint8_t*>(sodium_malloc(size));
    if (data_ == nullptr) throw std::bad_alloc();
    sodium_memzero(data_, size);
    capacity_ = size;
  }
  size_ = size;
}

SecretBytes SecretBytes::copy_of(ByteView v) {
  SecretBytes s(v.size());
  if (!v.empty()) std::copy(v.begin(), v.end(), s.data_);
  return s;
}

SecretBytes::~SecretBytes() {
  release();
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = other.capacity_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

void SecretBytes::release() noexcept {
  if (data_ == nullptr) return;
  if (capacity_ <= kMaxSlot) {
    pool().give_back(class_of(capacity_), data_);  // wipes the whole slot
  } else {
    sodium_memzero(data_, capacity_);
    sodium_free(data_);  // also wipes; the explicit wipe keeps the guarantee local
  }
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void SecretBytes::truncate(std::size_t new_size) {
  if (new_size >= size_) return;
  sodium_memzero(data_ + new_size, size_ - new_size);
  size_ = new_size;
}

bool SecretBytes::equals(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

std::ostream& operator<<(std::ostream& os, const SecretBytes& s) {
  return os << "<redacted " << s.size() << " bytes>";
}

SecretPoolStats secret_pool_stats() {
  return pool().stats();
}

namespace detail {
void secret_size_mismatch(std::size_t want, std::size_t got) {
  std::fprintf(stderr, "sotto: secret of %zu bytes where %zu were required\n", got, want);
  std::abort();
}
void secure_copy(std::uint8_t* dst, ByteView src) {
  if (!src.empty()) std::copy(src.begin(), src.end(), dst);
}
}  // namespace detail

}  // namespace sotto
