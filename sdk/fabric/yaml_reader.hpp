// Reading a YAML file the way fabric and job files need it: every problem is
// collected (not just the first), located at its line and column, and the
// typed getters refuse what does not parse instead of guessing. Unknown keys
// are errors with the closest valid key as a hint.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "inca/caps.hpp"
#include "inca/fabric_description.hpp"

namespace inca::fabric_file {

/// The whole file at `path`; nullopt, with "cannot open the `kind` file"
/// added to `out`, when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path, const char* kind,
                                          std::vector<Diagnostic>& out);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  /// Parses `text`; on a syntax error records it and returns nullopt.
  std::optional<YAML::Node> parse(const std::string& text);

  SourceLocation at(const YAML::Node& node) const;
  void error(const YAML::Node& node, std::string message, std::string hint = "");
  void error(const SourceLocation& where, std::string message, std::string hint = "");
  void warning(const SourceLocation& where, std::string message, std::string hint = "");
  bool failed() const;
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }
  const std::string& file() const { return file_; }

  /// True when `node` is a map; otherwise an error naming `what`.
  bool expect_map(const YAML::Node& node, const std::string& what);
  bool expect_list(const YAML::Node& node, const std::string& what);
  /// Errors for keys of `map` not in `allowed` (with the closest as a hint)
  /// and for keys given twice.
  void check_keys(const YAML::Node& map, const std::vector<std::string_view>& allowed,
                  const std::string& what);
  /// Errors for keys of `map` missing from `required`.
  bool require(const YAML::Node& map, std::initializer_list<std::string_view> required,
               const std::string& what);

  /// Typed values of `map[key]` (nullopt when absent or wrong, the latter
  /// with an error). `what` names the thing the key belongs to.
  std::optional<std::string> text(const YAML::Node& map, std::string_view key,
                                  const std::string& what);
  std::optional<std::uint64_t> count(const YAML::Node& map, std::string_view key,
                                     const std::string& what, std::uint64_t min, std::uint64_t max);
  std::optional<double> number(const YAML::Node& map, std::string_view key, const std::string& what,
                               double min, double max);
  std::optional<bool> flag(const YAML::Node& map, std::string_view key, const std::string& what);
  std::optional<Time> time(const YAML::Node& map, std::string_view key, const std::string& what);
  /// A rate in Gb/s; "unlimited" gives 0 when `unlimited_ok`.
  std::optional<double> rate(const YAML::Node& map, std::string_view key, const std::string& what,
                             bool unlimited_ok = false);
  std::optional<std::uint64_t> bytes(const YAML::Node& map, std::string_view key,
                                     const std::string& what, std::uint64_t min, std::uint64_t max);
  /// A list of dtype (or op) names, or "all", as a caps mask.
  std::optional<std::uint32_t> dtype_set(const YAML::Node& map, std::string_view key,
                                         const std::string& what);
  std::optional<std::uint32_t> op_set(const YAML::Node& map, std::string_view key,
                                      const std::string& what);

  /// The closest of `choices` to `word` when it is close enough to suggest.
  static std::optional<std::string> closest(std::string_view word,
                                            const std::vector<std::string>& choices);

 private:
  std::optional<std::string> scalar(const YAML::Node& map, std::string_view key,
                                    const std::string& what);
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace inca::fabric_file
