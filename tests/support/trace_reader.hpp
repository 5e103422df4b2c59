// Reading a Chrome trace-event JSON file back in tests: the events, the
// slices of each thread with their nesting checked, counter sums and
// instant counts.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace inca::test {

/// A trace time (microseconds) in whole nanoseconds, as Perfetto reads it.
inline std::int64_t ns(const nlohmann::json& us) {
  return std::llround(us.get<double>() * 1000);
}

struct TraceSlice {
  std::int64_t begin = 0, end = 0;  ///< nanoseconds
  std::string name, category;
  nlohmann::json args;
  int depth = 0;  // 0: outermost on its thread
};

class TraceReader {
 public:
  explicit TraceReader(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    raw_ = text.str();
    doc_ = nlohmann::json::parse(raw_, nullptr, /*allow_exceptions=*/false);
  }
  bool valid() const { return doc_.is_object() && doc_.contains("traceEvents"); }
  const std::string& raw() const { return raw_; }
  const nlohmann::json& events() const { return doc_["traceEvents"]; }

  /// Slices of thread (pid, tid), sorted parents first, each with its depth;
  /// `violations` counts slices that end past their parent (bad nesting).
  std::vector<TraceSlice> slices(int pid, int tid, int* violations = nullptr) const {
    std::vector<TraceSlice> out;
    for (const auto& e : events())
      if (e["ph"] == "X" && e["pid"] == pid && e["tid"] == tid)
        out.push_back({ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]), e["name"], e.value("cat", ""),
                       e.value("args", nlohmann::json()), 0});
    // Stable: equal slices keep the file's order (parents first), as Perfetto reads them.
    std::stable_sort(out.begin(), out.end(), [](const TraceSlice& a, const TraceSlice& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
    });
    std::vector<const TraceSlice*> open;
    int bad = 0;
    for (TraceSlice& s : out) {
      // As Perfetto does: a slice that starts where the open one ended is its sibling.
      while (!open.empty() && open.back()->end <= s.begin) open.pop_back();
      if (!open.empty() && s.end > open.back()->end) ++bad;
      s.depth = static_cast<int>(open.size());
      open.push_back(&s);
    }
    if (violations) *violations = bad;
    return out;
  }
  /// Every thread (pid, tid) that has slices.
  std::vector<std::pair<int, int>> threads() const {
    std::vector<std::pair<int, int>> out;
    for (const auto& e : events())
      if (e["ph"] == "X") out.emplace_back(e["pid"].get<int>(), e["tid"].get<int>());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
  /// Sum of counter `key` over the samples of counters whose name starts with `prefix` in `pid`.
  double counter_sum(int pid, const std::string& prefix, const std::string& key) const {
    double sum = 0;
    for (const auto& e : events())
      if (e["ph"] == "C" && e["pid"] == pid && e["name"].get<std::string>().rfind(prefix, 0) == 0 &&
          e["args"].contains(key))
        sum += e["args"][key].get<double>();
    return sum;
  }
  /// Instants named `name`, each weighted by its "count" argument when it has one.
  std::uint64_t instants(const std::string& name) const {
    std::uint64_t n = 0;
    for (const auto& e : events())
      if (e["ph"] == "i" && e["name"] == name)
        n += e.contains("args") && e["args"].contains("count")
                 ? e["args"]["count"].get<std::uint64_t>()
                 : 1;
    return n;
  }
  /// X events named `name` in `pid`.
  std::size_t slices_named(int pid, const std::string& name) const {
    std::size_t n = 0;
    for (const auto& e : events())
      if (e["ph"] == "X" && e["pid"] == pid && e["name"] == name) ++n;
    return n;
  }

 private:
  std::string raw_;
  nlohmann::json doc_;
};

}  // namespace inca::test
