// make_corpus.cpp — writes the seed corpus of every fuzz target
// (tests/fuzz/corpus/<target>/gen-*), run by tests/fuzz/make_corpus.sh.
//
// Two sources, both deterministic (no SystemRng anywhere):
//   - real encodings made by the core from fuzz_fixtures.hpp's SeededRng
//     fixtures, so that seeds get past authentication in the fuzzers (an
//     envelope sealed to the fuzzers' recipient, messages of their ratchet
//     session, a message 2 answering their Noise message 1);
//   - the committed test vectors (tests/vectors/*.json), which add encodings
//     made with other keys.
// Running it twice writes the same bytes. It only writes files named gen-*;
// inputs added by hand (crash regressions, named regress-*) are left alone.
//
// Usage: make_fuzz_corpus <corpus-dir>   (exit 1 on any failure)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/account_id.hpp"
#include "common/envelope.hpp"
#include "common/frame.hpp"
#include "common/noise.hpp"
#include "common/padding.hpp"
#include "common/session.hpp"
#include "common/wire_codec.hpp"
#include "common/x3dh.hpp"
#include "fuzz/fuzz_fixtures.hpp"
#ifdef SOTTO_HAVE_RELAY
#include "server/config.hpp"
#endif
#ifdef SOTTO_HAVE_CLIENT_STORE
#include "client/device_keys.hpp"
#include "client/outbox.hpp"
#include "client/profile_store.hpp"
#include "client/store_records.hpp"
#include "fuzz/client_record_fixtures.hpp"
#endif

using namespace sotto;
using namespace sotto::fuzz;
namespace fs = std::filesystem;

