#include "fabric/units.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace inca::fabric_file {
namespace {

struct Unit {
  std::string_view name;
  double scale;  // to the parser's base unit
};

// Splits "2.5e9 Bps" into 2.5e9 and "Bps"; nullopt when no number leads.
struct NumberAndUnit {
  double number = 0;
  std::string_view unit;
};
std::optional<NumberAndUnit> split(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return NumberAndUnit{v, unit};
}

std::string names(const std::vector<Unit>& units) {
  std::string out;
  for (const Unit& u : units) out += (out.empty() ? "" : ", ") + std::string(u.name);
  return out;
}

template <typename T>
Parsed<T> fail(std::string why) {
  return {std::variant<T, std::string>(std::in_place_index<1>, std::move(why))};
}

// The number times its unit's scale; errors name the text and the units.
Parsed<double> scaled(std::string_view text, const std::vector<Unit>& units, const char* what) {
  const auto nu = split(text);
  if (!nu)
    return fail<double>(
        fmt::format("'{}' is not a {} (a number and a unit: {})", text, what, names(units)));
  if (nu->number < 0) return fail<double>(fmt::format("{} '{}' is negative", what, text));
  if (nu->unit.empty())
    return fail<double>(fmt::format("{} '{}' has no unit (one of {})", what, text, names(units)));
  for (const Unit& u : units)
    if (u.name == nu->unit) return {nu->number * u.scale};
  return fail<double>(
      fmt::format("unknown unit '{}' in {} '{}' (one of {})", nu->unit, what, text, names(units)));
}

const std::vector<Unit>& rate_units() {
  static const std::vector<Unit> units = {
      {"bps", 1e-9}, {"Kbps", 1e-6}, {"Mbps", 1e-3}, {"Gbps", 1}, {"Tbps", 1e3},
      {"b/s", 1e-9}, {"Kb/s", 1e-6}, {"Mb/s", 1e-3}, {"Gb/s", 1}, {"Tb/s", 1e3},
      {"Bps", 8e-9}, {"KBps", 8e-6}, {"MBps", 8e-3}, {"GBps", 8}, {"TBps", 8e3},
      {"B/s", 8e-9}, {"KB/s", 8e-6}, {"MB/s", 8e-3}, {"GB/s", 8}, {"TB/s", 8e3}};
  return units;
}

}  // namespace

Parsed<double> parse_rate(std::string_view text) {
  return scaled(text, rate_units(), "rate");
}

Parsed<double> parse_packet_rate(std::string_view text) {
  static const std::vector<Unit> units = {{"pps", 1}, {"Kpps", 1e3}, {"Mpps", 1e6}, {"Gpps", 1e9}};
  return scaled(text, units, "packet rate");
}

Parsed<Time> parse_time(std::string_view text) {
  static const std::vector<Unit> units = {{"ps", 1},          {"ns", 1e3}, {"us", 1e6},
                                          {"\xC2\xB5s", 1e6}, {"ms", 1e9}, {"s", 1e12}};
  Parsed<double> v = scaled(text, units, "time");
  if (!v.ok()) return fail<Time>(v.error());
  if (*v > static_cast<double>(std::numeric_limits<Time>::max() / 2))
    return fail<Time>(fmt::format("time '{}' is too long", text));
  return {static_cast<Time>(std::llround(*v))};
}

Parsed<std::uint64_t> parse_bytes(std::string_view text) {
  static const std::vector<Unit> units = {{"B", 1},
                                          {"KB", 1e3},
                                          {"MB", 1e6},
                                          {"GB", 1e9},
                                          {"KiB", 1024.0},
                                          {"MiB", 1024.0 * 1024},
                                          {"GiB", 1024.0 * 1024 * 1024}};
  Parsed<double> v = scaled(text, units, "size");
  if (!v.ok()) return fail<std::uint64_t>(v.error());
  if (*v != std::floor(*v))
    return fail<std::uint64_t>(fmt::format("size '{}' is not a whole number of bytes", text));
  if (*v > 1e18) return fail<std::uint64_t>(fmt::format("size '{}' is too large", text));
  return {static_cast<std::uint64_t>(*v)};
}

std::string format_rate(double gbps) {
  return fmt::format("{}Gbps", gbps);
}

std::string format_time(Time t) {
  if (t % kPicosPerNano == 0) return fmt::format("{}ns", t / kPicosPerNano);
  return fmt::format("{}ps", t);
}

std::string format_bytes(std::uint64_t bytes) {
  return fmt::format("{}B", bytes);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace inca::fabric_file
