// read_measurements: the tables people bring to `inca calibrate`.
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "inca/calibration.hpp"

namespace inca {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  if (sep == ' ') {
    while (in >> field) out.push_back(field);
    return out;
  }
  while (std::getline(in, field, sep)) {
    while (!field.empty() && std::isspace(static_cast<unsigned char>(field.front())))
      field.erase(0, 1);
    while (!field.empty() && std::isspace(static_cast<unsigned char>(field.back())))
      field.pop_back();
    out.push_back(field);
  }
  return out;
}

std::optional<double> number(const std::string& text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

// "auto:innet" ran innet.
std::string ran(std::string algorithm) {
  if (algorithm.rfind("auto:", 0) == 0) algorithm.erase(0, 5);
  return algorithm;
}

Status bad(const std::string& path, int line, const std::string& why) {
  return make_error(StatusCode::config_error, fmt::format("{}:{}: {}", path, line, why));
}

Result<std::vector<Measurement>> from_json(const std::string& path, const std::string& text,
                                           const std::string& algorithm) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return bad(path, 1, std::string("not JSON: ") + e.what());
  }
  const nlohmann::json& rows = doc.is_object() && doc.contains("rows") ? doc["rows"] : doc;
  if (!rows.is_array()) return bad(path, 1, "expected a list of rows (inca bench --format json)");
  std::vector<Measurement> out;
  int index = 0;
  for (const nlohmann::json& row : rows) {
    ++index;
    if (!row.is_object() || !row.contains("bytes") || !row.contains("time_us") ||
        !row["bytes"].is_number() || !row["time_us"].is_number())
      return bad(path, 1, fmt::format("row {} has no numeric 'bytes' and 'time_us'", index));
    Measurement m;
    m.bytes = row["bytes"].get<std::size_t>();
    m.time_us = row["time_us"].get<double>();
    m.algorithm = row.contains("algorithm") && row["algorithm"].is_string()
                      ? ran(row["algorithm"].get<std::string>())
                      : algorithm;
    m.line = index;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

Result<std::vector<Measurement>> read_measurements(const std::string& path,
                                                   const std::string& algorithm) {
  std::ifstream in(path);
  if (!in) return make_error(StatusCode::config_error, "cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '[' || text[first] == '{'))
    return from_json(path, text, algorithm);

  // Text: a CSV with a header, or OSU / nccl-tests output (whitespace columns,
  // comment lines starting with '#').
  std::vector<Measurement> out;
  std::istringstream lines(text);
  std::string line;
  int number_of_line = 0;
  int size_col = -1, time_col = -1, algo_col = -1;
  bool csv = false;
  while (std::getline(lines, line)) {
    ++number_of_line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos ||
        line[line.find_first_not_of(" \t")] == '#')
      continue;
    if (size_col < 0 && line.find(',') != std::string::npos) {
      // A CSV header names its columns.
      const auto names = split(line, ',');
      for (int c = 0; c < static_cast<int>(names.size()); ++c) {
        const std::string& n = names[static_cast<std::size_t>(c)];
        if (n == "bytes" || n == "size") size_col = c;
        if (n == "time_us" || n == "time" || n == "latency_us") time_col = c;
        if (n == "algorithm") algo_col = c;
      }
      if (size_col < 0 || time_col < 0)
        return bad(path, number_of_line,
                   "a CSV header needs a 'bytes' (or 'size') and a 'time_us' (or 'time') column");
      csv = true;
      continue;
    }
    const auto fields = csv ? split(line, ',') : split(line, ' ');
    Measurement m;
    m.line = number_of_line;
    m.algorithm = algorithm;
    if (csv) {
      const auto width = static_cast<int>(fields.size());
      if (width <= std::max(size_col, time_col))
        return bad(path, number_of_line, "fewer columns than the header");
      const auto size = number(fields[static_cast<std::size_t>(size_col)]);
      const auto time = number(fields[static_cast<std::size_t>(time_col)]);
      if (!size || !time) return bad(path, number_of_line, "size and time must be numbers");
      m.bytes = static_cast<std::size_t>(*size);
      m.time_us = *time;
      if (algo_col >= 0 && algo_col < width)
        m.algorithm = ran(fields[static_cast<std::size_t>(algo_col)]);
    } else if (fields.size() >= 8 && !number(fields[2])) {
      // nccl-tests: size count type redop [root] time algbw busbw #wrong ...
      const std::size_t time_at = number(fields[4]) && fields.size() >= 9 ? 5 : 4;
      const auto size = number(fields[0]);
      const auto time = number(fields[time_at]);
      if (!size || !time) return bad(path, number_of_line, "not a nccl-tests row");
      m.bytes = static_cast<std::size_t>(*size);
      m.time_us = *time;
    } else {
      // osu_allreduce: size, average latency (us), then optional min, max, iterations.
      const auto size = fields.empty() ? std::nullopt : number(fields[0]);
      const auto time = fields.size() < 2 ? std::nullopt : number(fields[1]);
      if (!size || !time)
        return bad(path, number_of_line,
                   "not a row of osu_allreduce (size, latency), nccl-tests or a CSV with a header");
      m.bytes = static_cast<std::size_t>(*size);
      m.time_us = *time;
    }
    if (m.time_us <= 0) return bad(path, number_of_line, "a time must be above zero");
    out.push_back(std::move(m));
  }
  if (out.empty()) return make_error(StatusCode::config_error, path + ": no measurements");
  return out;
}

}  // namespace inca
