// The payload of an `error` packet (docs/protocol.md): the sequence of the
// refused chunk (4 bytes, big-endian) followed by a human-readable message.
// Switches write it; hosts read it to fail the operation that owns the chunk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/packet.hpp"

namespace inca::wire {

/// Encodes a payload; the message is cut to fit kMaxPayloadBytes.
Payload make_error_payload(std::uint32_t chunk_sequence, std::string_view message);

struct ErrorPayload {
  std::uint32_t chunk_sequence = 0;
  std::string message;
};
/// Decodes a payload; nullopt when it is shorter than the sequence.
std::optional<ErrorPayload> parse_error_payload(std::span<const std::byte> payload);

}  // namespace inca::wire
