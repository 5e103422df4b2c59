// Arbitrary bytes into the wire decoder: it must never read outside its
// input, and whatever it accepts must describe exactly the bytes it was given
// and encode back to them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "wire/header.hpp"

using namespace inca::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  std::vector<std::byte> bytes(size);
  if (size > 0) std::memcpy(bytes.data(), data, size);
  const std::span<const std::byte> in(bytes);

  Header h;
  std::span<const std::byte> payload;
  const DecodeError e = decode(in, h, payload);
  FUZZ_CHECK(!to_string(e).empty());
  if (e == DecodeError::none) {
    FUZZ_CHECK(payload.size() == h.payload_bytes());
    FUZZ_CHECK(size == kHeaderBytes + payload.size());
    FUZZ_CHECK(payload.empty() || payload.data() == bytes.data() + kHeaderBytes);
    FUZZ_CHECK(payload.size() <= kMaxPayloadBytes);
    std::vector<std::byte> again(size);
    FUZZ_CHECK(encode(h, payload, again) == size);
    FUZZ_CHECK(again == bytes);
  }
  // The checksum takes any split of any bytes.
  const std::size_t split = size > 0 ? data[0] % (size + 1) : 0;
  (void)checksum(in.first(split), in.subspan(split));
  return 0;
}
