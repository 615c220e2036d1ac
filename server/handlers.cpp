// handlers.cpp — see handlers.hpp.
#include "server/handlers.hpp"

#include <memory>

#include "common/identity.hpp"
#include "common/prekeys.hpp"

namespace sotto::relay {
namespace {

HandlerResult answer(std::uint64_t id, Status s, ResponseResult result = std::monostate{}) {
  HandlerResult h;
  h.response = Response{id, s, std::nullopt, std::move(result)};
  return h;
}

// A signed prekey as uploaded (Register, RotateSignedPreKey): the 116-byte
// record of common/prekeys.hpp. Checked as the initiator will check it, so a
// bundle the relay hands out never fails verify_bundle for a reason the relay
// could have seen: MALFORMED for an undecodable record, an empty or too long
// validity window, an already expired key, or a low-order or non-canonical
// key; UNAUTHORISED for a signature that IK did not make.
Result<SignedPrekeyRecord, Status> signed_prekey_record(const IdentityKey& ik, const Bytes& encoded,
                                                        std::uint64_t now) {
  auto spk = decode_signed_prekey(encoded);
  if (!spk) return fail(Status::kMalformed);
  // verify_signed_prekey(IK, spk): the signature, then the window.
  auto verified = verify_signed_prekey(ik, *spk);
  if (!verified)
    return fail(verified.error() == ProtocolError::kBadSignature ? Status::kUnauthorised
                                                                 : Status::kMalformed);
  if (spk->is_expired(now) || !check_peer_x25519(spk->key)) return fail(Status::kMalformed);
  return SignedPrekeyRecord{spk->id, encoded};
}

// One-time prekeys are stored in their 36-byte record form: id u32be || key[32].
// Each key must be usable in DH: not low order, canonical (MALFORMED otherwise).
std::optional<std::vector<OneTimePrekeyRecord>> prekey_records(
    const std::vector<OneTimePreKey>& keys) {
  std::vector<OneTimePrekeyRecord> out;
  for (const auto& k : keys) {
    if (!check_peer_x25519(k.public_key)) return std::nullopt;
    out.push_back({k.id, encode_one_time_prekey(OneTimePreKeyPublic{k.id, k.public_key})});
  }
  return out;
}

std::optional<OneTimePreKey> prekey_from_record(const OneTimePrekeyRecord& r) {
  auto opk = decode_one_time_prekey(r.encoded);
  if (!opk) return std::nullopt;
  return OneTimePreKey{opk->id, opk->key};
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
  auto spk = signed_prekey_record(r.identity_key, r.signed_prekey, ctx.clock.now_unix());
  if (!spk) return reply(answer(id, spk.error()));
  auto checked_prekeys = prekey_records(r.one_time_prekeys);
  if (!checked_prekeys) return reply(answer(id, Status::kMalformed));

  AccountKeys keys;
  keys.identity_key = account_id_of(r.identity_key);
  keys.device_id = r.device_id;
  keys.transport_key = array_of<32>(r.transport_key.view());
  keys.transport_signature = array_of<64>(r.transport_key_signature.view());
  keys.signed_prekey = *spk;
  const AccountId account = keys.identity_key;
  auto prekeys = std::move(*checked_prekeys);

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

std::optional<AccountRecord> authenticate(RelayStore& store, const Session& session) {
  if (session.anonymous) return std::nullopt;
  auto record = store.get_account(account_id_of(session.hello.identity_key));
  if (!record) return std::nullopt;
  // The stored, certified transport key and device id are the ones of this handshake.
  if (record->keys.transport_key != array_of<32>(session.remote_static.view()) ||
      record->keys.device_id != session.hello.device_id)
    return std::nullopt;
  return std::move(*record);
}

bool allowed_anonymously(const Request& request) {
  return std::holds_alternative<FetchBundleRequest>(request);
}

namespace {

void handle_fetch_bundle(HandlerContext ctx, std::uint64_t id, const FetchBundleRequest& fb,
                         Reply reply) {
  auto target = account_id_of(fb.account);
  auto record = ctx.store.get_account(target);
  if (!record) return reply(answer(id, status_for(record.error())));
  Bundle bundle{fb.account, record->keys.device_id, record->keys.signed_prekey.encoded,
                std::nullopt};
  // Atomically consumes one one-time prekey; none left -> the signed prekey alone.
  ctx.store.consume_one_time_prekey(
      target, [id, reply, bundle = std::move(bundle)](
                  StoreResult<std::optional<OneTimePrekeyRecord>> opk) mutable {
        if (!opk) return reply(answer(id, status_for(opk.error())));
        if (*opk) bundle.one_time_prekey = prekey_from_record(**opk);
        reply(answer(id, Status::kOk, std::move(bundle)));
      });
}

}  // namespace

void handle_request(HandlerContext ctx, const Session& s, ClientRequest request, Reply reply) {
  const std::uint64_t id = request.request_id;
  // An anonymous (NK) connection may only fetch bundles.
  if (s.anonymous && !allowed_anonymously(request.request))
    return reply(answer(id, Status::kUnauthorised));
  // Any session may fetch a bundle (the only request that needs no account).
  if (auto* fb = std::get_if<FetchBundleRequest>(&request.request))
    return handle_fetch_bundle(ctx, id, *fb, std::move(reply));
  if (auto* r = std::get_if<RegisterRequest>(&request.request))
    return handle_register(ctx, s, id, *r, std::move(reply));
  if (!s.account) return reply(answer(id, Status::kUnauthorised));
  const AccountId me = *s.account;

  if (auto* up = std::get_if<UploadPreKeysRequest>(&request.request)) {
    auto records = prekey_records(up->one_time_prekeys);
    if (!records) return reply(answer(id, Status::kMalformed));
    ctx.store.add_one_time_prekeys(
        me, std::move(*records), [id, reply](StoreResult<std::uint64_t> n) {
          if (!n) return reply(answer(id, status_for(n.error())));
          reply(answer(id, Status::kOk, PreKeyCount{static_cast<std::uint32_t>(*n)}));
        });
  } else if (std::holds_alternative<GetPreKeyCountRequest>(request.request)) {
    auto n = ctx.store.count_one_time_prekeys(me);
    if (!n) return reply(answer(id, status_for(n.error())));
    reply(answer(id, Status::kOk, PreKeyCount{static_cast<std::uint32_t>(*n)}));
  } else if (auto* rot = std::get_if<RotateSignedPreKeyRequest>(&request.request)) {
    // Signed by the account's own identity key (the session is authenticated as it).
    auto spk = signed_prekey_record(s.hello.identity_key, rot->signed_prekey, ctx.clock.now_unix());
    if (!spk) return reply(answer(id, spk.error()));
    ctx.store.rotate_signed_prekey(me, std::move(*spk), [id, reply](StoreResult<void> done) {
      reply(answer(id, done ? Status::kOk : status_for(done.error())));
    });
  } else if (auto* snd = std::get_if<SendRequest>(&request.request)) {
    auto recipient = account_id_of(snd->recipient);
    // Arrival kept to the hour; the sender is never passed to the store. The quota and
    // the sequence are settled now; ACCEPTED waits for the commit (or the recipient's ack).
    auto live = ctx.store.admit(
        recipient, std::move(snd->envelope), arrival_bucket_of(ctx.clock.now_unix()),
        [id, reply, recipient, pushed = ctx.live != nullptr](StoreResult<Admitted> a) {
          if (!a) return reply(answer(id, status_for(a.error())));
          HandlerResult h = answer(id, Status::kAccepted);
          if (!a->early || !pushed) h.notify = recipient;
          reply(std::move(h));
        },
        // Early: pushed from memory inside admit, in sequence order, before the insert
        // commits (and the insert held back a little when a live connection took it).
        ctx.live);
    if (!live) return reply(answer(id, status_for(live.error())));
  } else if (auto* ack = std::get_if<AckRequest>(&request.request)) {
    ctx.store.ack(me, std::move(ack->sequences), [id, reply](StoreResult<AckOutcome> done) {
      HandlerResult h = answer(id, done ? Status::kOk : status_for(done.error()));
      if (done) {
        h.acked = done->deleted;
        h.acked_before_commit = done->before_commit;
      }
      reply(std::move(h));
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
