// Time in inca: signed 64-bit picoseconds. Picoseconds make the serialisation
// of one byte at 100 Gb/s (80 ps) exact in virtual time; 2^63 ps is 106 days.
#pragma once

#include <cstdint>
#include <limits>

namespace inca {

using Time = std::int64_t;

inline constexpr Time kPicosPerNano = 1000;
inline constexpr Time kPicosPerMicro = 1000 * kPicosPerNano;
inline constexpr Time kPicosPerMilli = 1000 * kPicosPerMicro;
inline constexpr Time kPicosPerSecond = 1000 * kPicosPerMilli;
inline constexpr Time kNever = std::numeric_limits<Time>::max();

inline constexpr double to_micros(Time t) {
  return static_cast<double>(t) / kPicosPerMicro;
}
inline constexpr double to_seconds(Time t) {
  return static_cast<double>(t) / kPicosPerSecond;
}

}  // namespace inca
