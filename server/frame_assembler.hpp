// frame_assembler.hpp — reassembles the relay's length-prefixed frames
// (length u16be || body, common/frame.hpp) from bytes as they arrive, for a
// connection that reads whatever the socket holds into a buffer shared by all
// connections of its thread. A frame that arrives whole is handed out in
// place (a view into the caller's bytes, no copy); only a frame that arrives
// split is copied, into a buffer of exactly its length that is freed as soon
// as the frame has been handed out. Between frames the assembler holds
// nothing on the heap.
//
// What fails: a length of 0 or above the maximum in force is refused as soon
// as its 2-byte prefix is complete, before any body byte is taken (kRefused;
// the caller closes). Ownership: a body handed out is valid until the next
// call to next() or until the caller's bytes change, whichever is first.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"

namespace sotto::relay {

class FrameAssembler {
 public:
  enum class Step {
    kFrame,     // a whole frame: body() holds it
    kNeedMore,  // every byte of `in` was taken; the frame is not complete
    kRefused,   // the length prefix is 0 or above max_body
  };

  // Takes bytes from the front of `in` (advancing it) until one frame is
  // complete, `in` is used up, or the frame's length is refused.
  Step next(ByteView& in, std::size_t max_body);
  ByteView body() const { return body_; }
  // The length prefix is complete and its body is not: a frame is being read.
  bool in_frame() const { return prefix_len_ == kPrefixLen; }
  // The length of the frame being read (meaningful when in_frame()).
  std::size_t frame_length() const { return body_len_; }
  // Bytes held for a frame that arrived split (0 between frames).
  std::size_t held() const { return partial_.capacity(); }

 private:
  static constexpr std::size_t kPrefixLen = 2;
  std::uint8_t prefix_[kPrefixLen] = {};
  std::size_t prefix_len_ = 0;
  std::size_t body_len_ = 0;
  Bytes partial_;         // the split frame's body so far (empty between frames)
  bool release_ = false;  // body_ points into partial_: free it at the next call
  ByteView body_;
};

}  // namespace sotto::relay
