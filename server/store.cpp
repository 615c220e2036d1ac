// store.cpp — StoreError texts, the commit histogram bounds and the std::future forms
// of the RelayStore writes (each one a Completion that fulfils a promise).
#include "server/store.hpp"

#include <limits>

namespace sotto::relay {

std::string_view to_string(StoreError e) {
  switch (e) {
    case StoreError::kNotFound:
      return "not found";
    case StoreError::kAlreadyExists:
      return "already exists";
    case StoreError::kQuotaExceeded:
      return "quota exceeded";
    case StoreError::kBusy:
      return "store busy (full disk, I/O error or locked): retry later";
    case StoreError::kCorrupt:
      return "store corrupt";
    case StoreError::kInvalidArgument:
      return "invalid argument";
    case StoreError::kClosed:
      return "store closed";
    case StoreError::kSchemaTooNew:
      return "database schema is newer than this relay understands";
    case StoreError::kInternal:
      return "internal store error";
  }
  return "unknown store error";
}

std::uint64_t CommitStats::histogram_upper_bound(std::size_t bucket) {
  if (bucket + 1 >= kHistogramBuckets) return std::numeric_limits<std::uint64_t>::max();
  return std::uint64_t{1} << bucket;
}

std::future<StoreResult<void>> RelayStore::register_account(AccountKeys keys, UnixDay today) {
  auto [done, future] = completion_future<void>();
  register_account(std::move(keys), today, std::move(done));
  return std::move(future);
}

std::future<StoreResult<void>> RelayStore::replace_keys(AccountKeys keys,
                                                        bool clear_one_time_prekeys) {
  auto [done, future] = completion_future<void>();
  replace_keys(std::move(keys), clear_one_time_prekeys, std::move(done));
  return std::move(future);
}

std::future<StoreResult<void>> RelayStore::delete_account(AccountId id) {
  auto [done, future] = completion_future<void>();
  delete_account(id, std::move(done));
  return std::move(future);
}

std::future<StoreResult<void>> RelayStore::touch_account(AccountId id, UnixDay today) {
  auto [done, future] = completion_future<void>();
  touch_account(id, today, std::move(done));
  return std::move(future);
}

std::future<StoreResult<std::uint64_t>> RelayStore::add_one_time_prekeys(
    AccountId id, std::vector<OneTimePrekeyRecord> prekeys) {
  auto [done, future] = completion_future<std::uint64_t>();
  add_one_time_prekeys(id, std::move(prekeys), std::move(done));
  return std::move(future);
}

std::future<StoreResult<std::optional<OneTimePrekeyRecord>>> RelayStore::consume_one_time_prekey(
    AccountId id) {
  auto [done, future] = completion_future<std::optional<OneTimePrekeyRecord>>();
  consume_one_time_prekey(id, std::move(done));
  return std::move(future);
}

std::future<StoreResult<void>> RelayStore::rotate_signed_prekey(AccountId id,
                                                                SignedPrekeyRecord prekey) {
  auto [done, future] = completion_future<void>();
  rotate_signed_prekey(id, std::move(prekey), std::move(done));
  return std::move(future);
}

std::future<StoreResult<Sequence>> RelayStore::enqueue(AccountId recipient, Bytes ciphertext,
                                                       ArrivalBucket arrival) {
  auto [done, future] = completion_future<Sequence>();
  enqueue(recipient, std::move(ciphertext), arrival, std::move(done));
  return std::move(future);
}

std::future<StoreResult<AckOutcome>> RelayStore::ack(AccountId recipient,
                                                     std::vector<Sequence> seqs) {
  auto [done, future] = completion_future<AckOutcome>();
  ack(recipient, std::move(seqs), std::move(done));
  return std::move(future);
}

std::future<StoreResult<PurgeOutcome>> RelayStore::purge_expired(std::uint64_t now_unix) {
  auto [done, future] = completion_future<PurgeOutcome>();
  purge_expired(now_unix, std::move(done));
  return std::move(future);
}

}  // namespace sotto::relay
