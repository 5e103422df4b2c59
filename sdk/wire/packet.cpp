#include "wire/packet.hpp"

#include <cstring>

namespace inca::wire {

Payload make_payload(std::span<const std::byte> bytes) {
  return std::make_shared<const std::vector<std::byte>>(bytes.begin(), bytes.end());
}

Payload make_payload(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::byte*>(data);
  return make_payload(std::span<const std::byte>(p, size));
}

}  // namespace inca::wire