namespace {

fs::path g_root;
int g_written = 0;

void write(const std::string& target, const std::string& name, ByteView bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  const fs::path file = dir / ("gen-" + name);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  fixture_check(out.good(), "write corpus file");
  ++g_written;
}
void write_text(const std::string& target, const std::string& name, std::string_view text) {
  write(target, name, label_bytes(text));
}

Bytes hex(const nlohmann::json& v) {
  auto b = from_hex(v.get<std::string>());
  fixture_check(b.has_value(), "hex in a vector file");
  return *b;
}

nlohmann::json vectors(const std::string& name) {
  std::ifstream in(fs::path(SOTTO_SOURCE_DIR) / "tests" / "vectors" / (name + ".json"));
  fixture_check(in.good(), "open a vector file");
  return nlohmann::json::parse(in);
}

Bytes framed(std::initializer_list<ByteView> bodies) {
  Bytes out;
  for (ByteView b : bodies) {
    auto f = encode_frame(b);
    fixture_check(f.ok(), "encode_frame");
    append(out, *f);
  }
  return out;
}

Bytes frame_input(std::uint16_t max_body, std::uint8_t cut_seed, ByteView stream) {
  Bytes out{static_cast<std::uint8_t>(max_body >> 8), static_cast<std::uint8_t>(max_body),
            cut_seed};
  append(out, stream);
  return out;
}

// ---- Noise: a full fixed handshake and two transport messages ----

struct NoiseSample {
  Bytes first_frame;  // type byte || message 1
  Bytes message2;
  Bytes transport1, transport2;
};

NoiseSample noise_sample(noise::HandshakeType type) {
  NoiseSample s;
  SeededRng irng(initiator_seed(type));
  Bytes m1;
  noise::NoiseHandshake initiator = initiator_after_message1(type, irng, m1);
  s.first_frame = noise::first_frame_body(type, m1);
  SeededRng rrng(kSeed + 40);
  const auto pattern =
      type == noise::HandshakeType::kIK ? noise::Pattern::kIK : noise::Pattern::kNK;
  auto responder = noise::sotto_responder(pattern, relay_static(), rrng);
  fixture_check(responder.ok(), "responder");
  fixture_check(responder->read_message(m1).ok(), "responder reads message 1");
  auto m2 = responder->write_message(label_bytes("fuzz: relay hello"));
  fixture_check(m2.ok(), "message 2");
  s.message2 = *m2;
  fixture_check(initiator.read_message(*m2).ok(), "initiator reads message 2");
  auto t = responder->split();
  fixture_check(t.ok(), "split");
  s.transport1 = *t->encrypt(label_bytes("first transport message"));
  s.transport2 = *t->encrypt(Bytes(300, 0x42));
  return s;
}

void noise_corpus() {
  const auto vec = vectors("noise");
  for (auto type : {noise::HandshakeType::kIK, noise::HandshakeType::kNK}) {
    const std::string t = type == noise::HandshakeType::kIK ? "ik" : "nk";
    NoiseSample s = noise_sample(type);
    write("fuzz_noise_responder", t + "-first-frame", s.first_frame);
    Bytes init{static_cast<std::uint8_t>(type == noise::HandshakeType::kIK ? 0 : 1)};
    append(init, framed({s.message2}));
    write("fuzz_noise_initiator", t + "-message2", init);
    append(init, framed({s.transport1, s.transport2}));
    write("fuzz_noise_initiator", t + "-message2-transport", init);
    // The frame decoder gets the same traffic, cut in various ways.
    const Bytes stream = framed({s.first_frame, s.message2, s.transport1, s.transport2});
    write("fuzz_frame", t + "-handshake-stream", frame_input(65535, 1, stream));
    write("fuzz_frame", t + "-handshake-stream-max100", frame_input(100, 7, stream));
  }
  // Vectors: first frames (length prefix stripped) of other keys' handshakes.
  int i = 0;
  for (const auto& v : vec["vectors"]) {
    const Bytes frame = hex(v["messages"][0]["frame"]);
    write("fuzz_noise_responder", "vector-" + std::to_string(i), ByteView(frame).subspan(2));
    write("fuzz_frame", "vector-" + std::to_string(i), frame_input(65535, 3, frame));
    if (++i == 3) break;
  }
}

void frame_corpus() {
  write("fuzz_frame", "truncated-prefix", frame_input(65535, 0, Bytes{0x00}));
  write("fuzz_frame", "zero-length", frame_input(65535, 0, Bytes{0x00, 0x00, 0x00, 0x01, 0x41}));
  write("fuzz_frame", "too-large", frame_input(4, 0, Bytes{0x00, 0x05, 1, 2, 3, 4, 5}));
  write("fuzz_frame", "truncated-body", frame_input(65535, 9, Bytes{0x00, 0x04, 1, 2}));
}

// ---- the ratchet ----

void ratchet_corpus() {
  const FixedConversation c = fixed_conversation();
  const char* pending_names[] = {"skipped-a1", "dh-ratchet-a3", "dh-ratchet-skip-a4"};
  for (std::size_t i = 0; i < c.pending.size(); ++i) {
    write("fuzz_ratchet_decrypt", pending_names[i], c.pending[i]);
  }
  // Each pending message decrypts against the fixed state the fuzzer restores.
  for (const Bytes& m : c.pending) {
    auto bob = ratchet::State::restore(c.bob);
    fixture_check(bob.ok(), "restore fixed Bob");
    SeededRng rng(kInputSeed);
    fixture_check(ratchet::decrypt(*bob, m, rng).ok(), "pending message decrypts");
  }
  write("fuzz_ratchet_decrypt", "replay-a0", c.replays[0]);
  write("fuzz_ratchet_restore", "fixed-bob", c.bob.view());

  SessionPair p = make_sessions(kSeed + 30);
  write("fuzz_ratchet_restore", "fresh-alice", p.alice.serialize().view());
  write("fuzz_ratchet_restore", "fresh-bob", p.bob.serialize().view());

  const auto vec = vectors("ratchet");
  write("fuzz_ratchet_restore", "vector-final-alice", hex(vec["final_state_alice_hex"]));
  write("fuzz_ratchet_restore", "vector-final-bob", hex(vec["final_state_bob_hex"]));
  int i = 0;
  for (const auto& step : vec["steps"]) {
    if (!step.contains("message_hex")) continue;
    write("fuzz_ratchet_decrypt", "vector-" + step["id"].get<std::string>(),
          hex(step["message_hex"]));
    if (++i == 2) break;
  }
}

// Conversation scripts: op = b & 7, arg = b >> 3 (see fuzz_conversation.cpp).
constexpr std::uint8_t op(unsigned o, unsigned arg) {
  return static_cast<std::uint8_t>(o | arg << 3);
}

void conversation_corpus() {
  const std::uint8_t A = op(0, 0), B = op(1, 0), toB = op(2, 0), toA = op(2, 1);
  write("fuzz_conversation", "ping-pong", Bytes{A, toB, B, toA, A, toB, B, toA, A, A, toB, toB});
  write("fuzz_conversation", "reorder-duplicate",
        Bytes{A, A, A, op(3, 2), op(3, 0), op(5, 0), op(3, 0), op(5, 1), B, B, op(3, 1), toA,
              op(5, 3), A, toB});
  write("fuzz_conversation", "drop-restore-tamper",
        Bytes{A, A, op(4, 0), toB, op(6, 1), B, op(7, 2), op(7, 1), toA, op(6, 0), A, toB, op(6, 0),
              op(6, 1), B, toA});
  write("fuzz_conversation", "bursts",
        Bytes{op(0, 24), op(3, 5), op(3, 0), B, op(1, 31), toA, op(3, 7), op(0, 31), op(0, 31), toB,
              toB, op(5, 0)});
}

// ---- X3DH, bundles, envelopes ----

void x3dh_corpus() {
  const IdentityKeyPair alice = alice_identity();
  for (bool opk : {true, false}) {
    const std::string t = opk ? "with-opk" : "without-opk";
    const PreKeyBundle bundle = bob_bundle(opk);
    write("fuzz_bundle", t, encode_bundle(bundle));
    auto verified = verify_bundle(bundle, kNow);
    fixture_check(verified.ok(), "verify_bundle");
    SeededRng rng(kSeed + 50 + (opk ? 1 : 0));
    auto x = x3dh_initiate(alice, *verified, rng);
    fixture_check(x.ok(), "x3dh_initiate");
    write("fuzz_x3dh_header", t, encode_x3dh_header(x->header));
  }
  const auto vec = vectors("x3dh");
  int i = 0;
  for (const auto& c : vec["cases"]) {
    write("fuzz_bundle", "vector-" + std::to_string(i), hex(c["bundle"]));
    write("fuzz_x3dh_header", "vector-" + std::to_string(i), hex(c["header"]));
    ++i;
  }
}

void envelope_corpus() {
  const IdentityKeyPair alice = alice_identity();
  const IdentityKeyPair bob = bob_identity();
  auto verified = verify_bundle(bob_bundle(true), kNow);
  fixture_check(verified.ok(), "verify_bundle");
  SeededRng rng(kSeed + 60);
  auto session = initiate_session(alice, *verified, rng);
  fixture_check(session.ok(), "initiate_session");
  auto first = seal_message(alice, bob.public_key, session->state, session->header,
                            label_bytes("first message: a prekey message"), rng);
  fixture_check(first.ok(), "seal prekey message");
  write("fuzz_envelope", "prekey-message", *first);
  auto second =
      seal_message(alice, bob.public_key, session->state, std::nullopt, Bytes(400, 0x61), rng);
  fixture_check(second.ok(), "seal ratchet message");
  write("fuzz_envelope", "ratchet-message-512", *second);
  auto empty = seal_envelope(alice, bob.public_key, kPayloadRatchetMessage, {}, rng);
  fixture_check(empty.ok(), "seal empty");
  write("fuzz_envelope", "empty-payload", *empty);
  for (const Bytes* e : {&*first, &*second, &*empty}) {
    fixture_check(open_envelope(bob, *e).ok(), "seed envelope opens for the fuzzer's recipient");
  }
  const auto vec = vectors("envelope");
  write("fuzz_envelope", "vector-0", hex(vec["cases"][0]["envelope"]));

  // Padding: contents around the bucket edges.
  for (std::size_t n : {0u, 1u, 255u, 256u, 700u}) {
    auto padded = pad(Bytes(n, 0x80));
    fixture_check(padded.ok(), "pad");
    write("fuzz_padding", "pad-" + std::to_string(n), padded->view());
  }
}

void account_id_corpus() {
  const std::string a = AccountId(alice_identity().public_key).to_text();
  std::string b = AccountId(bob_identity().public_key).to_text();
  for (char& ch : b) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  write_text("fuzz_account_id", "alice", a);
  write_text("fuzz_account_id", "bob-upper", b);
  write_text("fuzz_account_id", "bad-checksum",
             a.substr(0, a.size() - 1) + (a.back() == 'q' ? "p" : "q"));
  const auto vec = vectors("safety_number");
  write_text("fuzz_account_id", "vector-0", vec["identities"][0]["account_id"].get<std::string>());
}

// ---- the relay protocol ----

void wire_corpus() {
  using namespace sotto::relay;
  const IdentityKeyPair alice = alice_identity();
  const IdentityKeyPair bob = bob_identity();
  std::vector<OneTimePreKey> opks;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    SeededRng rng(kSeed + 70 + id);
    opks.push_back({id, crypto::x25519_generate(rng).public_key});
  }
  const Bytes spk = encode_signed_prekey(bob_signed_prekey().public_key);

