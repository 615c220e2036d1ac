// line_editor.cpp — see line_editor.hpp.
#include "client/line_editor.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace sotto::client {
namespace {

constexpr std::uint8_t kEsc = 0x1b;
constexpr std::string_view kClearLine = "\r\x1b[2K";

bool is_continuation(std::uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// Code points in `v` (= columns, for this editor).
std::size_t columns(ByteView v) {
  std::size_t n = 0;
  for (auto b : v)
    if (!is_continuation(b)) ++n;
  return n;
}

// Byte offset of the code point number `col` in `v` (v.size() past the end).
std::size_t offset_of_column(ByteView v, std::size_t col) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (is_continuation(v[i])) continue;
    if (n == col) return i;
    ++n;
  }
  return v.size();
}

// The length of the valid UTF-8 sequence starting at v[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(ByteView v, std::size_t i, std::uint32_t& cp) {
  const std::uint8_t b = v[i];
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b < 0x80) {
    cp = b;
    return 1;
  } else if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1Fu, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0Fu, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > v.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if (!is_continuation(v[i + k])) return 0;
    cp = (cp << 6) | (v[i + k] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

}  // namespace

// ---- SecretText ----

void SecretText::append(ByteView bytes) {
  if (bytes.empty()) return;
  if (len_ + bytes.size() > buf_.size()) {
    SecretBytes bigger(std::max<std::size_t>(64, 2 * (len_ + bytes.size())));
    if (len_ > 0) std::memcpy(bigger.data(), buf_.data(), len_);
    buf_ = std::move(bigger);  // the old buffer is wiped as it is freed
  }
  std::memcpy(buf_.data() + len_, bytes.data(), bytes.size());
  len_ += bytes.size();
}

void SecretText::append(std::string_view text) {
  append(label_bytes(text));
}

SecretBytes SecretText::take() {
  SecretBytes out = SecretBytes::copy_of(view());
  buf_ = SecretBytes();
  len_ = 0;
  return out;
}

// ---- LineEditor ----

LineEditor::LineEditor(std::string_view prompt, std::size_t width)
    : width_(width), buf_(kMaxLineBytes) {
  set_prompt(prompt);
}

void LineEditor::set_prompt(std::string_view prompt) {
  prompt_.assign(prompt.begin(), prompt.end());
}

std::size_t LineEditor::prev_boundary(std::size_t pos) const {
  if (pos == 0) return 0;
  --pos;
  while (pos > 0 && is_continuation(buf_.data()[pos])) --pos;
  return pos;
}

std::size_t LineEditor::next_boundary(std::size_t pos) const {
  if (pos >= len_) return len_;
  ++pos;
  while (pos < len_ && is_continuation(buf_.data()[pos])) ++pos;
  return pos;
}

void LineEditor::erase_range(std::size_t from, std::size_t to) {
  if (from >= to) return;
  std::uint8_t* d = buf_.data();
  std::memmove(d + from, d + to, len_ - to);
  std::memset(d + len_ - (to - from), 0, to - from);
  len_ -= to - from;
  if (cursor_ >= to)
    cursor_ -= to - from;
  else if (cursor_ > from)
    cursor_ = from;
}

bool LineEditor::insert(ByteView text) {
  if (text.empty()) return true;
  if (text.size() > kMaxLineBytes - len_) return false;
  std::uint8_t* d = buf_.data();
  std::memmove(d + cursor_ + text.size(), d + cursor_, len_ - cursor_);
  std::memcpy(d + cursor_, text.data(), text.size());
  len_ += text.size();
  cursor_ += text.size();
  return true;
}

bool LineEditor::backspace() {
  if (cursor_ == 0) return false;
  erase_range(prev_boundary(cursor_), cursor_);
  return true;
}

bool LineEditor::erase() {
  if (cursor_ >= len_) return false;
  erase_range(cursor_, next_boundary(cursor_));
  return true;
}

bool LineEditor::left() {
  if (cursor_ == 0) return false;
  cursor_ = prev_boundary(cursor_);
  return true;
}

bool LineEditor::right() {
  if (cursor_ >= len_) return false;
  cursor_ = next_boundary(cursor_);
  return true;
}

bool LineEditor::home() {
  if (cursor_ == 0) return false;
  cursor_ = 0;
  return true;
}

bool LineEditor::end() {
  if (cursor_ == len_) return false;
  cursor_ = len_;
  return true;
}

bool LineEditor::kill_to_start() {
  if (cursor_ == 0) return false;
  erase_range(0, cursor_);
  return true;
}

bool LineEditor::kill_to_end() {
  if (cursor_ >= len_) return false;
  erase_range(cursor_, len_);
  return true;
}

bool LineEditor::delete_word() {
  // Like a shell's ^W: the spaces before the cursor, then the word before them.
  if (cursor_ == 0) return false;
  const std::uint8_t* d = buf_.data();
  std::size_t from = cursor_;
  while (from > 0 && d[from - 1] == ' ') --from;
  while (from > 0 && d[from - 1] != ' ') --from;
  erase_range(from, cursor_);
  return true;
}

SecretBytes LineEditor::submit() {
  SecretBytes line = SecretBytes::copy_of(buffer());
  std::memset(buf_.data(), 0, len_);
  len_ = 0;
  cursor_ = 0;
  return line;
}

