// cli_output.cpp — see cli_output.hpp.
#include "client/cli_output.hpp"

#include <ctime>

namespace sotto::client {
namespace {

// Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one.
std::size_t utf8_length(const std::uint8_t* p, std::size_t left) {
  const std::uint8_t c = p[0];
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1Fu;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0Fu;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (left < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

const char* name_or_id(const ReceivedMessage& m, std::string& storage) {
  if (m.contact) return m.contact->c_str();
  if (m.sender) {
    storage = AccountId(*m.sender).to_text();
    return storage.c_str();
  }
  return "an unknown sender";
}

}  // namespace

void write_json_string(std::ostream& out, ByteView bytes) {
  static const char kHex[] = "0123456789abcdef";
  out.put('"');
  for (std::size_t i = 0; i < bytes.size();) {
    const std::uint8_t c = bytes[i];
    const std::size_t n = utf8_length(bytes.data() + i, bytes.size() - i);
    if (n == 0) {
      out << "\\ufffd";
      ++i;
      continue;
    }
    if (n > 1) {
      out.write(reinterpret_cast<const char*>(bytes.data() + i), static_cast<std::streamsize>(n));
      i += n;
      continue;
    }
    switch (c) {
      case '"':
        out << "\\\"";
        break;
      case '\\':
        out << "\\\\";
        break;
      case '\n':
        out << "\\n";
        break;
      case '\r':
        out << "\\r";
        break;
      case '\t':
        out << "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out << "\\u00" << kHex[c >> 4] << kHex[c & 0xF];
        } else {
          out.put(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.put('"');
}

std::string format_time(std::uint64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf, n);
}

void print_received(std::ostream& out, std::ostream& err, bool json, const ReceivedMessage& m) {
  const bool ok = m.kind == ReceivedMessage::Kind::kMessage;
  if (json) {
    out << "{\"from\":";
    if (m.contact)
      write_json_string(out, *m.contact);
    else
      out << "null";
    out << ",\"id\":";
    if (m.sender)
      write_json_string(out, AccountId(*m.sender).to_text());
    else
      out << "null";
    out << ",\"time\":" << m.time;
    if (ok) {
      out << ",\"text\":";
      write_json_string(out, m.text.view());
    } else {
      out << ",\"error\":\"undecryptable\",\"reason\":";
      write_json_string(out, m.problem);
    }
    out << "}\n";
    out.flush();
    return;
  }
  std::string storage;
  const char* who = name_or_id(m, storage);
  if (ok) {
    out << who << ": ";
    out.write(reinterpret_cast<const char*>(m.text.data()),
              static_cast<std::streamsize>(m.text.size()));
    out << '\n';
    out.flush();
  } else {
    out.flush();
    err << "sotto: could not decrypt a message from " << who << ": " << m.problem << '\n';
    err.flush();
  }
}

void print_history_entry(std::ostream& out, bool json, std::string_view peer,
                         const HistoryEntry& e) {
  const bool in = e.direction == Direction::kIncoming;
  if (json) {
    out << "{\"direction\":\"" << (in ? "in" : "out") << "\",\"time\":" << e.time << ",\"text\":";
    write_json_string(out, e.text.view());
    if (e.undecryptable) out << ",\"undecryptable\":true";
    out << "}\n";
    return;
  }
  out << format_time(e.time) << ' ' << (in ? peer : std::string_view("me")) << ": ";
  if (e.undecryptable) out << "[could not decrypt: ";
  out.write(reinterpret_cast<const char*>(e.text.data()),
            static_cast<std::streamsize>(e.text.size()));
  if (e.undecryptable) out << ']';
  out << '\n';
}

}  // namespace sotto::client
