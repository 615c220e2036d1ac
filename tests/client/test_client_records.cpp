// test_client_records.cpp — the byte layouts the messenger adds to the profile
// store (client/device_keys.*, client/outbox.*) and the JSON lines `sotto`
// prints (client/cli_output.*): round trips, and rejection of anything that
// does not parse exactly (trailing bytes, truncation, a secret that does not
// match its public key); JSON lines stay valid JSON whatever the text holds.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "client/cli_output.hpp"
#include "client/device_keys.hpp"
#include "client/outbox.hpp"

using namespace sotto;
using namespace sotto::client;

TEST_CASE("signed prekey records round trip and reject a foreign secret", "[client][records]") {
  SeededRng rng(7);
  auto ik = generate_identity(rng);
  StoredSignedPreKey spk{generate_signed_prekey(ik, 42, 1'700'000'000, rng), 1'700'100'000};
  const SecretBytes encoded = encode_signed_prekey_record(spk);
  CHECK(encoded.size() == 1 + kSignedPreKeyRecordSize + 32 + 8);
  auto decoded = decode_signed_prekey_record(encoded.view());
  REQUIRE(decoded.has_value());
  CHECK(decoded->pair.public_key == spk.pair.public_key);
  CHECK(decoded->pair.secret.equals(spk.pair.secret));
  CHECK(decoded->replaced_at == 1'700'100'000);

  // Truncated, extended, another version, another key's secret: all refused.
  CHECK_FALSE(decode_signed_prekey_record(encoded.view().first(encoded.size() - 1)));
  Bytes longer(encoded.view().begin(), encoded.view().end());
  longer.push_back(0);
  CHECK_FALSE(decode_signed_prekey_record(longer));
  Bytes version(encoded.view().begin(), encoded.view().end());
  version[0] = 2;
  CHECK_FALSE(decode_signed_prekey_record(version));
  auto other = crypto::x25519_generate(rng);
  Bytes swapped(encoded.view().begin(), encoded.view().end());
  std::copy(other.secret.view().begin(), other.secret.view().end(),
            swapped.begin() + 1 + kSignedPreKeyRecordSize);
  CHECK_FALSE(decode_signed_prekey_record(swapped));
}

TEST_CASE("the outbox encoding round trips and rejects bad lengths", "[client][records]") {
  std::vector<OutboxEntry> entries;
  for (std::uint8_t i = 0; i < 3; ++i) {
    OutboxEntry e;
    e.recipient.bytes.fill(i);
    e.envelope = Bytes(100u + i, static_cast<std::uint8_t>(0xA0 + i));
    entries.push_back(e);
  }
  const Bytes encoded = encode_outbox(entries);
  CHECK(encoded.size() == 4 + 3 * (32 + 4) + 100 + 101 + 102);
  auto decoded = decode_outbox(encoded);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == entries);
  CHECK(decode_outbox(encode_outbox({}))->empty());
  CHECK_FALSE(decode_outbox(ByteView(encoded).first(encoded.size() - 1)));
  Bytes longer = encoded;
  longer.push_back(1);
  CHECK_FALSE(decode_outbox(longer));
  Bytes more_claimed = encoded;
  more_claimed[3] = 4;  // count 4, three present
  CHECK_FALSE(decode_outbox(more_claimed));
}

TEST_CASE("JSON lines are valid JSON for any message bytes", "[client][cli]") {
  ReceivedMessage m;
  m.kind = ReceivedMessage::Kind::kMessage;
  IdentityPublicKey sender;
  SeededRng rng(3);
  sender = generate_identity(rng).public_key;
  m.sender = sender;
  m.contact = "bob \"the\" builder";
  m.time = 1'700'000'000;
  const std::string tricky = "line1\nline2\t\"quoted\" \\ \x01 caf\xc3\xa9 \xff\xfe end \xe2\x82";
  m.text = SecretBytes::copy_of(label_bytes(tricky));
  std::ostringstream out, err;
  print_received(out, err, true, m);
  const std::string line = out.str();
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line
  auto j = nlohmann::json::parse(line);
  CHECK(j["from"] == "bob \"the\" builder");
  CHECK(j["id"] == AccountId(sender).to_text());
  CHECK(j["time"] == 1'700'000'000);
  // Valid UTF-8 kept, each invalid byte replaced by U+FFFD.
  CHECK(j["text"] ==
        "line1\nline2\t\"quoted\" \\ \x01 caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end "
        "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(err.str().empty());

  // Text mode: "NAME: text"; a non-contact is shown with its id.
  std::ostringstream text_out;
  m.contact.reset();
  m.text = SecretBytes::copy_of(label_bytes("hi"));
  print_received(text_out, err, false, m);
  CHECK(text_out.str() == AccountId(sender).to_text() + ": hi\n");

  // Undecryptable: JSON on stdout with the reason; text mode on stderr.
  ReceivedMessage bad;
  bad.kind = ReceivedMessage::Kind::kUndecryptable;
  bad.time = 5;
  bad.problem = "it does not authenticate";
  std::ostringstream jout, terr, tout;
  print_received(jout, terr, true, bad);
  auto jb = nlohmann::json::parse(jout.str());
  CHECK(jb["from"].is_null());
  CHECK(jb["id"].is_null());
  CHECK(jb["error"] == "undecryptable");
  CHECK(jb["reason"] == "it does not authenticate");
  print_received(tout, terr, false, bad);
  CHECK(tout.str().empty());
  CHECK(terr.str() ==
        "sotto: could not decrypt a message from an unknown sender: it does not authenticate\n");
}
