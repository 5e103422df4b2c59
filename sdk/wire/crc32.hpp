// CRC-32 as the wire checksum uses it (IEEE 802.3, reflected polynomial
// 0xEDB88320, exactly zlib's crc32()), fast: on x86-64 CPUs with PCLMULQDQ it
// folds 64 bytes per step with carry-less multiplication (Intel, "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", 2009),
// 256 bytes per step with 512-bit registers where the CPU has VPCLMULQDQ
// and AVX-512, and hands the short tail to zlib. Elsewhere it is zlib's crc32_z. A switch
// checks one CRC per packet it receives, so this is on every fabric's path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace inca::wire {

/// Continues `crc` (0 to start, as zlib) over `bytes`; the same value as
/// zlib's crc32_z(crc, bytes, size).
std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> bytes);

/// crc32(crc32(crc, first), rest) in one pass when `first` is 256 bytes and
/// the CPU folds with 512-bit registers (VPCLMULQDQ): for a caller that
/// assembled the start of a message in a buffer of its own (the masked
/// headers of a RoCEv2 ICRC) and continues over the rest where it lies.
std::uint32_t crc32(std::uint32_t crc, std::span<const std::byte> first,
                    std::span<const std::byte> rest);

/// True when crc32() uses the carry-less multiply path on this CPU.
bool crc32_is_accelerated();

}  // namespace inca::wire
