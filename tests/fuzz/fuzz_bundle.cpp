// fuzz_bundle.cpp — a prekey bundle as a relay hands it out: decode_bundle
// then verify_bundle (common/prekeys.hpp) at a fixed time, then X3DH as the
// initiator (Alice of fuzz_fixtures.hpp) against what verified. A relay can
// send anything here.
//
// Properties (abort on violation): a bundle that decodes re-encodes to the
// same bytes (the layout is canonical); one that verifies starts X3DH
// without error (verify_bundle rules out every key X3DH would refuse) and
// the AD names Alice then the bundle's identity.
#include <cstddef>
#include <cstdint>

#include "common/prekeys.hpp"
#include "common/x3dh.hpp"
#include "fuzz/fuzz_fixtures.hpp"

using namespace sotto;
using namespace sotto::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const IdentityKeyPair alice = alice_identity();
  const ByteView in(data, size);
  auto bundle = decode_bundle(in);
  if (!bundle.ok()) return 0;
  const Bytes again = encode_bundle(*bundle);
  SOTTO_FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), in.begin()),
                   "bundle encoding is not canonical");

  auto verified = verify_bundle(*bundle, kNow);
  if (!verified.ok()) return 0;
  SOTTO_FUZZ_CHECK(!bundle->signed_prekey.is_expired(kNow), "verified an expired prekey");
  SeededRng rng(kInputSeed);
  auto x = x3dh_initiate(alice, *verified, rng);
  SOTTO_FUZZ_CHECK(x.ok(), "X3DH refused a verified bundle");
  SOTTO_FUZZ_CHECK(x->ad == x3dh_associated_data(alice.public_key, bundle->identity), "X3DH AD");
  SOTTO_FUZZ_CHECK(x->header.one_time_prekey_id.has_value() == bundle->one_time_prekey.has_value(),
                   "one-time prekey used iff offered");
  return 0;
}