SecretBytes LineEditor::render() const {
  SecretText out;
  out.append(kClearLine);
  out.append(ByteView(prompt_));
  const ByteView line = buffer();
  const std::size_t total = columns(line);
  const std::size_t cursor_col = columns(line.first(cursor_));
  // The window of the buffer that is shown: all of it when it fits, else
  // `room` columns that keep the cursor in view (it may sit one column right of
  // the last character drawn, so one column is kept free for it).
  const std::size_t prompt_cols = columns(prompt_);
  std::size_t first = 0, last = total;
  if (width_ > 0 && prompt_cols + total + 1 > width_) {
    const std::size_t room = width_ > prompt_cols + 1 ? width_ - prompt_cols - 1 : 1;
    first = cursor_col > room ? cursor_col - room : 0;
    last = std::min(total, first + room);
  }
  const std::size_t from = offset_of_column(line, first);
  const std::size_t to = offset_of_column(line, last);
  out.append(line.subspan(from, to - from));
  // The cursor sits `last - cursor_col` columns left of the end of what was drawn.
  if (last > cursor_col) out.append("\x1b[" + std::to_string(last - cursor_col) + "D");
  return out.take();
}

SecretBytes LineEditor::print_above(ByteView message) const {
  SecretText out;
  out.append(kClearLine);
  out.append(message);
  out.append(std::string_view("\n"));
  SecretBytes prompt = render();
  out.append(prompt.view());
  return out.take();
}

EditorOutput LineEditor::feed(ByteView keys) {
  EditorOutput out;
  bool changed = false, bell = false;
  for (auto b : keys) handle_byte(b, out, changed, bell);
  if (changed || bell) {
    SecretText text;
    if (bell) text.append(std::string_view("\a"));
    if (changed) {
      SecretBytes line = render();
      text.append(line.view());
    }
    out.output = text.take();
  }
  return out;
}

void LineEditor::handle_csi_final(std::uint8_t final_byte, bool& changed) {
  const std::string params(csi_params_.begin(), csi_params_.end());
  switch (final_byte) {
    case 'C':
      changed |= right();
      break;
    case 'D':
      changed |= left();
      break;
    case 'H':
      changed |= home();
      break;
    case 'F':
      changed |= end();
      break;
    case '~':
      if (params == "1" || params == "7") changed |= home();
      if (params == "4" || params == "8") changed |= end();
      if (params == "3") changed |= erase();
      break;
    default:
      break;  // up/down, function keys, modifiers: ignored
  }
}

void LineEditor::handle_byte(std::uint8_t b, EditorOutput& out, bool& changed, bool& bell) {
  // Inside an escape sequence.
  if (escape_ == Escape::kEsc) {
    if (b == '[') {
      escape_ = Escape::kCsi;
      csi_params_.clear();
    } else if (b == 'O') {
      escape_ = Escape::kSs3;
    } else {
      escape_ = Escape::kNone;  // Alt+key: ignored
    }
    return;
  }
  if (escape_ == Escape::kSs3) {
    escape_ = Escape::kNone;
    handle_csi_final(b, changed);
    return;
  }
  if (escape_ == Escape::kCsi) {
    if (b >= 0x30 && b <= 0x3F) {  // parameter bytes
      if (csi_params_.size() < 16) csi_params_.push_back(b);
      return;
    }
    if (b >= 0x20 && b <= 0x2F) return;  // intermediate bytes
    escape_ = Escape::kNone;
    handle_csi_final(b, changed);
    return;
  }

  const bool after_cr = last_was_cr_;
  last_was_cr_ = false;
  switch (b) {
    case kEsc:
      escape_ = Escape::kEsc;
      return;
    case '\r':
      last_was_cr_ = true;
      out.events.push_back({EditorEvent::kSubmit, submit()});
      changed = true;
      return;
    case '\n':
      if (after_cr) return;  // CR LF is one Enter
      out.events.push_back({EditorEvent::kSubmit, submit()});
      changed = true;
      return;
    case 0x7f:
    case 0x08:
      changed |= backspace();
      return;
    case 0x01:
      changed |= home();
      return;
    case 0x05:
      changed |= end();
      return;
    case 0x02:
      changed |= left();
      return;
    case 0x06:
      changed |= right();
      return;
    case 0x15:
      changed |= kill_to_start();
      return;
    case 0x0b:
      changed |= kill_to_end();
      return;
    case 0x17:
      changed |= delete_word();
      return;
    case 0x0c:
      changed = true;
      return;
    case 0x03:
      out.events.push_back({EditorEvent::kInterrupt, {}});
      return;
    case 0x04:
      if (len_ == 0)
        out.events.push_back({EditorEvent::kEndOfInput, {}});
      else
        changed |= erase();
      return;
    case '\t':
      b = ' ';
      break;
    default:
      if (b < 0x20) return;  // other controls: ignored
      break;
  }
  const std::uint8_t one[1] = {b};
  if (insert(ByteView(one, 1)))
    changed = true;
  else
    bell = true;
}

// ---- sanitize_for_terminal ----

SecretBytes sanitize_for_terminal(ByteView text) {
  SecretText out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      out.append(std::string_view("\xEF\xBF\xBD"));  // U+FFFD
      ++i;
      continue;
    }
    if (cp == '\n') {
      out.append(std::string_view("\n"));
    } else if (cp == '\t') {
      out.append(std::string_view(" "));
    } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      out.append(std::string_view("?"));
    } else {
      out.append(text.subspan(i, len));
    }
    i += len;
  }
  return out.take();
}

}  // namespace sotto::client
