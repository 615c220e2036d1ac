// line_editor.hpp — the line being typed in `sotto chat`, as pure logic: a
// buffer and a cursor edited by keys, and the exact bytes to write to the
// terminal so that the prompt line is redrawn, or so that an incoming message
// appears above it without mangling what is being typed.
//
//   LineEditor ed("alice> ");
//   auto r = ed.feed(bytes_read_from_the_terminal);   // keys, possibly split
//   write(r.output);                                   // the redrawn prompt line
//   for (auto& e : r.events) if (e.kind == EditorEvent::kSubmit) send(e.line);
//   write(ed.print_above(sanitize_for_terminal(text))); // a message arrived
//
// No I/O, no terminal state: chat.cpp owns the terminal (raw mode, poll) and
// only writes what this returns. Everything that holds typed or received text
// is a SecretBytes (the line is a plaintext), including the terminal output.
//
// Screen model: one prompt line, redrawn from scratch each time as
//   "\r" ESC[2K prompt visible-part-of-buffer [ESC[nD]
// so the result never depends on what was on the line before. A message is
// printed above it as "\r" ESC[2K message "\n" followed by that redraw: the
// terminal must translate "\n" to CR LF (chat.cpp keeps OPOST on). Columns are
// counted in UTF-8 code points (wide characters count as one); when the
// prompt and the buffer do not fit in `width` columns, a window of the buffer
// around the cursor is shown. The cursor moves over whole code points.
//
// Keys understood: printable bytes and UTF-8 (inserted), Enter (CR or LF;
// CR LF counts once), Backspace (DEL or ^H), Delete (ESC[3~, or ^D on a
// non-empty line), Left/Right (ESC[D / ESC[C, ESC O D/C, ^B/^F), Home/End
// (ESC[H/F, ESC[1~/4~/7~/8~, ESC O H/F, ^A/^E), ^U (kill to start), ^K (kill
// to end), ^W (delete the word before the cursor), ^L (redraw), ^C
// (interrupt), ^D on an empty line (end of input). A tab inserts a space;
// other control bytes and unknown escape sequences are ignored. An escape
// sequence split across two feed() calls is completed by the second.
//
// What fails: nothing returns an error. Insertion beyond kMaxLineBytes is
// refused with a bell ("\a") in the output; the buffer is unchanged.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/secret.hpp"

namespace sotto::client {

// The longest line that can be typed (bytes): a message's text must fit in one
// padded envelope with room for the message layout around it.
inline constexpr std::size_t kMaxLineBytes = 16 * 1024;

struct EditorEvent {
  enum Kind {
    kSubmit,      // Enter: `line` is the text that was typed (may be empty)
    kEndOfInput,  // ^D on an empty line
    kInterrupt,   // ^C
  };
  Kind kind = kSubmit;
  SecretBytes line;
};

struct EditorOutput {
  SecretBytes output;               // bytes for the terminal (empty: nothing to redraw)
  std::vector<EditorEvent> events;  // in the order the keys were typed
};

class LineEditor {
 public:
  // `width`: terminal columns (0 = unlimited, no window).
  explicit LineEditor(std::string_view prompt, std::size_t width = 0);

  // Processes bytes read from the terminal. The output is the redrawn prompt
  // line when anything visible changed (once per call, after every key).
  EditorOutput feed(ByteView keys);

  // ---- editing operations (what feed() calls for each key) ----
  // false when refused (too long).
  bool insert(ByteView text);
  bool backspace();  // deletes the code point before the cursor
  bool erase();      // deletes the code point under the cursor (Delete)
  bool left();
  bool right();
  bool home();
  bool end();
  bool kill_to_start();
  bool kill_to_end();
  bool delete_word();
  // Enter: the line typed so far; the buffer is emptied.
  SecretBytes submit();

  // ---- terminal output ----
  // "\r" ESC[2K prompt buffer, then the cursor moved back to its place.
  SecretBytes render() const;
  // "\r" ESC[2K message "\n" then render(): `message` (already sanitized, one
  // or more lines) appears on its own lines above the prompt line.
  SecretBytes print_above(ByteView message) const;

  void set_width(std::size_t width) { width_ = width; }
  void set_prompt(std::string_view prompt);

  ByteView buffer() const { return {buf_.data(), len_}; }
  std::size_t cursor() const { return cursor_; }  // a byte offset, on a code point boundary
  std::size_t size() const { return len_; }

 private:
  enum class Escape { kNone, kEsc, kCsi, kSs3 };
  void handle_byte(std::uint8_t b, EditorOutput& out, bool& changed, bool& bell);
  void handle_csi_final(std::uint8_t final_byte, bool& changed);
  std::size_t prev_boundary(std::size_t pos) const;
  std::size_t next_boundary(std::size_t pos) const;
  void erase_range(std::size_t from, std::size_t to);

  Bytes prompt_;  // public text chosen by the program, not typed
  std::size_t width_ = 0;
  SecretBytes buf_;  // capacity kMaxLineBytes; the first len_ bytes are the line
  std::size_t len_ = 0;
  std::size_t cursor_ = 0;
  // Parser state for escape sequences and CR LF.
  Escape escape_ = Escape::kNone;
  Bytes csi_params_;  // parameter bytes of a CSI sequence (digits, ';')
  bool last_was_cr_ = false;
};

// The bytes of `text` made safe to print on a terminal: a message from a
// contact must not move the cursor, change colours or titles, or talk to the
// terminal. Keeps "\n" (a line break) and valid UTF-8; a tab becomes a space;
// every other C0 control, DEL and every C1 control (U+0080..U+009F) becomes
// "?"; each byte that is not part of valid UTF-8 becomes U+FFFD.
SecretBytes sanitize_for_terminal(ByteView text);

// A secret buffer that grows: what the editor and chat build terminal output
// and message lines in (the text they carry is plaintext).
class SecretText {
 public:
  SecretText() = default;
  void append(ByteView bytes);
  void append(std::string_view text);
  std::size_t size() const { return len_; }
  ByteView view() const { return {buf_.data(), len_}; }
  // The bytes written so far, exactly `size()` long.
  SecretBytes take();

 private:
  SecretBytes buf_;
  std::size_t len_ = 0;
};

}  // namespace sotto::client
