#include "fabric/yaml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <span>
#include <sstream>

#include <fmt/format.h>

#include "fabric/units.hpp"
#include "inca/dtype.hpp"

namespace inca::fabric_file {

std::optional<std::string> read_text_file(const std::string& path, const char* kind,
                                          std::vector<Diagnostic>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Diagnostic d;
    d.where.file = path;
    d.message = fmt::format("cannot open the {} file", kind);
    out.push_back(std::move(d));
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<YAML::Node> YamlReader::parse(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    error(SourceLocation{file_, e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    error(SourceLocation{file_, 0, 0}, std::string("YAML error: ") + e.what());
  }
  return std::nullopt;
}

SourceLocation YamlReader::at(const YAML::Node& node) const {
  // A key that is absent yields an invalid node, which has no mark.
  if (!node.IsDefined()) return {file_, 0, 0};
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

void YamlReader::error(const YAML::Node& node, std::string message, std::string hint) {
  error(at(node), std::move(message), std::move(hint));
}

void YamlReader::error(const SourceLocation& where, std::string message, std::string hint) {
  diagnostics_.push_back({Severity::error, where, std::move(message), std::move(hint)});
}

void YamlReader::warning(const SourceLocation& where, std::string message, std::string hint) {
  diagnostics_.push_back({Severity::warning, where, std::move(message), std::move(hint)});
}

bool YamlReader::failed() const {
  for (const Diagnostic& d : diagnostics_)
    if (d.severity == Severity::error) return true;
  return false;
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& what) {
  if (node.IsMap()) return true;
  error(node, fmt::format("{} must be a map of keys and values", what));
  return false;
}

bool YamlReader::expect_list(const YAML::Node& node, const std::string& what) {
  if (node.IsSequence()) return true;
  error(node, fmt::format("{} must be a list", what));
  return false;
}

std::optional<std::string> YamlReader::closest(std::string_view word,
                                               const std::vector<std::string>& choices) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : choices) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

void YamlReader::check_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                            const std::string& what) {
  const std::vector<std::string> choices(allowed.begin(), allowed.end());
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) {
      error(kv.first, fmt::format("a key of {} is not a plain name", what));
      continue;
    }
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second)
      error(kv.first, fmt::format("'{}' is given twice in {}", key, what));
    if (std::find(choices.begin(), choices.end(), key) != choices.end()) continue;
    const auto near = closest(key, choices);
    error(kv.first, fmt::format("unknown key '{}' in {}", key, what),
          near ? fmt::format("did you mean '{}'?", *near)
               : fmt::format("valid keys: {}", fmt::join(choices, ", ")));
  }
}

