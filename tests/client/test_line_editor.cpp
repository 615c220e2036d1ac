// test_line_editor.cpp — the chat's line editor (client/line_editor.*): the
// buffer and cursor under every key, escape sequences split across reads, and
// the exact terminal bytes for a redraw and for a message printed above the
// prompt; sanitize_for_terminal against escape-sequence injection.
#include <catch2/catch.hpp>

#include <string>

#include "client/line_editor.hpp"

using namespace sotto;
using namespace sotto::client;

namespace {

ByteView bv(std::string_view s) {
  return label_bytes(s);
}
std::string str(ByteView v) {
  return std::string(v.begin(), v.end());
}
std::string str(const SecretBytes& s) {
  return str(s.view());
}

// Feeds `keys` and returns the buffer and cursor as "before|after".
std::string state(const LineEditor& ed) {
  std::string b = str(ed.buffer());
  return b.substr(0, ed.cursor()) + "|" + b.substr(ed.cursor());
}

std::string typed(LineEditor& ed, std::string_view keys) {
  (void)ed.feed(bv(keys));
  return state(ed);
}

}  // namespace

TEST_CASE("line editor: typing inserts at the cursor and moves it", "[line_editor]") {
  LineEditor ed("> ");
  CHECK(typed(ed, "hello") == "hello|");
  CHECK(typed(ed, "\x1b[D\x1b[D") == "hel|lo");
  CHECK(typed(ed, "XY") == "helXY|lo");
  CHECK(typed(ed, "\x1b[H") == "|helXYlo");
  CHECK(typed(ed, "\x1b[F") == "helXYlo|");
  CHECK(typed(ed, "\x01") == "|helXYlo");      // ^A
  CHECK(typed(ed, "\x05") == "helXYlo|");      // ^E
  CHECK(typed(ed, "\x02\x02") == "helXY|lo");  // ^B
  CHECK(typed(ed, "\x06") == "helXYl|o");      // ^F
  CHECK(typed(ed, "\x1bOH") == "|helXYlo");    // SS3 Home
  CHECK(typed(ed, "\x1bOF") == "helXYlo|");    // SS3 End
  CHECK(typed(ed, "\x1b[1~") == "|helXYlo");
  CHECK(typed(ed, "\x1b[4~") == "helXYlo|");
  CHECK(typed(ed, "\x1b[7~") == "|helXYlo");
  CHECK(typed(ed, "\x1b[8~") == "helXYlo|");
}

TEST_CASE("line editor: cursor stops at both ends", "[line_editor]") {
  LineEditor ed("> ");
  CHECK_FALSE(ed.left());
  CHECK_FALSE(ed.right());
  CHECK_FALSE(ed.backspace());
  CHECK_FALSE(ed.erase());
  CHECK(typed(ed, "ab\x1b[C\x1b[C") == "ab|");
  CHECK(typed(ed, "\x1b[D\x1b[D\x1b[D\x1b[D") == "|ab");
  // Nothing moved: no redraw is asked for.
  CHECK(ed.feed(bv("\x1b[D")).output.empty());
}

TEST_CASE("line editor: backspace, delete, kill and word deletion", "[line_editor]") {
  LineEditor ed("> ");
  CHECK(typed(ed, "abcdef\x7f") == "abcde|");
  CHECK(typed(ed, "\x08") == "abcd|");  // ^H
  CHECK(typed(ed, "\x1b[D\x1b[D\x1b[3~") == "ab|d");
  CHECK(typed(ed, "\x04") == "ab|");         // ^D on a non-empty line deletes
  CHECK(typed(ed, "\x1b[D\x0b") == "a|");    // ^K
  CHECK(typed(ed, "bc\x1b[D\x15") == "|c");  // ^U
  LineEditor w("> ");
  CHECK(typed(w, "one two  three") == "one two  three|");
  CHECK(typed(w, "\x17") == "one two  |");
  CHECK(typed(w, "\x17") == "one |");
  CHECK(typed(w, "\x17\x17") == "|");
}

TEST_CASE("line editor: Enter submits the line and empties the buffer", "[line_editor]") {
  LineEditor ed("> ");
  auto r = ed.feed(bv("first\rsecond\r\nthird\nfour"));
  REQUIRE(r.events.size() == 3);
  for (const auto& e : r.events) CHECK(e.kind == EditorEvent::kSubmit);
  CHECK(str(r.events[0].line) == "first");
  CHECK(str(r.events[1].line) == "second");  // CR LF is one Enter
  CHECK(str(r.events[2].line) == "third");
  CHECK(state(ed) == "four|");
  // The submitted line is whole even when Enter comes with the cursor mid-line.
  (void)ed.feed(bv("\x1b[D\x1b[D"));
  auto s = ed.feed(bv("\r"));
  REQUIRE(s.events.size() == 1);
  CHECK(str(s.events[0].line) == "four");
  CHECK(state(ed) == "|");
  // An empty Enter is still an event (chat ignores it).
  auto e = ed.feed(bv("\r"));
  REQUIRE(e.events.size() == 1);
  CHECK(e.events[0].line.empty());
}

TEST_CASE("line editor: ^C interrupts, ^D on an empty line ends input", "[line_editor]") {
  LineEditor ed("> ");
  auto c = ed.feed(bv("ab\x03"));
  REQUIRE(c.events.size() == 1);
  CHECK(c.events[0].kind == EditorEvent::kInterrupt);
  CHECK(state(ed) == "ab|");
  (void)ed.feed(bv("\x15"));
  auto d = ed.feed(bv("\x04"));
  REQUIRE(d.events.size() == 1);
  CHECK(d.events[0].kind == EditorEvent::kEndOfInput);
}