  RegisterRequest reg;
  reg.identity_key = bob.public_key;
  reg.device_id = 1;
  reg.transport_key = device_static().public_key;
  reg.transport_key_signature = crypto::ed25519_sign(bob.secret, reg.transport_key.view());
  reg.signed_prekey = spk;
  reg.one_time_prekeys = opks;
  reg.proof_of_possession = crypto::ed25519_sign(bob.secret, label_bytes("fuzz: proof"));
  const std::vector<std::pair<std::string, ClientRequest>> requests = {
      {"register", {1, reg}},
      {"upload-prekeys", {2, UploadPreKeysRequest{opks}}},
      {"get-prekey-count", {3, GetPreKeyCountRequest{}}},
      {"rotate-signed-prekey", {4, RotateSignedPreKeyRequest{spk}}},
      {"fetch-bundle", {5, FetchBundleRequest{bob.public_key}}},
      {"send", {6, SendRequest{bob.public_key, Bytes(353, 0x01)}}},
      {"send-largest-envelope", {8, SendRequest{bob.public_key, Bytes(kMaxEnvelopeBytes, 0x04)}}},
      {"send-envelope-above-limit",
       {9, SendRequest{bob.public_key, Bytes(CodecLimits{}.max_envelope + 1, 0x05)}}},
      {"ack", {7, AckRequest{{1, 2, 300, 1ull << 40}}}},
      {"delete-account", {0xFFFF'FFFF'FFFFull, DeleteAccountRequest{reg.proof_of_possession}}},
  };
  for (const auto& [name, req] : requests)
    write("fuzz_client_frame", name, encode_client_request(req));
  // Version 1 (a client before batches): the same frames with version 1, the
  // first field (tag 0x08, then the version as a one-byte varint).
  for (const auto& [name, req] : requests) {
    if (name != "send" && name != "get-prekey-count" && name != "ack") continue;
    Bytes v1 = encode_client_request(req);
    v1.at(1) = static_cast<std::uint8_t>(kWireVersion1);
    write("fuzz_client_frame", "v1-" + name, v1);
  }
  // Version 2: a ClientBatch of several requests, each answered on its own.
  const std::vector<ClientRequest> batch = {
      {20, GetPreKeyCountRequest{}},
      {21, SendRequest{bob.public_key, Bytes(353, 0x07)}},
      {22, AckRequest{{1, 2, 3}}},
  };
  write("fuzz_client_frame", "batch-count-send-ack", encode_client_batch(batch));
  write("fuzz_client_frame", "batch-fetch-send",
        encode_client_batch(
            std::vector<ClientRequest>{{23, FetchBundleRequest{bob.public_key}},
                                       {24, SendRequest{alice.public_key, Bytes(609, 0x08)}}}));

