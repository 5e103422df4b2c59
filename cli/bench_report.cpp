#include "bench_report.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim_mode_flags.hpp"

namespace inca::cli {
namespace {

// One line per row with the counters that moved.
std::string stats_block(const BenchReport& report) {
  std::string out = "# stats per row (counters that moved):\n";
  for (const BenchRow& r : report.rows)
    out += fmt::format("# {:>12} {:>18}:{}\n", r.bytes, r.algorithm, moved_counters(r.stats));
  return out;
}

// How busbw follows from algbw for the report's collective (nccl-tests).
std::string_view busbw_rule(Collective c) {
  switch (c) {
    case Collective::allreduce:
      return "busbw = algbw x 2(n-1)/n";
    case Collective::reduce_scatter:
    case Collective::allgather:
      return "bytes = n blocks; busbw = algbw x (n-1)/n";
    case Collective::reduce:
    case Collective::broadcast:
      return "busbw = algbw";
    case Collective::barrier:
      return "barrier: time only, algbw = busbw = 0";
  }
  return "";
}

std::string table(const BenchReport& report, const BenchOptions& o) {
  // Each row's algbw next to the host algorithm's (ring for all-reduce).
  const std::string host(host_algorithm(o.collective));
  const std::size_t ratio_width = std::max<std::size_t>(6, host.size() + 2);
  std::map<std::size_t, double> host_algbw;
  for (const BenchRow& r : report.rows)
    if (r.algorithm == host) host_algbw[r.bytes] = r.algbw_GBps;

  std::string out;
  // A described fabric has rates of its own: name it instead.
  const FabricOptions& f = o.fabric;
  std::string fabric =
      fmt::format("{:g} Gb/s links, {} ns latency", f.link_gbps, f.latency / kPicosPerNano);
  if (f.description)
    fabric = "fabric " + (f.description->source.empty() ? "'" + f.description->name + "'"
                                                        : f.description->source);
  else if (!f.preset.empty() || !f.fabric_file.empty())
    fabric = f.preset.empty() ? "fabric " + f.fabric_file : "preset " + f.preset;
  out += fmt::format("# inca bench: {} {} {}, {} ranks, {}\n", to_string(o.collective),
                     to_string(o.dtype), to_string(o.op), o.fabric.ranks, fabric);
  for (std::size_t at = 0, nl; at < report.fabric.size(); at = nl + 1) {
    nl = report.fabric.find('\n', at);
    if (nl == std::string::npos) nl = report.fabric.size();
    out += "# " + report.fabric.substr(at, nl - at) + "\n";
  }
  out += fmt::format(
      "# {}; nic_tx_bytes = wire bytes rank 0's NIC sent (framing included); x_{} = algbw / {} "
      "algbw\n",
      busbw_rule(o.collective), host, host);
  out += o.analytic ? "# model: analytic: nothing simulated, each row is the cost model's time "
                      "(time_us = model_us; no NIC bytes, events or check); its error against the "
                      "simulator in docs/model.md\n"
                    : "# " + describe_sim_mode(o.fabric, "rows") + "\n";
  if (o.nonblocking || o.outstanding > 1)
    out += fmt::format(
        "# non-blocking: {} collective(s) started at once per run on their own buffers, then "
        "wait_all; time from the first start to the last completion, algbw counts all {}, "
        "model_us = {} x one\n",
        o.outstanding, o.outstanding, o.outstanding);
  out += fmt::format(
      "{:>12} {:>11} {:>5} {:>4} {:>18} {:>5} {:>11} {:>10} {:>10} {:>13} {:>11} "
      "{:>{}}  {}\n",
      "bytes", "count", "dtype", "op", "algorithm", "ranks", "time_us", "algbw_GBps", "busbw_GBps",
      "nic_tx_bytes", "model_us", "x_" + host, ratio_width, "check");
  for (const BenchRow& r : report.rows) {
    auto base = host_algbw.find(r.bytes);
    const std::string ratio = base != host_algbw.end() && base->second > 0
                                  ? fmt::format("{:.2f}", r.algbw_GBps / base->second)
                                  : "-";
    const std::string model = r.model_us ? fmt::format("{:.2f}", *r.model_us) : "-";
    // A coarse row says so on the row itself.
    std::string note = r.note;
    if (row_model(r) != "packet")
      note = fmt::format("model {}{}", row_model(r), note.empty() ? "" : "; " + note);
    out += fmt::format(
        "{:>12} {:>11} {:>5} {:>4} {:>18} {:>5} {:>11.2f} {:>10.2f} {:>10.2f} "
        "{:>13} {:>11} {:>{}}  {}{}\n",
        r.bytes, r.count, to_string(r.dtype), to_string(r.op), r.algorithm, r.ranks, r.time_us,
        r.algbw_GBps, r.busbw_GBps, r.analytic ? "-" : std::to_string(r.nic_tx_bytes), model, ratio,
        ratio_width, r.check, note.empty() ? "" : "  (" + note + ")");
  }
  if (o.analytic)
    out += fmt::format("# nothing simulated: {:.2f} s wall (building the fabric and its trees)\n",
                       report.wall_seconds);
  else
    out += fmt::format("# {} simulator events in {:.2f} s wall ({:.2f} M events/s)\n",
                       report.events, report.wall_seconds,
                       report.wall_seconds > 0 ? report.events / report.wall_seconds / 1e6 : 0.0);
  if (o.stats) out += stats_block(report);
  return out;
}

nlohmann::json row_json(const BenchRow& r) {
  nlohmann::json j;
  j["bytes"] = r.bytes;
  j["count"] = r.count;
  j["dtype"] = std::string(to_string(r.dtype));
  j["op"] = std::string(to_string(r.op));
  j["algorithm"] = r.algorithm;
  j["ranks"] = r.ranks;
  j["time_us"] = r.time_us;
  j["algbw_GBps"] = r.algbw_GBps;
  j["busbw_GBps"] = r.busbw_GBps;
  j["nic_tx_bytes"] = r.analytic ? nlohmann::json(nullptr) : nlohmann::json(r.nic_tx_bytes);
  j["model_us"] = r.model_us ? nlohmann::json(*r.model_us) : nlohmann::json(nullptr);
  j["outstanding"] = r.outstanding;
  j["check"] = r.check;
  j["model"] = std::string(row_model(r));
  if (!r.note.empty()) j["note"] = r.note;
  return j;
}

}  // namespace

std::string moved_counters(const WorldStats& stats) {
  std::string out;
  for (const auto& [name, value] : stats_fields(stats))
    if (value != 0 && name != "events") out += fmt::format(" {}={}", name, value);
  return out.empty() ? " none" : out;
}

nlohmann::json stats_json(const WorldStats& stats) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : stats_fields(stats)) out[std::string(name)] = value;
  return out;
}

