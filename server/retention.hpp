// retention.hpp — the retention purge: deletes queued envelopes whose
// retention has passed (RelayStore::purge_expired), batch after batch until
// the store reports nothing more, and the day-granular last-seen bookkeeping.
//
// purge_until_done runs purge_expired(now) again while the store answers
// `more`, each pass a separate transaction so sends are never held up for
// long, and reports the total once (or the first error, with what was purged
// before it lost nothing: every pass committed on its own). `post` moves each
// continuation onto the caller's executor (store completions run on the
// writer thread); tests may pass a function that runs it at once.
//
// LastSeen decides when an authenticated connection must write the account's
// last-seen day: only when the stored day is older than today and no write
// for that account was already issued today, so an account costs at most one
// write per day however often it connects. It remembers today's accounts only
// (the set is cleared when the day changes).
#pragma once

#include <functional>
#include <set>

#include "server/store.hpp"

namespace sotto::relay {

using Post = std::function<void(std::function<void()>)>;

void purge_until_done(RelayStore& store, std::uint64_t now_unix, Post post,
                      Completion<PurgeOutcome> done);

class LastSeen {
 public:
  // True when the caller should touch_account(id, today) now.
  bool should_touch(const AccountId& id, UnixDay stored_last_seen, UnixDay today);
  std::size_t remembered() const { return today_.size(); }

 private:
  UnixDay day_ = 0;
  std::set<AccountId> today_;
};

}  // namespace sotto::relay
