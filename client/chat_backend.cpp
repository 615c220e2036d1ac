// chat_backend.cpp — see chat_backend.hpp.
#include "client/chat_backend.hpp"

#include <iostream>

#include "client/cli.hpp"

namespace sotto::client {
namespace {

ChatLine notice_line(ChatLine::Kind kind, std::string_view text) {
  return ChatLine{kind, {}, SecretBytes::copy_of(label_bytes(text))};
}

// The name a message is shown under: the contact's, else the sender's id.
std::string sender_label(const ReceivedMessage& m) {
  if (m.contact) return *m.contact;
  if (m.sender) return AccountId(*m.sender).to_text();
  return "(unknown sender)";
}

}  // namespace

Result<void, std::string> MessengerChatBackend::follow(const std::function<void(ChatLine)>& on_line,
                                                       std::stop_token stop) {
  messenger_.set_notice_handler(
      [&on_line](std::string_view text) { on_line(notice_line(ChatLine::kNotice, text)); });
  auto r = messenger_.run_follow(
      [&on_line](const ReceivedMessage& m) {
        if (m.kind == ReceivedMessage::Kind::kMessage) {
          on_line(ChatLine{ChatLine::kMessage, sender_label(m), m.text.clone()});
        } else {
          on_line(notice_line(ChatLine::kError, "a message from " + sender_label(m) +
                                                    " could not be decrypted: " + m.problem));
        }
      },
      stop);
  messenger_.set_notice_handler({});
  if (!r) return fail(r.error().message);
  return {};
}

Result<void, std::string> MessengerChatBackend::send(const SecretBytes& text) {
  auto r = messenger_.send(peer_, text);
  if (!r) return fail(r.error().message);
  return {};
}

Result<std::vector<std::string>, std::string> MessengerChatBackend::verify() {
  auto number = messenger_.safety_number(peer_);
  if (!number) return fail(number.error().message);
  auto contact = messenger_.contact(peer_);
  if (!contact) return fail(contact.error().message);
  return std::vector<std::string>{
      "safety number with " + peer_ + ": " + number->grouped(),
      contact->verified ? "verified: you compared this number with " + peer_
                        : "not verified: compare this number with " + peer_ +
                              " in person, then run `sotto verify " + peer_ + " --mark-verified`"};
}

int run_chat(CliContext& ctx, const std::string& contact_name) {
  auto messenger = ctx.open();
  if (!messenger) return ctx.failure(messenger.error());
  auto contact = (*messenger)->contact(contact_name);
  if (!contact) return ctx.failure(contact.error());
  ctx.out().flush();
  ctx.err().flush();
  std::cout.flush();
  MessengerChatBackend backend(**messenger, contact_name);
  ChatOptions options;
  options.peer_name = contact_name;
  return run_chat(backend, options);
}

}  // namespace sotto::client
