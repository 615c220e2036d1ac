// retention.cpp — see retention.hpp.
#include "server/retention.hpp"

#include <memory>

namespace sotto::relay {
namespace {

struct PurgeRun : std::enable_shared_from_this<PurgeRun> {
  RelayStore& store;
  std::uint64_t now;
  Post post;
  Completion<PurgeOutcome> done;
  PurgeOutcome total;

  PurgeRun(RelayStore& s, std::uint64_t n, Post p, Completion<PurgeOutcome> d)
      : store(s), now(n), post(std::move(p)), done(std::move(d)) {}

  void pass() {
    auto self = shared_from_this();
    store.purge_expired(now, [self](StoreResult<PurgeOutcome> r) {
      self->post([self, r = std::move(r)]() mutable { self->passed(std::move(r)); });
    });
  }

  void passed(StoreResult<PurgeOutcome> r) {
    if (!r) return done(fail(r.error()));
    total.messages += r->messages;
    total.bytes += r->bytes;
    // Loop while the batch limit was reached; each pass is its own transaction.
    if (r->more && r->messages > 0) return pass();
    total.more = false;
    done(total);
  }
};

}  // namespace

void purge_until_done(RelayStore& store, std::uint64_t now_unix, Post post,
                      Completion<PurgeOutcome> done) {
  std::make_shared<PurgeRun>(store, now_unix, std::move(post), std::move(done))->pass();
}

bool LastSeen::should_touch(const AccountId& id, UnixDay stored_last_seen, UnixDay today) {
  if (today != day_) {
    day_ = today;
    today_.clear();
  }
  if (stored_last_seen >= today) return false;
  return today_.insert(id).second;
}

}  // namespace sotto::relay