  Bundle with_opk{alice.public_key, 1, spk, opks[0]};
  Bundle without_opk{alice.public_key, 2, spk, std::nullopt};
  const std::vector<std::pair<std::string, ServerMessage>> messages = {
      {"response-ok", Response{1, Status::kOk, std::nullopt, std::monostate{}}},
      {"response-rate-limited", Response{2, Status::kRateLimited, 1500, std::monostate{}}},
      {"response-count", Response{3, Status::kOk, std::nullopt, PreKeyCount{17}}},
      {"response-bundle", Response{5, Status::kOk, std::nullopt, with_opk}},
      {"response-bundle-no-opk", Response{5, Status::kOk, std::nullopt, without_opk}},
      {"response-not-found", Response{9, Status::kNotFound, std::nullopt, std::monostate{}}},
      {"push", Push{{Delivery{1, Bytes(353, 0x02)}, Delivery{2, Bytes(609, 0x03)}}}},
      {"push-largest-envelope", Push{{Delivery{3, Bytes(kMaxEnvelopeBytes, 0x06)}}}},
      {"responses-ok-bundle-count",
       Responses{{Response{10, Status::kAccepted, std::nullopt, std::monostate{}},
                  Response{11, Status::kOk, std::nullopt, with_opk},
                  Response{12, Status::kOk, std::nullopt, PreKeyCount{3}}}}},
      {"responses-rate-limited",
       Responses{{Response{13, Status::kRateLimited, 250, std::monostate{}},
                  Response{14, Status::kOk, std::nullopt, without_opk}}}},
  };
  for (const auto& [name, msg] : messages)
    write("fuzz_server_frame", name, encode_server_message(msg));
}

