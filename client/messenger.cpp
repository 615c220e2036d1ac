// messenger.cpp — creating and opening a profile, the relay connection,
// contacts, history, verification and the passphrase (see messenger.hpp).
// Sending: messenger_send.cpp; receiving: messenger_receive.cpp; prekey
// upkeep: messenger_prekeys.cpp.
#include "client/messenger.hpp"

#include <system_error>
#include <utility>

#include "client/device_keys.hpp"
#include "common/envelope.hpp"
#include "common/ratchet_header.hpp"
#include "common/x3dh.hpp"

namespace sotto::client {
namespace fs = std::filesystem;

std::size_t max_text_bytes() {
  // envelope payload = X3DH header (at most 74) || ratchet header || ciphertext (+ tag)
  return kMaxPayloadBytes - kX3dhHeaderSizeWithOneTime - ratchet::kHeaderBytes - ratchet::kTagBytes;
}

namespace {

constexpr std::uint32_t kDeviceId = 1;

// Removes what init() created when registration failed: the profile files,
// and the directory if init made it and it is empty now.
void remove_new_profile(const fs::path& dir, bool dir_existed) {
  std::error_code ec;
  const fs::path db = dir / kProfileFileName;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(fs::path(db.string() + suffix), ec);
  if (!dir_existed) fs::remove(dir, ec);  // only if empty
}

}  // namespace

Messenger::Messenger(std::unique_ptr<ProfileStore> store, IdentityKeyPair identity,
                     X25519KeyPair transport, std::uint32_t device_id, RelayAddress address,
                     Rng& rng, const sotto::Clock& clock, MessengerOptions options)
    : store_(std::move(store)),
      identity_(std::move(identity)),
      transport_(std::move(transport)),
      device_id_(device_id),
      address_(std::move(address)),
      rng_(rng),
      clock_(clock),
      options_(std::move(options)) {}

Messenger::~Messenger() = default;

MessengerResult<std::unique_ptr<Messenger>> Messenger::init(const fs::path& dir,
                                                            const SecretBytes& passphrase,
                                                            std::string_view relay_address,
                                                            Rng& rng, const sotto::Clock& clock,
                                                            MessengerOptions options) {
  auto address = parse_relay_address(relay_address);
  if (!address) return messenger_fail(MessengerErrorKind::kInvalidArgument, address.error());
  if (ProfileStore::exists(dir))
    return messenger_fail(
        MessengerErrorKind::kProfileExists,
        "a profile already exists in " + dir.string() + " (use --profile DIR for another one)");
  std::error_code ec;
  const bool dir_existed = fs::exists(dir, ec);

  auto created = ProfileStore::create(dir, passphrase, options.store);
  if (!created) return fail(from_store(created.error(), "creating the profile"));
  auto store = std::move(*created);

  // The device's keys: IK, transport key, SPK #1 and the first one-time prekeys.
  const std::uint64_t now = clock.now_unix();
  auto identity = generate_identity_seed(rng);
  auto transport = crypto::x25519_generate(rng);
  auto spk = generate_signed_prekey(identity.key, 1, now, rng, options.signed_prekey_policy);
  const SignedPreKeyPublic spk_public = spk.public_key;
  std::vector<OneTimePreKeyPublic> opks;
  const std::string address_text = address->to_string();
  auto written = store->transaction([&]() -> StoreResult<void> {
    SOTTO_TRY_VOID(store_identity(*store, identity.seed));
    SOTTO_TRY_VOID(store_transport_key(*store, transport));
    SOTTO_TRY_VOID(store_signed_prekey(*store, StoredSignedPreKey{std::move(spk), 0}));
    SOTTO_TRY_VOID(set_current_signed_prekey(*store, 1));
    SOTTO_TRY(opks, make_one_time_prekeys(*store, options.initial_prekeys, rng));
    SOTTO_TRY_VOID(store->put_setting(setting::kRelayAddress, label_bytes(address_text)));
    SOTTO_TRY_VOID(store->put_setting(setting::kRelayKey, address->key.view()));
    SOTTO_TRY_VOID(store->put_setting(setting::kAccountId, identity.key.public_key.view()));
    SOTTO_TRY_VOID(store->put_setting_u64(setting::kDeviceId, kDeviceId));
    SOTTO_TRY_VOID(store->put_setting_u64(setting::kSignedPrekeyRotatedAt, now));
    return {};
  });
  if (!written) {
    store.reset();
    remove_new_profile(dir, dir_existed);
    return fail(from_store(written.error(), "creating the profile"));
  }

  std::unique_ptr<Messenger> m(new Messenger(std::move(store), std::move(identity.key),
                                             std::move(transport), kDeviceId, *address, rng, clock,
                                             std::move(options)));
  auto registered = m->register_device(spk_public, opks);
  if (!registered) {
    m.reset();
    remove_new_profile(dir, dir_existed);
    auto e = registered.error();
    e.message += " (no profile was created)";
    return fail(std::move(e));
  }
  return m;
}

MessengerResult<void> Messenger::register_device(const SignedPreKeyPublic& spk,
                                                 const std::vector<OneTimePreKeyPublic>& opks) {
  std::lock_guard lock(mu_);
  auto c = RelayClient::connect(address_, identity_.public_key,
                                X25519KeyPair{transport_.secret.clone(), transport_.public_key},
                                device_id_, rng_, options_.relay_timeout);
  if (!c) return fail(from_relay(c.error()));
  relay_.emplace(std::move(*c));
  auto r = relay_->register_account(identity_, spk, opks);
  if (!r) {
    relay_.reset();
    return fail(from_relay(r.error(), "registering with the relay"));
  }
  return {};
}

MessengerResult<std::unique_ptr<Messenger>> Messenger::open(const fs::path& dir,
                                                            const SecretBytes& passphrase, Rng& rng,
                                                            const sotto::Clock& clock,
                                                            MessengerOptions options) {
  auto opened = ProfileStore::open(dir, passphrase, options.store);
  if (!opened) {
    if (opened.error().code == StoreError::kNoProfile)
      return messenger_fail(MessengerErrorKind::kNoProfile,
                            "no profile in " + dir.string() +
                                ": create one with `sotto init --relay ADDRESS` (or pass "
                                "--profile DIR)");
    return fail(from_store(opened.error(), "opening the profile"));
  }
  return load(std::move(*opened), rng, clock, std::move(options));
}

MessengerResult<std::unique_ptr<Messenger>> Messenger::load(std::unique_ptr<ProfileStore> store,
                                                            Rng& rng, const sotto::Clock& clock,
                                                            MessengerOptions options) {
  constexpr std::string_view doing = "reading the profile";
  SOTTO_STORE_TRY(auto identity, load_identity(*store), doing);
  SOTTO_STORE_TRY(auto transport, load_transport_key(*store), doing);
  SOTTO_STORE_TRY(auto device_id, store->setting_u64(setting::kDeviceId), doing);
  SOTTO_STORE_TRY(auto address_text, store->setting(setting::kRelayAddress), doing);
  SOTTO_STORE_TRY(auto pinned, store->setting(setting::kRelayKey), doing);
  if (!device_id || *device_id == 0 || *device_id > 0xFFFFFFFFu || !address_text || !pinned)
    return fail(
        from_store(StoreFailure{StoreError::kTampered, "settings", "missing settings"}, doing));
  auto address = parse_relay_address(
      std::string_view(reinterpret_cast<const char*>(address_text->data()), address_text->size()));
  // The pinned key is kept apart from the address: both must agree.
  if (!address || !crypto::ct_equal(pinned->view(), address->key.view()))
    return fail(from_store(
        StoreFailure{StoreError::kTampered, "settings", "relay address and pinned key disagree"},
        doing));
  return std::unique_ptr<Messenger>(new Messenger(
      std::move(store), std::move(identity), std::move(transport),
      static_cast<std::uint32_t>(*device_id), std::move(*address), rng, clock, std::move(options)));
}

void Messenger::set_notice_handler(NoticeHandler handler) {
  std::lock_guard lock(mu_);
  notice_ = std::move(handler);
}

void Messenger::notice(std::string_view text) {
  if (notice_) notice_(text);
}

// ---- connection ----

MessengerResult<RelayClient*> Messenger::relay() {
  if (relay_ && relay_->is_open()) return &*relay_;
  relay_.reset();
  auto c = RelayClient::connect(address_, identity_.public_key,
                                X25519KeyPair{transport_.secret.clone(), transport_.public_key},
                                device_id_, rng_, options_.relay_timeout);
  if (!c) return fail(from_relay(c.error()));
  relay_.emplace(std::move(*c));
  // Upkeep that every fresh connection does: prekeys, then the outbox.
  if (auto m = maintain_prekeys(); !m) {
    drop_if_broken();
    return fail(m.error());
  }
  if (auto f = flush_outbox(); !f) {
    drop_if_broken();
    return fail(f.error());
  }
  if (!relay_) return messenger_fail(MessengerErrorKind::kRelay, "the relay connection was lost");
  return &*relay_;
}

MessengerResult<void> Messenger::connect() {
  std::lock_guard lock(mu_);
  SOTTO_TRY(auto r, relay());
  (void)r;
  return {};
}

void Messenger::disconnect() {
  std::lock_guard lock(mu_);
  if (relay_) relay_->close();
  relay_.reset();
}

bool Messenger::connected() const {
  std::lock_guard lock(mu_);
  return relay_ && relay_->is_open();
}

void Messenger::drop_if_broken() {
  if (relay_ && !relay_->is_open()) relay_.reset();
}

// ---- contacts ----

MessengerResult<void> Messenger::add_contact(std::string_view name, std::string_view account_id) {
  std::lock_guard lock(mu_);
  if (name.empty() || name.size() > kMaxContactNameBytes)
    return messenger_fail(MessengerErrorKind::kInvalidArgument,
                          "a contact name must be 1 to 255 bytes");
  auto id = AccountId::parse(account_id);
  if (!id)
    return messenger_fail(MessengerErrorKind::kInvalidArgument,
                          "not a valid account id (" + std::string(to_string(id.error())) +
                              "): expected sotto1... as printed by `sotto id`");
  if (id->key() == identity_.public_key)
    return messenger_fail(MessengerErrorKind::kInvalidArgument,
                          "that is this profile's own account id");
  Contact c;
  c.name = std::string(name);
  c.account_id = id->key();
  auto r = store_->add_contact(c);
  if (!r) {
    if (r.error().code == StoreError::kAlreadyExists)
      return messenger_fail(MessengerErrorKind::kInvalidArgument,
                            "cannot add contact " + c.name + ": " + r.error().detail);
    return fail(from_store(r.error(), "adding a contact"));
  }
  return {};
}

MessengerResult<void> Messenger::remove_contact(std::string_view name) {
  std::lock_guard lock(mu_);
  auto r = store_->remove_contact(name);
  if (!r) {
    if (r.error().code == StoreError::kNotFound)
      return messenger_fail(MessengerErrorKind::kUnknownContact,
                            "no contact named " + std::string(name));
    return fail(from_store(r.error(), "removing a contact"));
  }
  return {};
}

MessengerResult<std::vector<Contact>> Messenger::contacts() {
  std::lock_guard lock(mu_);
  SOTTO_STORE_TRY(auto list, store_->contacts(), "listing contacts");
  return list;
}

MessengerResult<Contact> Messenger::contact(std::string_view name) {
  std::lock_guard lock(mu_);
  SOTTO_STORE_TRY(auto c, store_->contact_by_name(name), "looking up a contact");
  if (!c)
    return messenger_fail(
        MessengerErrorKind::kUnknownContact,
        "no contact named " + std::string(name) + " (add one with `sotto contact add NAME ID`)");
  return std::move(*c);
}

MessengerResult<std::optional<std::string>> Messenger::contact_name(const IdentityPublicKey& id) {
  std::lock_guard lock(mu_);
  SOTTO_STORE_TRY(auto c, store_->contact_by_id(id), "looking up a contact");
  if (!c) return std::optional<std::string>{};
  return std::optional<std::string>{c->name};
}

// ---- history, verification, passphrase ----

MessengerResult<std::vector<HistoryEntry>> Messenger::history(std::string_view contact_name,
                                                              std::size_t limit) {
  std::lock_guard lock(mu_);
  SOTTO_TRY(Contact c, contact(contact_name));
  SOTTO_STORE_TRY(auto rows, store_->history(c.account_id, limit), "reading the history");
  std::vector<HistoryEntry> out;
  out.reserve(rows.size());
  const ByteView marker_view = label_bytes(kUndecryptableMessageId);
  const Bytes marker(marker_view.begin(), marker_view.end());
  for (auto& row : rows) {
    HistoryEntry e;
    e.direction = row.direction;
    e.time = row.time;
    e.undecryptable = row.message_id == marker;
    e.text = std::move(row.text);
    out.push_back(std::move(e));
  }
  return out;
}

MessengerResult<SafetyNumber> Messenger::safety_number(std::string_view contact_name) {
  std::lock_guard lock(mu_);
  SOTTO_TRY(Contact c, contact(contact_name));
  return sotto::safety_number(identity_.public_key, c.account_id);
}

MessengerResult<void> Messenger::mark_verified(std::string_view contact_name) {
  std::lock_guard lock(mu_);
  SOTTO_TRY(Contact c, contact(contact_name));
  auto r = store_->transaction([&]() -> StoreResult<void> {
    SOTTO_TRY_VOID(store_->set_contact_verified(c.name, true));
    // The session record keeps the state too (shown with the session).
    SOTTO_TRY(auto session, store_->session(c.account_id));
    if (session) {
      session->verification = Verification::kVerified;
      SOTTO_TRY_VOID(store_->put_session(c.account_id, *session));
    }
    return {};
  });
  if (!r) return fail(from_store(r.error(), "marking the contact verified"));
  return {};
}

MessengerResult<void> Messenger::change_passphrase(const SecretBytes& old_passphrase,
                                                   const SecretBytes& new_passphrase) {
  std::lock_guard lock(mu_);
  auto r = store_->change_passphrase(old_passphrase, new_passphrase);
  if (!r) return fail(from_store(r.error(), "changing the passphrase"));
  return {};
}

}  // namespace sotto::client
