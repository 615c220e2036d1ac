// ratchet_state_codec.cpp — State::serialize / State::restore: the
// sotto.store.RatchetSession message of proto/store.proto, written and read
// field by field with protobuf's CodedOutputStream / CodedInputStream straight
// into / out of sodium-backed memory. The generated classes are not used here:
// they would put the keys in std::string.
//
// Encoding is canonical: fields in ascending number, proto3 defaults (0, empty)
// omitted, so the bytes equal what the generated class would write. restore()
// accepts fields in any order but fails with kStateCorrupt on anything else:
// an unknown field or wire type, a singular field twice, a wrong length, a
// missing required field, a count over the limits, an unknown version, or
// values that contradict each other (docs/protocol.md section 30).
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <sodium.h>

#include <array>
#include <cstdlib>
#include <new>
#include <set>
#include <tuple>

#include "common/ratchet.hpp"

namespace sotto::ratchet {

namespace {

using google::protobuf::io::ArrayInputStream;
using google::protobuf::io::ArrayOutputStream;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Field numbers of proto/store.proto.
enum SessionField : std::uint32_t {
  kVersion = 1,
  kAssociatedData = 2,
  kRootKey = 3,
  kSelfPrivate = 4,
  kSelfPublic = 5,
  kRemotePublic = 6,
  kSendingChain = 7,
  kReceivingChain = 8,
  kSendingCounter = 9,
  kReceivingCounter = 10,
  kPreviousCounter = 11,
  kSkippedKeys = 12,
};
enum SkippedField : std::uint32_t { kSkRatchetKey = 1, kSkCounter = 2, kSkMessageKey = 3 };

constexpr std::uint32_t kWireVarint = 0;
constexpr std::uint32_t kWireLen = 2;
constexpr std::uint32_t tag(std::uint32_t field, std::uint32_t wire) {
  return (field << 3) | wire;
}

std::size_t varint_size(std::uint32_t v) {
  return CodedOutputStream::VarintSize32(v);
}
// Every tag here is below 16: one byte.
std::size_t uint_field_size(std::uint32_t v) {
  return v == 0 ? 0 : 1 + varint_size(v);
}
std::size_t bytes_field_size(std::size_t n) {
  return n == 0 ? 0 : 1 + varint_size(static_cast<std::uint32_t>(n)) + n;
}
std::size_t skipped_entry_size(std::uint32_t counter) {
  return bytes_field_size(32) + uint_field_size(counter) + bytes_field_size(32);
}

void put_uint(CodedOutputStream& out, std::uint32_t field, std::uint32_t v) {
  if (v == 0) return;
  out.WriteTag(tag(field, kWireVarint));
  out.WriteVarint32(v);
}
void put_bytes(CodedOutputStream& out, std::uint32_t field, ByteView v) {
  if (v.empty()) return;
  out.WriteTag(tag(field, kWireLen));
  out.WriteVarint32(static_cast<std::uint32_t>(v.size()));
  out.WriteRaw(v.data(), static_cast<int>(v.size()));
}

// ---- reading ----

bool read_u32(CodedInputStream& in, std::uint32_t& out) {
  std::uint64_t v = 0;
  if (!in.ReadVarint64(&v) || v > UINT32_MAX) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

// A length-delimited field of exactly `want` bytes, read into `dst`.
bool read_exact(CodedInputStream& in, std::uint8_t* dst, std::size_t want) {
  std::uint32_t len = 0;
  if (!in.ReadVarint32(&len) || len != want) return false;
  return in.ReadRaw(dst, static_cast<int>(want));
}

// A length-delimited field of 0 or 32 bytes; an empty field means "absent".
template <class T>
bool read_optional_32(CodedInputStream& in, std::optional<T>& out) {
  std::uint32_t len = 0;
  if (!in.ReadVarint32(&len)) return false;
  if (len == 0) {
    out.reset();
    return true;
  }
  if (len != 32) return false;
  T value{};
  if (!in.ReadRaw(value.data(), 32)) return false;
  out = std::move(value);
  return true;
}

struct SkippedIndexKey {
  std::array<std::uint8_t, 32> ratchet_key;
  std::uint32_t counter;
  bool operator<(const SkippedIndexKey& o) const {
    return std::tie(ratchet_key, counter) < std::tie(o.ratchet_key, o.counter);
  }
};

}  // namespace

SecretBytes State::serialize() const {
  std::size_t total = uint_field_size(kStateVersion) + bytes_field_size(ad_.size()) +
                      bytes_field_size(32) * 3 +  // root key, DHs private, DHs public
                      bytes_field_size(dh_remote_ ? 32 : 0) +
                      bytes_field_size(sending_chain_ ? 32 : 0) +
                      bytes_field_size(receiving_chain_ ? 32 : 0) + uint_field_size(ns_) +
                      uint_field_size(nr_) + uint_field_size(pn_);
  for (std::size_t i = 0; i < skipped_.size(); ++i) {
    total += bytes_field_size(skipped_entry_size(skipped_.counter(i)));
  }

  SecretBytes buf(total);
  ArrayOutputStream sink(buf.data(), static_cast<int>(total));
  // The stream keeps a small patch buffer of the last bytes written: it lives
  // in `storage`, which is wiped after the stream is destroyed.
  alignas(CodedOutputStream) std::array<unsigned char, sizeof(CodedOutputStream)> storage;
  auto* out = new (storage.data()) CodedOutputStream(&sink);
  put_uint(*out, kVersion, kStateVersion);
  put_bytes(*out, kAssociatedData, ad_);
  put_bytes(*out, kRootKey, root_.view());
  put_bytes(*out, kSelfPrivate, dh_self_.secret.view());
  put_bytes(*out, kSelfPublic, dh_self_.public_key.view());
  if (dh_remote_) put_bytes(*out, kRemotePublic, dh_remote_->view());
  if (sending_chain_) put_bytes(*out, kSendingChain, sending_chain_->view());
  if (receiving_chain_) put_bytes(*out, kReceivingChain, receiving_chain_->view());
  put_uint(*out, kSendingCounter, ns_);
  put_uint(*out, kReceivingCounter, nr_);
  put_uint(*out, kPreviousCounter, pn_);
  for (std::size_t i = 0; i < skipped_.size(); ++i) {
    out->WriteTag(tag(kSkippedKeys, kWireLen));
    out->WriteVarint32(static_cast<std::uint32_t>(skipped_entry_size(skipped_.counter(i))));
    put_bytes(*out, kSkRatchetKey, skipped_.ratchet_key(i).view());
    put_uint(*out, kSkCounter, skipped_.counter(i));
    put_bytes(*out, kSkMessageKey, skipped_.key(i));
  }
  const bool failed = out->HadError();
  out->~CodedOutputStream();
  sodium_memzero(storage.data(), storage.size());
  // The size was computed exactly: anything else is a broken invariant.
  if (failed || sink.ByteCount() != static_cast<std::int64_t>(total)) std::abort();
  return buf;
}

Result<State, ProtocolError> State::restore(ByteView serialized) {
  constexpr auto kCorrupt = ProtocolError::kStateCorrupt;
  // Largest possible encoding: fixed fields, AD and 2000 skipped keys; bounds
  // the work before any parsing.
  constexpr std::size_t kMaxBytes = 512 + kMaxAssociatedDataBytes + kMaxStoredSkippedKeys * 80;
  if (serialized.size() > kMaxBytes) return fail(kCorrupt);

  ArrayInputStream source(serialized.data(), static_cast<int>(serialized.size()));
  CodedInputStream in(&source);

  State s;
  std::uint32_t version = 0;
  std::uint32_t seen = 0;  // bit per singular field
  std::optional<RootKey> root;
  std::optional<X25519SecretKey> self_private;
  std::optional<X25519PublicKey> self_public;
  std::set<SkippedIndexKey> skipped_index;

  for (;;) {
    const std::uint32_t t = in.ReadTag();
    if (t == 0) break;
    const std::uint32_t field = t >> 3;
    const std::uint32_t wire = t & 7;
    if (field >= 1 && field <= 11) {
      if (seen & (1u << field)) return fail(kCorrupt);  // a singular field twice
      seen |= 1u << field;
    }
    const bool is_uint = field == kVersion || field == kSendingCounter ||
                         field == kReceivingCounter || field == kPreviousCounter;
    if (field < 1 || field > 12 || wire != (is_uint ? kWireVarint : kWireLen)) {
      return fail(kCorrupt);  // unknown field or wrong wire type
    }
    bool ok = true;
    switch (field) {
      case kVersion:
        ok = read_u32(in, version);
        break;
      case kAssociatedData: {
        std::uint32_t len = 0;
        ok = in.ReadVarint32(&len) && len <= kMaxAssociatedDataBytes;
        if (ok) {
          s.ad_.resize(len);
          ok = in.ReadRaw(s.ad_.data(), static_cast<int>(len));
        }
        break;
      }
      case kRootKey:
        ok = read_exact(in, root.emplace().data(), 32);
        break;
      case kSelfPrivate:
        ok = read_exact(in, self_private.emplace().data(), 32);
        break;
      case kSelfPublic:
        ok = read_exact(in, self_public.emplace().data(), 32);
        break;
      case kRemotePublic:
        ok = read_optional_32(in, s.dh_remote_);
        break;
      case kSendingChain:
        ok = read_optional_32(in, s.sending_chain_);
        break;
      case kReceivingChain:
        ok = read_optional_32(in, s.receiving_chain_);
        break;
      case kSendingCounter:
        ok = read_u32(in, s.ns_);
        break;
      case kReceivingCounter:
        ok = read_u32(in, s.nr_);
        break;
      case kPreviousCounter:
        ok = read_u32(in, s.pn_);
        break;
      case kSkippedKeys: {
        if (s.skipped_.size() >= kMaxStoredSkippedKeys) return fail(kCorrupt);
        std::uint32_t len = 0;
        if (!in.ReadVarint32(&len) || len > 80) return fail(kCorrupt);
        const auto limit = in.PushLimit(static_cast<int>(len));
        std::optional<X25519PublicKey> key;
        std::uint32_t counter = 0;
        std::optional<MessageKey> mk;
        std::uint32_t inner_seen = 0;
        for (;;) {
          const std::uint32_t it = in.ReadTag();
          if (it == 0) break;
          const std::uint32_t f = it >> 3;
          const std::uint32_t w = it & 7;
          if (f < 1 || f > 3 || (inner_seen & (1u << f))) return fail(kCorrupt);
          inner_seen |= 1u << f;
          if (w != (f == kSkCounter ? kWireVarint : kWireLen)) return fail(kCorrupt);
          bool inner_ok = true;
          if (f == kSkRatchetKey) inner_ok = read_exact(in, key.emplace().data(), 32);
          if (f == kSkCounter) inner_ok = read_u32(in, counter);
          if (f == kSkMessageKey) inner_ok = read_exact(in, mk.emplace().data(), 32);
          if (!inner_ok) return fail(kCorrupt);
        }
        if (!in.ConsumedEntireMessage()) return fail(kCorrupt);
        in.PopLimit(limit);
        if (!key || !mk) return fail(kCorrupt);
        if (!skipped_index.insert({key->bytes, counter}).second) return fail(kCorrupt);
        s.skipped_.insert(*key, counter, *mk);
        break;
      }
      default:
        return fail(kCorrupt);
    }
    if (!ok) return fail(kCorrupt);
  }
  if (!in.ConsumedEntireMessage()) return fail(kCorrupt);

  // Required fields and the version.
  if (version != kStateVersion || !root || !self_private || !self_public) return fail(kCorrupt);
  // DHs: the public half must be the private half's.
  if (crypto::x25519_public_from(*self_private) != *self_public) return fail(kCorrupt);
  // Chains exist only once a peer ratchet key is known; counters only with chains.
  if ((s.sending_chain_ || s.receiving_chain_) && !s.dh_remote_) return fail(kCorrupt);
  // A DH ratchet step makes both chains; only the initiator's first chain stands alone.
  if (s.receiving_chain_ && !s.sending_chain_) return fail(kCorrupt);
  if (s.ns_ != 0 && !s.sending_chain_) return fail(kCorrupt);
  if (s.nr_ != 0 && !s.receiving_chain_) return fail(kCorrupt);
  // A stored key of the current receiving chain at or beyond Nr would let one
  // message decrypt twice.
  if (s.dh_remote_) {
    for (std::size_t i = 0; i < s.skipped_.size(); ++i) {
      if (s.skipped_.ratchet_key(i) == *s.dh_remote_ && s.skipped_.counter(i) >= s.nr_) {
        return fail(kCorrupt);
      }
    }
  }
  s.root_ = std::move(*root);
  s.dh_self_ = X25519KeyPair{std::move(*self_private), *self_public};
  return s;
}

}  // namespace sotto::ratchet
