// handlers.cpp — see handlers.hpp.
#include "server/handlers.hpp"

#include <memory>

namespace sotto::relay {
namespace {

// x3dh's signed prekey record: id u32be || created u64be || expires u64be ||
// key[32] || signature[64] (common/prekeys.hpp, 116 bytes). Until that module
// is merged the relay checks the size and reads the id; after the merge this
// is where decode_signed_prekey + verify_signed_prekey(IK, spk) belong.
constexpr std::size_t kSignedPreKeyRecordSize = 116;

HandlerResult answer(std::uint64_t id, Status s, ResponseResult result = std::monostate{}) {
  return HandlerResult{Response{id, s, std::nullopt, std::move(result)}, std::nullopt, false,
                       std::nullopt};
}

std::optional<SignedPrekeyRecord> signed_prekey_record(const Bytes& encoded) {
  if (encoded.size() != kSignedPreKeyRecordSize) return std::nullopt;
  return SignedPrekeyRecord{get_u32be(encoded.data()), encoded};
}

// One-time prekeys are stored in x3dh's record form: id u32be || key[32].
std::vector<OneTimePrekeyRecord> prekey_records(const std::vector<OneTimePreKey>& keys) {
  std::vector<OneTimePrekeyRecord> out;
  for (const auto& k : keys) {
    Bytes enc;
    put_u32be(enc, k.id);
    append(enc, k.public_key.view());
    out.push_back({k.id, std::move(enc)});
  }
  return out;
}

std::optional<OneTimePreKey> prekey_from_record(const OneTimePrekeyRecord& r) {
  if (r.encoded.size() != 36) return std::nullopt;
  return OneTimePreKey{get_u32be(r.encoded.data()),
                       *X25519PublicKey::from(ByteView(r.encoded).subspan(4))};
}

template <std::size_t N>
std::array<std::uint8_t, N> array_of(ByteView v) {
  std::array<std::uint8_t, N> a{};
  std::copy(v.begin(), v.end(), a.begin());
  return a;
}

void handle_register(HandlerContext ctx, const Session& s, std::uint64_t id,
                     const RegisterRequest& r, Reply reply) {
  // The device registers the identity it announced, with the key it handshook with.
  if (r.identity_key != s.hello.identity_key || r.device_id != s.hello.device_id ||
      r.transport_key != s.remote_static)
    return reply(answer(id, Status::kUnauthorised));
  // Sign_IK("Sotto/v1/TransportKey" || tk || device_id) and the proof bound to h.
  if (!relay_auth::verify_transport_key(r.identity_key, r.transport_key, r.device_id,
                                        r.transport_key_signature) ||
      !relay_auth::verify_registration(r.identity_key, s.handshake_hash, r.transport_key,
                                       r.device_id, r.proof_of_possession))
    return reply(answer(id, Status::kUnauthorised));
  auto spk = signed_prekey_record(r.signed_prekey);
  if (!spk) return reply(answer(id, Status::kMalformed));

  AccountKeys keys;
  keys.identity_key = account_id_of(r.identity_key);
  keys.transport_key = array_of<32>(r.transport_key.view());
  keys.transport_signature = array_of<64>(r.transport_key_signature.view());
  keys.signed_prekey = *spk;
  const AccountId account = keys.identity_key;
  auto prekeys = prekey_records(r.one_time_prekeys);

  // After the keys are committed: the one-time prekeys, then the answer.
  auto then_prekeys = [ctx, id, account, prekeys = std::move(prekeys),
                       reply](StoreResult<void> done) mutable {
    if (!done) return reply(answer(id, status_for(done.error())));
    auto finish = [id, account, reply](Status st) {
      HandlerResult h = answer(id, st);
      if (st == Status::kOk) h.authenticated = account;
      reply(std::move(h));
    };
    if (prekeys.empty()) return finish(Status::kOk);
    ctx.store.add_one_time_prekeys(account, std::move(prekeys),
                                   [finish](StoreResult<std::uint64_t> added) {
                                     finish(added ? Status::kOk : status_for(added.error()));
                                   });
  };
  auto existing = ctx.store.get_account(account);
  if (existing) {
    // Key replacement: a new or restored device of the same identity.
    ctx.store.replace_keys(std::move(keys), /*clear_one_time_prekeys=*/true,
                           std::move(then_prekeys));
  } else if (existing.error() == StoreError::kNotFound) {
    ctx.store.register_account(std::move(keys), day_of(ctx.clock.now_unix()),
                               std::move(then_prekeys));
  } else {
    reply(answer(id, status_for(existing.error())));
  }
}

}  // namespace

AccountId account_id_of(const IdentityKey& key) {
  return array_of<32>(key.view());
}

Status status_for(StoreError e) {
  switch (e) {
    case StoreError::kNotFound:
      return Status::kNotFound;
    case StoreError::kAlreadyExists:
      return Status::kConflict;
    case StoreError::kQuotaExceeded:
      return Status::kQuotaExceeded;
    case StoreError::kInvalidArgument:
      return Status::kMalformed;
    case StoreError::kBusy:
    case StoreError::kCorrupt:
    case StoreError::kClosed:
    case StoreError::kSchemaTooNew:
    case StoreError::kInternal:
      return Status::kServerBusy;
  }
  return Status::kServerBusy;
}

std::optional<AccountId> authenticate(RelayStore& store, const Session& session) {
  auto id = account_id_of(session.hello.identity_key);
  auto record = store.get_account(id);
  if (!record) return std::nullopt;
  if (record->keys.transport_key != array_of<32>(session.remote_static.view())) return std::nullopt;
  return id;
}

void handle_request(HandlerContext ctx, const Session& s, ClientRequest request, Reply reply) {
  const std::uint64_t id = request.request_id;
  if (auto* r = std::get_if<RegisterRequest>(&request.request))
    return handle_register(ctx, s, id, *r, std::move(reply));
  if (!s.account) return reply(answer(id, Status::kUnauthorised));
  const AccountId me = *s.account;

  if (auto* up = std::get_if<UploadPreKeysRequest>(&request.request)) {
    ctx.store.add_one_time_prekeys(
        me, prekey_records(up->one_time_prekeys), [id, reply](StoreResult<std::uint64_t> n) {
          if (!n) return reply(answer(id, status_for(n.error())));
          reply(answer(id, Status::kOk, PreKeyCount{static_cast<std::uint32_t>(*n)}));
        });
  } else if (std::holds_alternative<GetPreKeyCountRequest>(request.request)) {
    auto n = ctx.store.count_one_time_prekeys(me);
    if (!n) return reply(answer(id, status_for(n.error())));
    reply(answer(id, Status::kOk, PreKeyCount{static_cast<std::uint32_t>(*n)}));
  } else if (auto* rot = std::get_if<RotateSignedPreKeyRequest>(&request.request)) {
    auto spk = signed_prekey_record(rot->signed_prekey);
    if (!spk) return reply(answer(id, Status::kMalformed));
    ctx.store.rotate_signed_prekey(me, *spk, [id, reply](StoreResult<void> done) {
      reply(answer(id, done ? Status::kOk : status_for(done.error())));
    });
  } else if (auto* fb = std::get_if<FetchBundleRequest>(&request.request)) {
    auto target = account_id_of(fb->account);
    auto record = ctx.store.get_account(target);
    if (!record) return reply(answer(id, status_for(record.error())));
    Bundle bundle{fb->account, 1, record->keys.signed_prekey.encoded, std::nullopt};
    // Atomically consumes one one-time prekey; none left -> the signed prekey alone.
    ctx.store.consume_one_time_prekey(
        target, [id, reply, bundle = std::move(bundle)](
                    StoreResult<std::optional<OneTimePrekeyRecord>> opk) mutable {
          if (!opk) return reply(answer(id, status_for(opk.error())));
          if (*opk) bundle.one_time_prekey = prekey_from_record(**opk);
          reply(answer(id, Status::kOk, std::move(bundle)));
        });
  } else if (auto* snd = std::get_if<SendRequest>(&request.request)) {
    auto recipient = account_id_of(snd->recipient);
    // Arrival kept to the hour; the sender is never passed to the store.
    ctx.store.enqueue(recipient, std::move(snd->envelope), arrival_bucket_of(ctx.clock.now_unix()),
                      [id, reply, recipient](StoreResult<Sequence> seq) {
                        if (!seq) return reply(answer(id, status_for(seq.error())));
                        HandlerResult h = answer(id, Status::kAccepted);
                        h.notify = recipient;
                        reply(std::move(h));
                      });
  } else if (auto* ack = std::get_if<AckRequest>(&request.request)) {
    ctx.store.ack(me, std::move(ack->sequences), [id, reply](StoreResult<AckOutcome> done) {
      reply(answer(id, done ? Status::kOk : status_for(done.error())));
    });
  } else if (auto* del = std::get_if<DeleteAccountRequest>(&request.request)) {
    if (!relay_auth::verify_delete_account(s.hello.identity_key, s.handshake_hash,
                                           del->proof_of_possession))
      return reply(answer(id, Status::kUnauthorised));
    ctx.store.delete_account(me, [id, reply](StoreResult<void> done) {
      HandlerResult h = answer(id, done ? Status::kOk : status_for(done.error()));
      h.deauthenticated = done.ok();
      reply(std::move(h));
    });
  }
}

}  // namespace sotto::relay