bool YamlReader::require(const YAML::Node& map, std::initializer_list<std::string_view> required,
                         const std::string& what) {
  bool ok = true;
  for (std::string_view key : required)
    if (!map[std::string(key)]) {
      error(map, fmt::format("{} needs '{}'", what, key));
      ok = false;
    }
  return ok;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& map, std::string_view key,
                                              const std::string& what) {
  const YAML::Node n = map[std::string(key)];
  if (!n) return std::nullopt;
  if (!n.IsScalar()) {
    error(n, fmt::format("'{}' of {} must be a single value", key, what));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> YamlReader::text(const YAML::Node& map, std::string_view key,
                                            const std::string& what) {
  return scalar(map, key, what);
}

std::optional<std::uint64_t> YamlReader::count(const YAML::Node& map, std::string_view key,
                                               const std::string& what, std::uint64_t min,
                                               std::uint64_t max) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size()) {
    error(map[std::string(key)],
          fmt::format("'{}' of {} is '{}', not a whole number", key, what, *s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    error(map[std::string(key)],
          fmt::format("'{}' of {} is {}, outside {}..{}", key, what, v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> YamlReader::number(const YAML::Node& map, std::string_view key,
                                         const std::string& what, double min, double max) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || !std::isfinite(v)) {
    error(map[std::string(key)], fmt::format("'{}' of {} is '{}', not a number", key, what, *s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    error(map[std::string(key)],
          fmt::format("'{}' of {} is {}, outside {}..{}", key, what, v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> YamlReader::flag(const YAML::Node& map, std::string_view key,
                                     const std::string& what) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  error(map[std::string(key)], fmt::format("'{}' of {} is '{}', not true or false", key, what, *s));
  return std::nullopt;
}

std::optional<Time> YamlReader::time(const YAML::Node& map, std::string_view key,
                                     const std::string& what) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  const Parsed<Time> t = parse_time(*s);
  if (!t.ok()) {
    error(map[std::string(key)], fmt::format("'{}' of {}: {}", key, what, t.error()),
          "write a unit, e.g. 90ns or 1.2us");
    return std::nullopt;
  }
  return *t;
}

std::optional<double> YamlReader::rate(const YAML::Node& map, std::string_view key,
                                       const std::string& what, bool unlimited_ok) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  if (unlimited_ok && *s == "unlimited") return 0.0;
  const Parsed<double> r = parse_rate(*s);
  if (!r.ok()) {
    error(map[std::string(key)], fmt::format("'{}' of {}: {}", key, what, r.error()),
          unlimited_ok ? "e.g. 800Gbps, 2.5e9Bps or unlimited" : "e.g. 800Gbps or 2.5e9Bps");
    return std::nullopt;
  }
  if (*r <= 0) {
    error(map[std::string(key)], fmt::format("'{}' of {} must be above zero", key, what));
    return std::nullopt;
  }
  return *r;
}

std::optional<std::uint64_t> YamlReader::bytes(const YAML::Node& map, std::string_view key,
                                               const std::string& what, std::uint64_t min,
                                               std::uint64_t max) {
  auto s = scalar(map, key, what);
  if (!s) return std::nullopt;
  const Parsed<std::uint64_t> b = parse_bytes(*s);
  if (!b.ok()) {
    error(map[std::string(key)], fmt::format("'{}' of {}: {}", key, what, b.error()),
          "e.g. 4KiB or 2048B");
    return std::nullopt;
  }
  if (*b < min || *b > max) {
    error(map[std::string(key)],
          fmt::format("'{}' of {} is {} B, outside {}..{} B", key, what, *b, min, max));
    return std::nullopt;
  }
  return *b;
}

namespace {

template <typename T>
std::optional<std::uint32_t> name_set(YamlReader& r, const YAML::Node& map, std::string_view key,
                                      const std::string& what,
                                      std::optional<T> (*parse)(std::string_view),
                                      std::span<const T> all, const char* kind) {
  const YAML::Node n = map[std::string(key)];
  if (!n) return std::nullopt;
  if (n.IsScalar() && n.Scalar() == "all") return ~0u;
  if (!n.IsSequence()) {
    r.error(n, fmt::format("'{}' of {} must be a list of {} names or 'all'", key, what, kind));
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (T v : all) names.emplace_back(to_string(v));
  std::uint32_t mask = 0;
  bool ok = true;
  for (const YAML::Node& item : n) {
    const auto v = item.IsScalar() ? parse(item.Scalar()) : std::nullopt;
    if (!v) {
      const std::string word = item.IsScalar() ? item.Scalar() : "";
      const auto near = YamlReader::closest(word, names);
      r.error(item, fmt::format("'{}' in '{}' of {} is no {}", word, key, what, kind),
              near ? fmt::format("did you mean '{}'?", *near)
                   : fmt::format("one of {}", fmt::join(names, ", ")));
      ok = false;
      continue;
    }
    mask |= 1u << static_cast<unsigned>(*v);
  }
  if (!ok) return std::nullopt;
  return mask;
}

}  // namespace

std::optional<std::uint32_t> YamlReader::dtype_set(const YAML::Node& map, std::string_view key,
                                                   const std::string& what) {
  return name_set<Dtype>(*this, map, key, what, parse_dtype, all_dtypes(), "dtype");
}

std::optional<std::uint32_t> YamlReader::op_set(const YAML::Node& map, std::string_view key,
                                                const std::string& what) {
  return name_set<ReduceOp>(*this, map, key, what, parse_op, all_ops(), "op");
}

}  // namespace inca::fabric_file
