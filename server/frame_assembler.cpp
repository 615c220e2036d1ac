// frame_assembler.cpp — see frame_assembler.hpp.
#include "server/frame_assembler.hpp"

#include <algorithm>

namespace sotto::relay {

FrameAssembler::Step FrameAssembler::next(ByteView& in, std::size_t max_body) {
  if (release_) {
    // The split frame handed out last time has been used: free its copy.
    Bytes().swap(partial_);
    release_ = false;
  }
  body_ = {};
  // length (u16be): refused before any body byte is taken.
  while (prefix_len_ < kPrefixLen) {
    if (in.empty()) return Step::kNeedMore;
    prefix_[prefix_len_++] = in.front();
    in = in.subspan(1);
    if (prefix_len_ == kPrefixLen) {
      body_len_ = (std::size_t{prefix_[0]} << 8) | prefix_[1];
      if (body_len_ == 0 || body_len_ > max_body) return Step::kRefused;
    }
  }
  // body: in place when it arrived whole, else copied until complete.
  if (partial_.empty() && in.size() >= body_len_) {
    body_ = in.first(body_len_);
    in = in.subspan(body_len_);
    prefix_len_ = 0;
    return Step::kFrame;
  }
  if (partial_.empty()) partial_.reserve(body_len_);
  const std::size_t take = std::min(body_len_ - partial_.size(), in.size());
  partial_.insert(partial_.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(take));
  in = in.subspan(take);
  if (partial_.size() < body_len_) return Step::kNeedMore;
  body_ = ByteView(partial_);
  release_ = true;
  prefix_len_ = 0;
  return Step::kFrame;
}

}  // namespace sotto::relay
