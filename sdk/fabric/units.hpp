// Quantities with units, as fabric and job files write them: rates
// ("800Gbps", "2.5e9Bps", "1.2e9pps"), times ("1.2us", "90ns"), sizes
// ("4KiB", "2048B"). A number without a unit is an error wherever a unit is
// needed: the parsers say which units they take.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "inca/time.hpp"

namespace inca::fabric_file {

/// A parsed value, or the reason the text is not one (with the units taken).
template <typename T>
struct Parsed {
  std::variant<T, std::string> value;
  bool ok() const { return value.index() == 0; }
  const T& operator*() const { return std::get<0>(value); }
  const std::string& error() const { return std::get<1>(value); }
};

/// A data rate in Gb/s: bps, Kbps, Mbps, Gbps, Tbps (also Gb/s), or bytes per
/// second Bps, KBps, MBps, GBps, TBps (also GB/s), decimal multiples.
Parsed<double> parse_rate(std::string_view text);
/// Packets per second: pps, Kpps, Mpps, Gpps.
Parsed<double> parse_packet_rate(std::string_view text);
/// A duration: ps, ns, us (or µs), ms, s. Never negative.
Parsed<Time> parse_time(std::string_view text);
/// A size in bytes: B, KB/MB/GB (decimal), KiB/MiB/GiB (binary). Whole bytes.
Parsed<std::uint64_t> parse_bytes(std::string_view text);

/// How files write values back: "100Gbps", "1.5us" (ps when not whole
/// nanoseconds), "4096B"; parse_* of the text gives the value back exactly.
std::string format_rate(double gbps);
std::string format_time(Time t);
std::string format_bytes(std::uint64_t bytes);

/// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace inca::fabric_file
