// messenger_prekeys.cpp — keeping the device's prekeys usable (see
// messenger.hpp, "Prekeys"): topping up the one-time prekeys the relay hands
// out, rotating the signed prekey on schedule, forgetting replaced signed
// prekeys once their grace period is over.
//
// Crash safety: private halves are always committed before their public
// halves are uploaded, so the relay never hands out a key this device cannot
// use. A rotation is (1) store the new SPK, not yet current, (2) upload it,
// (3) make it current and mark the old one replaced. A crash between (1) and
// (3) leaves a stored SPK that is not current and not marked replaced: the
// next upkeep marks it replaced (it may have reached the relay, so it is kept
// for the grace period) and rotates again.
#include <algorithm>
#include <string>

#include "client/device_keys.hpp"
#include "client/messenger.hpp"

namespace sotto::client {

MessengerResult<void> Messenger::maintain_prekeys() {
  std::lock_guard lock(mu_);
  if (!relay_ || !relay_->is_open()) {
    // A fresh connection runs this upkeep itself.
    SOTTO_TRY(RelayClient * fresh, relay());
    (void)fresh;
    return {};
  }
  auto held = relay_->prekey_count();
  if (!held) return fail(from_relay(held.error(), "asking the relay for the prekey count"));
  if (*held < options_.prekey_low_water) SOTTO_TRY_VOID(replenish_prekeys(*held));
  return rotate_signed_prekey_if_due();
}

// One-time prekeys: below the low-water mark, top up to the target.
MessengerResult<void> Messenger::replenish_prekeys(std::uint32_t held) {
  const std::uint32_t want = options_.prekey_target > held ? options_.prekey_target - held : 0;
  if (want == 0) return {};
  SOTTO_STORE_TRY(auto publics, make_one_time_prekeys(*store_, want, rng_),
                  "storing new one-time prekeys");
  auto uploaded = relay_->upload_prekeys(publics);
  if (!uploaded) {
    // The private halves stay stored (unused ids are never reused): harmless.
    auto e = from_relay(uploaded.error(), "uploading one-time prekeys");
    if (e.kind != MessengerErrorKind::kRejected) return fail(std::move(e));
    notice(e.message);
  }
  return {};
}

MessengerResult<void> Messenger::rotate_signed_prekey_if_due() {
  constexpr std::string_view doing = "rotating the signed prekey";
  const auto& policy = options_.signed_prekey_policy;
  const std::uint64_t now = clock_.now_unix();
  SOTTO_STORE_TRY(auto current, load_current_signed_prekey(*store_), doing);
  SOTTO_STORE_TRY(auto ids, store_->signed_prekey_ids(), doing);

  // Replaced signed prekeys: mark the unmarked (an interrupted rotation),
  // forget those past their grace period.
  for (PreKeyId id : ids) {
    if (id == current.pair.public_key.id) continue;
    SOTTO_STORE_TRY(auto old, load_signed_prekey(*store_, id), doing);
    if (!old) continue;
    if (old->replaced_at == 0) {
      old->replaced_at = now;
      SOTTO_STORE_TRY_VOID(store_signed_prekey(*store_, *old), doing);
    } else if (policy.may_delete_replaced(old->replaced_at, now)) {
      SOTTO_STORE_TRY(bool removed, store_->remove_signed_prekey(id), doing);
      (void)removed;
    }
  }
  if (!policy.needs_rotation(current.pair.public_key, now)) return {};

  // (1) the new SPK, stored but not yet current.
  const PreKeyId next_id = ids.empty() ? 1 : ids.back() + 1;
  auto fresh = generate_signed_prekey(identity_, next_id, now, rng_, policy);
  const SignedPreKeyPublic fresh_public = fresh.public_key;
  SOTTO_STORE_TRY_VOID(store_signed_prekey(*store_, StoredSignedPreKey{std::move(fresh), 0}),
                       doing);
  // (2) upload.
  auto rotated = relay_->rotate_signed_prekey(fresh_public);
  if (!rotated) {
    auto e = from_relay(rotated.error(), doing);
    if (e.kind != MessengerErrorKind::kRejected) return fail(std::move(e));
    notice(e.message);
    return {};
  }
  // (3) current := new; the old one enters its grace period.
  current.replaced_at = now;
  auto committed = store_->transaction([&]() -> StoreResult<void> {
    SOTTO_TRY_VOID(store_signed_prekey(*store_, current));
    SOTTO_TRY_VOID(set_current_signed_prekey(*store_, next_id));
    return store_->put_setting_u64(setting::kSignedPrekeyRotatedAt, now);
  });
  if (!committed) return fail(from_store(committed.error(), doing));
  return {};
}

}  // namespace sotto::client
