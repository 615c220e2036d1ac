// disclosure_report.cpp — see disclosure_report.hpp.
#include "server/disclosure_report.hpp"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "common/bytes.hpp"
#include "common/relay_auth.hpp"

namespace sotto::relay {
namespace {

constexpr const char* kNotHeld[] = {
    "message contents (only end-to-end encrypted ciphertext, deleted on delivery or expiry)",
    "who sent any message (envelopes are sealed; the sender is never recorded)",
    "IP addresses, connection times or device details beyond the device id",
    "contacts, groups or any social graph",
    "private keys of any kind",
};

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  return to_hex(ByteView(a.data(), N));
}

// Re-verifies the stored certificate: IK's signature over
// "Sotto/v1/TransportKey" || transport_key || u32be(device_id).
bool certificate_verifies(const AccountKeys& k) {
  auto ik = Ed25519PublicKey::from(ByteView(k.identity_key));
  auto tk = X25519PublicKey::from(ByteView(k.transport_key));
  auto sig = Ed25519Signature::from(ByteView(k.transport_signature));
  return ik && tk && sig && relay_auth::verify_transport_key(*ik, *tk, k.device_id, *sig);
}

}  // namespace

std::string format_day(UnixDay day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{days{static_cast<int>(day)}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string format_hour(ArrivalBucket bucket) {
  const std::uint64_t seconds = bucket * kArrivalBucketSeconds;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u:00Z",
                static_cast<unsigned>((seconds % kSecondsPerDay) / kArrivalBucketSeconds));
  return format_day(seconds / kSecondsPerDay) + "T" + buf;
}

nlohmann::json disclosure_json(const Disclosure& d) {
  const auto& a = d.account;
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : d.queued)
    messages.push_back({{"sequence", m.seq},
                        {"size_bytes", m.size},
                        {"arrival_hour", format_hour(m.arrival_bucket)}});
  nlohmann::json not_held = nlohmann::json::array();
  for (const char* s : kNotHeld) not_held.push_back(s);
  return {
      {"account",
       {{"identity_key", hex(a.keys.identity_key)},
        {"device_id", a.keys.device_id},
        {"transport_key", hex(a.keys.transport_key)},
        {"transport_key_certificate", hex(a.keys.transport_signature)},
        {"transport_key_certificate_verifies", certificate_verifies(a.keys)},
        {"signed_prekey",
         {{"id", a.keys.signed_prekey.id}, {"encoding", to_hex(a.keys.signed_prekey.encoded)}}},
        {"created_day", format_day(a.created_day)},
        {"last_seen_day", format_day(a.last_seen_day)}}},
      {"one_time_prekeys",
       {{"count", d.one_time_prekey_ids.size()}, {"ids", d.one_time_prekey_ids}}},
      {"mailbox",
       {{"next_sequence", d.next_sequence},
        {"queued_messages", d.queued.size()},
        {"queued_bytes", d.queued_bytes},
        {"messages", messages}}},
      {"not_held", not_held},
  };
}

std::string disclosure_text(const Disclosure& d) {
  const auto& a = d.account;
  std::ostringstream o;
  o << "Everything this relay holds about account " << hex(a.keys.identity_key) << "\n\n"
    << "Account\n"
    << "  identity key (public)        " << hex(a.keys.identity_key) << "\n"
    << "  device id                    " << a.keys.device_id << "\n"
    << "  transport key (public)       " << hex(a.keys.transport_key) << "\n"
    << "  transport key certificate    " << hex(a.keys.transport_signature) << "\n"
    << "  certificate verifies         " << (certificate_verifies(a.keys) ? "yes" : "NO") << "\n"
    << "  signed prekey (public) id    " << a.keys.signed_prekey.id << "\n"
    << "  signed prekey encoding       " << to_hex(a.keys.signed_prekey.encoded) << "\n"
    << "  created on                   " << format_day(a.created_day) << "\n"
    << "  last seen on                 " << format_day(a.last_seen_day) << "\n\n"
    << "One-time prekeys (public): " << d.one_time_prekey_ids.size() << "\n";
  if (!d.one_time_prekey_ids.empty()) {
    o << "  ids";
    for (auto id : d.one_time_prekey_ids) o << " " << id;
    o << "\n";
  }
  o << "\nMailbox: " << d.queued.size() << " queued message(s), " << d.queued_bytes
    << " bytes of ciphertext; next sequence " << d.next_sequence << "\n";
  for (const auto& m : d.queued)
    o << "  #" << m.seq << "  " << m.size << " bytes  arrived " << format_hour(m.arrival_bucket)
      << "\n";
  o << "\nNot held by this relay:\n";
  for (const char* s : kNotHeld) o << "  - " << s << "\n";
  return o.str();
}

nlohmann::json stats_json(const StoreStats& s) {
  nlohmann::json j = {{"accounts", s.accounts},
                      {"queued_messages", s.queued_messages},
                      {"queued_bytes", s.queued_bytes},
                      {"one_time_prekeys", s.one_time_prekeys}};
  j["oldest_message_age_seconds"] = s.oldest_message_age_seconds
                                        ? nlohmann::json(*s.oldest_message_age_seconds)
                                        : nlohmann::json(nullptr);
  return j;
}

std::string stats_text(const StoreStats& s) {
  std::ostringstream o;
  o << "accounts               " << s.accounts << "\n"
    << "queued messages        " << s.queued_messages << "\n"
    << "queued bytes           " << s.queued_bytes << "\n"
    << "one-time prekeys       " << s.one_time_prekeys << "\n"
    << "oldest message age     ";
  if (s.oldest_message_age_seconds)
    o << *s.oldest_message_age_seconds << " s (to the hour)\n";
  else
    o << "none queued\n";
  return o.str();
}

}  // namespace sotto::relay
