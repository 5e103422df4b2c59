#include "wire/error_payload.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace inca::wire {

Payload make_error_payload(std::uint32_t chunk_sequence, std::string_view message) {
  const std::size_t text = std::min(message.size(), kMaxPayloadBytes - 4);
  std::vector<std::byte> bytes(4 + text);
  for (int i = 0; i < 4; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<std::byte>(chunk_sequence >> (24 - 8 * i));
  if (text > 0) std::memcpy(bytes.data() + 4, message.data(), text);
  return std::make_shared<const std::vector<std::byte>>(std::move(bytes));
}

std::optional<ErrorPayload> parse_error_payload(std::span<const std::byte> payload) {
  if (payload.size() < 4) return std::nullopt;
  ErrorPayload e;
  for (std::size_t i = 0; i < 4; ++i)
    e.chunk_sequence = (e.chunk_sequence << 8) | std::to_integer<std::uint32_t>(payload[i]);
  e.message.assign(reinterpret_cast<const char*>(payload.data() + 4), payload.size() - 4);
  return e;
}

}  // namespace inca::wire
