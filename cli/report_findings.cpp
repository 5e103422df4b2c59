#include "report_findings.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace inca::cli {
namespace {

using Rows =
    std::map<std::string, std::map<double, const nlohmann::json*>>;  // algo -> bytes -> row

Rows rows_by_algorithm(const nlohmann::json& sweep) {
  Rows out;
  for (const auto& r : sweep["rows"])
    if (r["bytes"].get<double>() > 0) out[r["algorithm"]][r["bytes"].get<double>()] = &r;
  return out;
}

double get(const nlohmann::json& row, const char* key) {
  return row.contains(key) && row[key].is_number() ? row[key].get<double>() : 0;
}

// The in-network algorithm of the sweep: innet, or what auto chose.
std::string innet_name(const Rows& rows) {
  for (const auto& [name, r] : rows)
    if (name == "innet" || name == "auto:innet") return name;
  return "";
}

Finding doubling(const nlohmann::json& sweep, const Rows& rows, const std::string& innet,
                 const std::string& host) {
  const auto& in = rows.at(innet);
  const auto& ho = rows.at(host);
  double size = 0;
  for (const auto& [bytes, row] : in)
    if (ho.count(bytes)) size = bytes;
  const nlohmann::json& a = *in.at(size);
  const nlohmann::json& b = *ho.at(size);
  const double n = sweep["ranks"].get<double>();
  const double per_nic_innet = get(a, "nic_tx_bytes") / size;
  const double per_nic_host = get(b, "nic_tx_bytes") / size;
  const bool allreduce = sweep["collective"] == "allreduce";
  std::string text =
      fmt::format("At {}, {} moved {:.2f} GB/s of algbw against {:.2f} GB/s for {}: {:.2f}x. ",
                  human_bytes(size), innet, get(a, "algbw_GBps"), get(b, "algbw_GBps"), host,
                  get(a, "algbw_GBps") / std::max(1e-12, get(b, "algbw_GBps")));
  text += fmt::format(
      "The reason is on the wire: rank 0's NIC sent {:.3f} S for {} and {:.3f} S in-network, "
      "a ratio of {:.3f}.",
      per_nic_host, host, per_nic_innet, per_nic_host / std::max(1e-12, per_nic_innet));
  if (allreduce)
    text += fmt::format(
        " A ring sends each of its n-1 reduce-scatter steps and n-1 all-gather steps a 1/n "
        "segment, 2(n-1)/n = {:.3f} S in all, where every switch of the tree sums its children "
        "so that each NIC sends the buffer once. What is left between {:.3f} and the measured "
        "ratio is per-packet overhead: headers and framing cost more on the smaller "
        "aggregation packets (one switch slot of payload) than on the point-to-point ones "
        "(docs/model.md, \"The bandwidth doubling\").",
        2 * (n - 1) / n, 2 * (n - 1) / n);
  return {"Where the doubling comes from", text};
}

Finding latency(const Rows& rows, const std::string& innet, const std::string& host, double n) {
  const auto& in = rows.at(innet);
  const auto& ho = rows.at(host);
  for (const auto& [bytes, row] : in) {
    if (!ho.count(bytes)) continue;
    const double ti = get(*row, "time_us"), th = get(*ho.at(bytes), "time_us");
    return {"Small messages: latency",
            fmt::format("At {}, {} took {:.2f} us and {} {:.2f} us ({:.1f}x). A small message is "
                        "all latency: in-network it goes once up the tree and back down, a "
                        "ring needs 2(n-1) = {:.0f} steps, each a trip to its neighbour.",
                        human_bytes(bytes), innet, ti, host, th, th / std::max(1e-12, ti),
                        2 * (n - 1))};
  }
  return {};
}

Finding crossover(const Rows& rows, const std::string& innet, const std::string& host) {
  const auto& in = rows.at(innet);
  const auto& ho = rows.at(host);
  std::vector<std::pair<double, double>> lead;  // bytes, innet algbw / host algbw
  for (const auto& [bytes, row] : in)
    if (ho.count(bytes))
      lead.push_back(
          {bytes, get(*row, "algbw_GBps") / std::max(1e-12, get(*ho.at(bytes), "algbw_GBps"))});
  std::string text;
  for (std::size_t i = 1; i < lead.size(); ++i)
    if ((lead[i - 1].second >= 1) != (lead[i].second >= 1))
      text +=
          fmt::format("The faster algorithm changes between {} and {}: below, {} wins; above, {}. ",
                      human_bytes(lead[i - 1].first), human_bytes(lead[i].first),
                      lead[i - 1].second >= 1 ? innet : host, lead[i].second >= 1 ? innet : host);
  if (text.empty() && !lead.empty())
    text = fmt::format(
        "There is no crossover in this sweep: {} is {} at every size from {} to {}, its lead "
        "going from {:.2f}x to {:.2f}x as messages turn from latency-bound to bandwidth-bound. ",
        innet, lead.front().second >= 1 ? "faster" : "slower", human_bytes(lead.front().first),
        human_bytes(lead.back().first), lead.front().second, lead.back().second);
  // The half-bandwidth size: where the pipeline fill equals the streaming time.
  double peak = 0;
  for (const auto& [bytes, row] : in) peak = std::max(peak, get(*row, "algbw_GBps"));
  for (const auto& [bytes, row] : in)
    if (get(*row, "algbw_GBps") >= peak / 2) {
      text += fmt::format(
          "{} reaches half of its best algbw ({:.2f} of {:.2f} GB/s) at {}: below that size "
          "the round trip through the tree dominates, above it the link rate does.",
          innet, get(*row, "algbw_GBps"), peak, human_bytes(bytes));
      break;
    }
  return {"Crossover", text};
}

Finding model(const Rows& rows) {
  std::string text;
  for (const auto& [name, by_size] : rows) {
    double worst = -1, at = 0;
    for (const auto& [bytes, row] : by_size) {
      const double m = get(*row, "model_us");
      if (m <= 0) continue;
      const double err = std::abs(get(*row, "time_us") - m) / m;
      if (err > worst) worst = err, at = bytes;
    }
    if (worst < 0) continue;
    text +=
        fmt::format("{}: within {:.1f} % of the simulated time at every size (furthest at {}). ",
                    name, worst * 100, human_bytes(at));
  }
  if (text.empty()) return {};
  return {"What the model says",
          "The alpha-beta cost model (docs/model.md) predicts each row's time from the link rate, "
          "the latency, the packet sizes and the tree. " +
              text +
              "Where it is exact, the simulator runs the very pipeline the formula describes; "
              "where it is not, the formula charges every step for the worst segment or the mean "
              "path."};
}

Finding counters(const nlohmann::json& sweep) {
  std::map<std::string, std::uint64_t> moved;
  for (const auto& r : sweep["rows"])
    if (r.contains("stats"))
      for (const auto& [name, value] : r["stats"].items())
        if (name != "events" && value.get<std::uint64_t>() > 0 &&
            (name.find("retrans") != std::string::npos || name.find("fault") == 0 ||
             name.find("drop") != std::string::npos || name.find("timeout") != std::string::npos ||
             name.find("reform") != std::string::npos || name.find("rerun") != std::string::npos))
          moved[name] += value.get<std::uint64_t>();
  if (moved.empty())
    return {"Faults and recovery",
            "No packet was lost and none was sent twice: every fault and recovery counter of "
            "every row stayed at zero."};
  std::string list;
  std::uint64_t lost = 0;
  for (const auto& [name, value] : moved) {
    list += fmt::format("{} {}, ", name, value);
    if (name.find("fault") == 0) lost += value;
  }
  list.resize(list.size() - 2);
  const std::string why =
      lost > 0 ? " Every host resends what it has not heard back about in time: in-network, the "
                 "result of a chunk is its acknowledgement, so one loss anywhere in the tree "
                 "costs every host of that chunk a retransmission; a ring resends only the lost "
                 "fragment (docs/reliability.md)."
               : " No packet was lost (the fault counters stayed at zero): these retransmissions "
                 "are timers that fired before a late answer arrived, when a queue grew longer "
                 "than the adaptive timeout expected; the duplicates they made were recognised "
                 "and dropped (docs/reliability.md).";
  return {"Faults and recovery", "Over the whole sweep: " + list + "." + why};
}

}  // namespace

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3) bytes /= 1024, ++u;
  return fmt::format("{:g} {}", bytes, units[u]);
}

std::vector<Finding> findings(const nlohmann::json& sweep) {
  std::vector<Finding> out;
  const Rows rows = rows_by_algorithm(sweep);
  const std::string host = sweep["host"];
  const std::string innet = innet_name(rows);
  if (!innet.empty() && rows.count(host)) {
    out.push_back(doubling(sweep, rows, innet, host));
    if (Finding f = latency(rows, innet, host, sweep["ranks"].get<double>()); !f.text.empty())
      out.push_back(f);
    out.push_back(crossover(rows, innet, host));
  }
  if (Finding f = model(rows); !f.text.empty()) out.push_back(f);
  out.push_back(counters(sweep));
  return out;
}

}  // namespace inca::cli
