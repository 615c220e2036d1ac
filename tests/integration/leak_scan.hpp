// leak_scan.hpp — byte-wise search of many needles in many haystacks, for the
// disclosure test: plaintexts, private keys and account ids (in every
// encoding) searched in every file of the relay's data directory, its log
// and its `disclose` output.
//
//   LeakScanner scan;
//   scan.add("plaintext 3 (alice -> bob)", text);        // needles >= 16 bytes
//   auto hits = scan.find_in("relay/relay.db", bytes);   // every occurrence
//
// Needles are indexed by their first 16 bytes, so a haystack of n bytes costs n
// hash lookups whatever the number of needles. A hit reports the needle's
// description and the offset, never the needle (it may be a key).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sotto::test {

struct LeakHit {
  std::string where;
  std::size_t offset = 0;
  std::string what;
};

class LeakScanner {
 public:
  static constexpr std::size_t kPrefix = 16;

  // Needles shorter than kPrefix bytes are refused (false): they would match
  // by chance.
  bool add(std::string what, std::string bytes) {
    if (bytes.size() < kPrefix) return false;
    const std::string prefix = bytes.substr(0, kPrefix);
    needles_.push_back({std::move(what), std::move(bytes)});
    index_.emplace(prefix, needles_.size() - 1);
    return true;
  }
  std::size_t size() const { return needles_.size(); }

  std::vector<LeakHit> find_in(const std::string& where, std::string_view hay) const {
    std::vector<LeakHit> hits;
    if (hay.size() < kPrefix) return hits;
    std::string key(kPrefix, '\0');
    for (std::size_t i = 0; i + kPrefix <= hay.size(); ++i) {
      std::memcpy(key.data(), hay.data() + i, kPrefix);
      auto [lo, hi] = index_.equal_range(key);
      for (auto it = lo; it != hi; ++it) {
        const auto& n = needles_[it->second];
        if (hay.substr(i, n.bytes.size()) == n.bytes) hits.push_back({where, i, n.what});
      }
    }
    return hits;
  }

 private:
  struct Needle {
    std::string what;
    std::string bytes;
  };
  std::vector<Needle> needles_;
  std::unordered_multimap<std::string, std::size_t> index_;
};

inline std::string describe(const std::vector<LeakHit>& hits, std::size_t max = 20) {
  std::string s;
  for (std::size_t i = 0; i < hits.size() && i < max; ++i)
    s += "  " + hits[i].what + " in " + hits[i].where + " at offset " +
         std::to_string(hits[i].offset) + "\n";
  if (hits.size() > max) s += "  ... and " + std::to_string(hits.size() - max) + " more\n";
  return s;
}

}  // namespace sotto::test