void config_corpus() {
#ifdef SOTTO_HAVE_RELAY
  write_text("fuzz_relay_config", "default",
             relay::default_config_text(relay::HostPort{"0.0.0.0", 7443}));
  write_text("fuzz_relay_config", "ipv6",
             "listen = \"[::1]:7443\"\n[metrics]\nlisten = \"[::1]:9464\"\n");
  write_text(
      "fuzz_relay_config", "limits",
      "[limits]\nmax_frame = 20000\nmax_envelope = 2048\n[store]\nsynchronous = \"normal\"\n");
  write_text("fuzz_relay_config", "out-of-range", "[limits]\nmax_frame = 70000\n");
#endif
}

// ---- the client's profile store: records as the store seals them ----

#ifdef SOTTO_HAVE_CLIENT_STORE
void client_record_corpus() {
  using namespace sotto::client;
  const std::string t = "fuzz_client_record";
  const StoreKey sk = record_store_key();
  SeededRng rng(kSeed + 82);
  const IdentityKeyPair alice = alice_identity();
  const IdentityKeyPair bob = bob_identity();
  auto u64 = [](std::uint64_t v) {
    Bytes b;
    put_u64be(b, v);
    return b;
  };
  // A keyed record (ProfileStore::put_keyed): sealed, and its plaintext.
  auto keyed = [&](const std::string& name, Table table, ByteView logical_key, ByteView value) {
    const std::string_view tn = table_name(table);
    const Bytes row = row_key(derive_lookup_key(sk, tn), logical_key);
    const SecretBytes plain = encode_keyed(logical_key, value);
    write(
        t, "sealed-" + name,
        sealed_input(table, row, seal_record(derive_seal_key(sk, tn), tn, row, plain.view(), rng)));
    write(t, "keyed-" + name, plain_input(PlainKind::kKeyed, plain.view()));
  };

  // identity: the Ed25519 seed; transport key and one-time prekey: X25519 secrets.
  const NewIdentity id = generate_identity_seed(rng);
  keyed("identity", Table::kIdentity, {}, id.seed.view());
  keyed("transport-key", Table::kTransportKey, {}, device_static().secret.view());
  const OneTimePreKeyPair opk = bob_one_time_prekey();
  Bytes opk_id;
  put_u32be(opk_id, opk.public_key.id);
  keyed("one-time-prekey", Table::kOneTimePrekeys, opk_id, opk.secret.view());

  // signed prekeys: the current one and a replaced one.
  for (std::uint64_t replaced_at : {std::uint64_t{0}, kNow}) {
    const std::string n = replaced_at == 0 ? "current" : "replaced";
    SignedPreKeyPair pair = bob_signed_prekey();
    Bytes id_key;
    put_u32be(id_key, pair.public_key.id);
    const SecretBytes rec =
        encode_signed_prekey_record(StoredSignedPreKey{std::move(pair), replaced_at});
    keyed("signed-prekey-" + n, Table::kSignedPrekeys, id_key, rec.view());
    write(t, "plain-signed-prekey-" + n, plain_input(PlainKind::kSignedPreKey, rec.view()));
  }

  // sessions: Bob's state of the fixed conversation, with and without the
  // pending X3DH header of a session Alice started; a previous session.
  auto verified = verify_bundle(bob_bundle(true), kNow);
  fixture_check(verified.ok(), "verify_bundle");
  SeededRng xrng(kSeed + 83);
  auto x = x3dh_initiate(alice, *verified, xrng);
  fixture_check(x.ok(), "x3dh_initiate");
  const FixedConversation conv = fixed_conversation();
  {
    SessionRecord s;
    s.ratchet_state = conv.bob.clone();
    s.pending_header = encode_x3dh_header(x->header);
    s.verification = Verification::kVerified;
    const SecretBytes rec = encode_session(s);
    keyed("session-pending-header", Table::kSessions, bob.public_key.view(), rec.view());
    write(t, "plain-session-pending-header", plain_input(PlainKind::kSession, rec.view()));
    s.pending_header.reset();
    s.verification = Verification::kUnverified;
    const SecretBytes rec2 = encode_session(s);
    keyed("session-previous", Table::kSessions,
          concat(label_bytes("previous:"), alice.public_key.view()), rec2.view());
    write(t, "plain-session", plain_input(PlainKind::kSession, rec2.view()));
  }

  // settings (a string, a number, the outbox), counters, a seen envelope.
  auto envelope = seal_envelope(alice, bob.public_key, kPayloadRatchetMessage,
                                label_bytes("fuzz: queued"), rng);
  fixture_check(envelope.ok(), "seal_envelope");
  const Bytes outbox = encode_outbox(
      {OutboxEntry{bob.public_key, *envelope}, OutboxEntry{alice.public_key, Bytes(353, 0x07)}});
  keyed("setting-relay-address", Table::kSettings, label_bytes(setting::kRelayAddress),
        label_bytes("127.0.0.1:7443"));
  keyed("setting-current-spk", Table::kSettings, label_bytes(kCurrentSignedPreKeySetting),
        u64(kBobSignedPreKeyId));
  keyed("setting-outbox", Table::kSettings, label_bytes(kOutboxSetting), outbox);
  write(t, "plain-outbox", plain_input(PlainKind::kOutbox, outbox));
  write(t, "plain-outbox-empty", plain_input(PlainKind::kOutbox, encode_outbox({})));
  keyed("counter", Table::kCounters, label_bytes("one_time_prekeys.next_id"), u64(43));
  keyed("seen-envelope", Table::kSeenEnvelopes, crypto::blake2b(32, *envelope), u64(kNow));

  // contacts: row = row_key(name) || row_key(contacts/by_id, account id).
  {
    const Contact c{"bob", bob.public_key, true};
    const SecretBytes plain = encode_contact(c);
    const Bytes row =
        concat(row_key(derive_lookup_key(sk, "contacts"), label_bytes(c.name)),
               row_key(derive_lookup_key(sk, kContactsByIdIndex), c.account_id.view()));
    write(t, "sealed-contact",
          sealed_input(
              Table::kContacts, row,
              seal_record(derive_seal_key(sk, "contacts"), "contacts", row, plain.view(), rng)));
    write(t, "plain-contact", plain_input(PlainKind::kContact, plain.view()));
  }

  // messages: row = conv_key || u64be(seq); an outgoing text and an undecryptable note.
  std::uint64_t seq = 1;
  for (Direction d : {Direction::kOutgoing, Direction::kIncoming}) {
    StoredMessage m;
    m.direction = d;
    m.time = kNow + seq;
    m.message_id = concat(label_bytes(d == Direction::kOutgoing ? "m-1" : "undecryptable"));
    m.text = plaintext_of(d == Direction::kOutgoing ? "fuzz: hello Bob" : "bad signature");
    const SecretBytes plain = encode_message(m);
    Bytes row = row_key(derive_lookup_key(sk, "messages"), bob.public_key.view());
    put_u64be(row, seq);
    const std::string n = "message-" + std::to_string(seq);
    write(t, "sealed-" + n,
          sealed_input(
              Table::kMessages, row,
              seal_record(derive_seal_key(sk, "messages"), "messages", row, plain.view(), rng)));
    write(t, "plain-" + n, plain_input(PlainKind::kMessage, plain.view()));
    ++seq;
  }

  // Near misses: a trailing byte, a flag out of range.
  {
    const SecretBytes c = encode_contact(Contact{"bob", bob.public_key, false});
    Bytes trailing(c.view().begin(), c.view().end());
    trailing.push_back(0);
    write(t, "plain-contact-trailing", plain_input(PlainKind::kContact, trailing));
    trailing.pop_back();
    trailing.back() = 2;
    write(t, "plain-contact-bad-flag", plain_input(PlainKind::kContact, trailing));
  }
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus <corpus-dir>\n");
    return 1;
  }
  g_root = argv[1];
  noise_corpus();
  frame_corpus();
  ratchet_corpus();
  conversation_corpus();
  x3dh_corpus();
  envelope_corpus();
  account_id_corpus();
  wire_corpus();
  config_corpus();
#ifdef SOTTO_HAVE_CLIENT_STORE
  client_record_corpus();
#endif
  std::printf("make_fuzz_corpus: wrote %d files under %s\n", g_written, g_root.c_str());
  return 0;
}
