// Big-endian field access on byte spans, shared by the frame codecs of
// inca-switch (Ethernet/ARP/IPv4/UDP in frame.cpp, RoCEv2 in roce_frame.cpp).
// Fields are assembled byte by byte, so nothing depends on alignment or on
// the host's byte order; callers check lengths before they read or write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/control_codec.hpp"

namespace inca::dpdk_switch::bytes {

inline std::uint8_t get8(std::span<const std::byte> b, std::size_t off) {
  return std::to_integer<std::uint8_t>(b[off]);
}
inline std::uint16_t get16(std::span<const std::byte> b, std::size_t off) {
  return static_cast<std::uint16_t>((get8(b, off) << 8) | get8(b, off + 1));
}
inline std::uint32_t get24(std::span<const std::byte> b, std::size_t off) {
  return (std::uint32_t{get8(b, off)} << 16) | get16(b, off + 1);
}
inline std::uint32_t get32(std::span<const std::byte> b, std::size_t off) {
  return (std::uint32_t{get16(b, off)} << 16) | get16(b, off + 2);
}
inline std::uint64_t get64(std::span<const std::byte> b, std::size_t off) {
  return (std::uint64_t{get32(b, off)} << 32) | get32(b, off + 4);
}
inline wire::MacAddress get_mac(std::span<const std::byte> b, std::size_t off) {
  wire::MacAddress m{};
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = get8(b, off + i);
  return m;
}

inline void put8(std::span<std::byte> b, std::size_t off, std::uint8_t v) {
  b[off] = static_cast<std::byte>(v);
}
inline void put16(std::span<std::byte> b, std::size_t off, std::uint16_t v) {
  put8(b, off, static_cast<std::uint8_t>(v >> 8));
  put8(b, off + 1, static_cast<std::uint8_t>(v));
}
inline void put24(std::span<std::byte> b, std::size_t off, std::uint32_t v) {
  put8(b, off, static_cast<std::uint8_t>(v >> 16));
  put16(b, off + 1, static_cast<std::uint16_t>(v));
}
inline void put32(std::span<std::byte> b, std::size_t off, std::uint32_t v) {
  put16(b, off, static_cast<std::uint16_t>(v >> 16));
  put16(b, off + 2, static_cast<std::uint16_t>(v));
}
inline void put64(std::span<std::byte> b, std::size_t off, std::uint64_t v) {
  put32(b, off, static_cast<std::uint32_t>(v >> 32));
  put32(b, off + 4, static_cast<std::uint32_t>(v));
}
inline void put_mac(std::span<std::byte> b, std::size_t off, const wire::MacAddress& m) {
  for (std::size_t i = 0; i < m.size(); ++i) put8(b, off + i, m[i]);
}

}  // namespace inca::dpdk_switch::bytes