std::string format_report(const BenchReport& report, const BenchOptions& options,
                          ReportFormat format) {
  switch (format) {
    case ReportFormat::table:
      return table(report, options);
    case ReportFormat::json: {
      nlohmann::json rows = nlohmann::json::array();
      for (const BenchRow& r : report.rows) {
        nlohmann::json row = row_json(r);
        if (options.stats) row["stats"] = stats_json(r.stats);
        rows.push_back(std::move(row));
      }
      return rows.dump(2) + "\n";
    }
    case ReportFormat::csv: {
      std::string out =
          "bytes,count,dtype,op,algorithm,ranks,time_us,algbw_GBps,busbw_GBps,nic_tx_bytes,model_"
          "us,model\n";
      // `model` goes last: readers that take columns by position keep working.
      for (const BenchRow& r : report.rows)
        out += fmt::format("{},{},{},{},{},{},{:.3f},{:.4f},{:.4f},{},{},{}\n", r.bytes, r.count,
                           to_string(r.dtype), to_string(r.op), r.algorithm, r.ranks, r.time_us,
                           r.algbw_GBps, r.busbw_GBps,
                           r.analytic ? std::string() : std::to_string(r.nic_tx_bytes),
                           r.model_us ? fmt::format("{:.3f}", *r.model_us) : "", row_model(r));
      return out;
    }
  }
  return {};
}

}  // namespace inca::cli