TEST_CASE("line editor: an escape sequence split across reads is completed", "[line_editor]") {
  LineEditor ed("> ");
  CHECK(typed(ed, "abc") == "abc|");
  CHECK(typed(ed, "\x1b") == "abc|");
  CHECK(typed(ed, "[") == "abc|");
  CHECK(typed(ed, "D") == "ab|c");
  CHECK(typed(ed, "\x1b[3") == "ab|c");
  CHECK(typed(ed, "~") == "ab|");
  // Unknown sequences (arrows up/down, F-keys, modified keys) insert nothing.
  CHECK(typed(ed, "\x1b[A\x1b[B\x1b[15~\x1b[1;5C\x1bOP") == "ab|");
  // Other control bytes are ignored; a tab is a space.
  CHECK(typed(ed, "\x07\x0e\x1f\t") == "ab |");
}

TEST_CASE("line editor: UTF-8 moves and deletes whole code points", "[line_editor]") {
  LineEditor ed("> ");
  // "é" is C3 A9, "€" is E2 82 AC, "😀" is F0 9F 98 80.
  (void)ed.feed(bv("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  CHECK(ed.cursor() == 10);
  REQUIRE(ed.left());
  CHECK(ed.cursor() == 6);
  REQUIRE(ed.left());
  CHECK(ed.cursor() == 3);
  REQUIRE(ed.backspace());
  CHECK(str(ed.buffer()) == "a\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(ed.cursor() == 1);
  REQUIRE(ed.erase());
  CHECK(str(ed.buffer()) == "a\xF0\x9F\x98\x80");
  // The cursor is drawn one column (one code point) left of the end.
  CHECK(str(ed.render()) == "\r\x1b[2K> a\xF0\x9F\x98\x80\x1b[1D");
}

TEST_CASE("line editor: render is the exact prompt line", "[line_editor]") {
  LineEditor ed("alice> ");
  CHECK(str(ed.render()) == "\r\x1b[2Kalice> ");
  (void)ed.feed(bv("hello"));
  CHECK(str(ed.render()) == "\r\x1b[2Kalice> hello");
  (void)ed.feed(bv("\x1b[D\x1b[D"));
  CHECK(str(ed.render()) == "\r\x1b[2Kalice> hello\x1b[2D");
  // feed() returns the redraw after its keys, once.
  auto r = ed.feed(bv("\x1b[H"));
  CHECK(str(r.output) == "\r\x1b[2Kalice> hello\x1b[5D");
}

TEST_CASE("line editor: a message is printed above the half-typed line", "[line_editor]") {
  LineEditor ed("> ");
  (void)ed.feed(bv("half a li"));
  (void)ed.feed(bv("\x1b[D"));
  const std::string above = str(ed.print_above(bv("bob: hi there")));
  // Clear the prompt line, the message and a line break, then the prompt, the
  // buffer and the cursor where it was.
  CHECK(above == "\r\x1b[2Kbob: hi there\n\r\x1b[2K> half a li\x1b[1D");
  // Printing does not change the buffer.
  CHECK(state(ed) == "half a l|i");
}

TEST_CASE("line editor: a line wider than the terminal shows a window at the cursor",
          "[line_editor]") {
  LineEditor ed("> ", 10);  // 2 columns of prompt, 7 of text, 1 for the cursor
  (void)ed.feed(bv("abcdefghij"));
  CHECK(str(ed.render()) == "\r\x1b[2K> defghij");
  (void)ed.feed(bv("\x1b[H"));
  CHECK(str(ed.render()) == "\r\x1b[2K> abcdefg\x1b[7D");
  // Fits: no window.
  LineEditor fits("> ", 10);
  (void)fits.feed(bv("abcdefg"));
  CHECK(str(fits.render()) == "\r\x1b[2K> abcdefg");
}

TEST_CASE("line editor: typing past the limit is refused with a bell", "[line_editor]") {
  LineEditor ed("> ");
  std::string big(kMaxLineBytes, 'x');
  REQUIRE(ed.insert(bv(big)));
  auto r = ed.feed(bv("y"));
  CHECK(str(r.output) == "\a");
  CHECK(ed.size() == kMaxLineBytes);
  CHECK_FALSE(ed.insert(bv("z")));
  (void)ed.feed(bv("\x7f"));
  CHECK(ed.insert(bv("z")));
}

TEST_CASE("sanitize_for_terminal: no escape sequence from a contact reaches the terminal",
          "[line_editor]") {
  auto clean = [](std::string_view s) { return str(sanitize_for_terminal(bv(s))); };
  CHECK(clean("plain text") == "plain text");
  CHECK(clean("two\nlines") == "two\nlines");
  CHECK(clean("tab\there") == "tab here");
  CHECK(clean("\x1b]0;title\x07") == "?]0;title?");
  CHECK(clean("\x1b[2J\r") == "?[2J?");
  CHECK(clean("del\x7f") == "del?");
  CHECK(clean("c1 \xC2\x9B"
              "31m") == "c1 ?31m");  // U+009B (CSI)
  CHECK(clean("caf\xC3\xA9 \xE2\x82\xAC") == "caf\xC3\xA9 \xE2\x82\xAC");
  CHECK(clean("bad \x9B\xFF") == "bad \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(clean("overlong \xC0\xAF") == "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(clean("truncated \xE2\x82") == "truncated \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(clean("surrogate \xED\xA0\x80") == "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}
