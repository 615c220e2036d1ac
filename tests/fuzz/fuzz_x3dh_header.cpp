// fuzz_x3dh_header.cpp — the X3DH header in front of a first message
// (decode_x3dh_header, common/x3dh.hpp), then X3DH as the responder (Bob of
// fuzz_fixtures.hpp, with his fixed signed and one-time prekeys looked up by
// the header's ids, as a client does). Anyone can send Bob such a header.
//
// Properties (abort on violation): a header that decodes re-encodes to the
// same bytes; when X3DH succeeds the ids named Bob's prekeys and the AD is
// IK_A || IK_B.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/x3dh.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const IdentityKeyPair bob = bob_identity();
  static const SignedPreKeyPair spk = bob_signed_prekey();
  static const OneTimePreKeyPair opk = bob_one_time_prekey();

  const ByteView in(data, size);
  auto header = decode_x3dh_header(in);
  if (!header.ok()) return 0;
  const Bytes again = encode_x3dh_header(*header);
  SOTTO_FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), in.begin()),
                   "X3DH header encoding is not canonical");

  // The client looks the prekeys up by id; the signed prekey is always Bob's
  // current one (X3DH must check the id itself).
  const OneTimePreKeyPair* found =
      header->one_time_prekey_id == kBobOneTimePreKeyId ? &opk : nullptr;
  auto r = x3dh_respond(bob, spk, found, *header);
  if (!r.ok()) return 0;
  SOTTO_FUZZ_CHECK(header->signed_prekey_id == kBobSignedPreKeyId, "X3DH with another SPK id");
  SOTTO_FUZZ_CHECK(r->ad == x3dh_associated_data(header->initiator_identity, bob.public_key),
                   "X3DH AD");
  return 0;
}
