#include "report_page.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "bench_plot.hpp"
#include "external_tool.hpp"
#include "inca/world.hpp"
#include "report_findings.hpp"
#include "sweep_document.hpp"
#include "udp/switch_process.hpp"

namespace inca::cli {
namespace {

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// An SVG file's <svg> element, without the XML prolog, to inline in HTML.
std::string inline_svg(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string svg = text.str();
  const std::size_t at = svg.find("<svg");
  return at == std::string::npos ? "" : svg.substr(at);
}

std::string figure(const std::string& svg, const std::string& caption, const std::string& missing) {
  if (svg.empty())
    return fmt::format(
        "<figure class=\"missing\"><p>Figure left out: "
        "{}</p><figcaption>{}</figcaption></figure>\n",
        escape(missing), escape(caption));
  return fmt::format("<figure>{}<figcaption>{}</figcaption></figure>\n", svg, escape(caption));
}

std::string rows_table(const nlohmann::json& sweep) {
  std::string out =
      "<table id=\"rows\"><thead><tr><th>bytes</th><th>algorithm</th><th>time (us)</th>"
      "<th>algbw (GB/s)</th><th>busbw (GB/s)</th><th>NIC bytes</th><th>model (us)</th>"
      "<th>check</th></tr></thead><tbody>\n";
  for (const auto& r : sweep["rows"])
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{:.2f}</td><td>{:.3f}</td><td>{:.3f}</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr>\n",
        r["bytes"].get<std::uint64_t>(), escape(r["algorithm"].get<std::string>()),
        r["time_us"].get<double>(), r["algbw_GBps"].get<double>(), r.value("busbw_GBps", 0.0),
        r["nic_tx_bytes"].get<std::uint64_t>(),
        r.contains("model_us") && r["model_us"].is_number()
            ? fmt::format("{:.2f}", r["model_us"].get<double>())
            : "-",
        escape(r.value("check", "")));
  return out + "</tbody></table>\n";
}

std::string counters_table(const nlohmann::json& sweep) {
  std::string out =
      "<table id=\"counters\"><thead><tr><th>bytes</th><th>algorithm</th><th>counters that "
      "moved</th></tr></thead><tbody>\n";
  for (const auto& r : sweep["rows"]) {
    std::string moved;
    if (r.contains("stats"))
      for (const auto& [name, value] : r["stats"].items())
        if (name != "events" && value.get<std::uint64_t>() != 0)
          moved += fmt::format("{}={} ", name, value.get<std::uint64_t>());
    out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"counters\">{}</td></tr>\n",
                       r["bytes"].get<std::uint64_t>(), escape(r["algorithm"].get<std::string>()),
                       moved.empty() ? "none" : escape(moved));
  }
  return out + "</tbody></table>\n";
}

std::string fabric_table(const nlohmann::json& sweep) {
  std::string out = "<table id=\"fabric\"><tbody>\n";
  for (const auto& [key, value] : sweep["fabric"].items())
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape(key),
                       escape(value.is_string() ? value.get<std::string>() : value.dump()));
  return out + "</tbody></table>\n";
}

constexpr const char* kStyle = R"(
body { font-family: Helvetica, Arial, sans-serif; max-width: 1200px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.counters { text-align: left; font-family: monospace; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #555; }
.finding h3 { margin-bottom: 0.2em; } .finding p { margin-top: 0; line-height: 1.4; }
pre { background: #f7f7f7; padding: 0.6em; }
.missing p { color: #a00; }
)";

}  // namespace

std::string render_report(const nlohmann::json& sweep, const ReportFigures& f) {
  const std::string collective = sweep["collective"];
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>inca report: {} on {} ranks</title><style>{}</style></head><body>\n"
      "<h1>inca report: {} on {} ranks</h1>\n",
      escape(collective), sweep["ranks"].get<int>(), kStyle, escape(collective),
      sweep["ranks"].get<int>());
  html += "<h2>Fabric</h2>\n";
  if (sweep.value("fabric_from_flags", false))
    html +=
        "<p>The rows came without a fabric description; it is the one the report's own "
        "flags describe.</p>\n";
  html += fmt::format("<pre>{}</pre>\n", escape(sweep.value("description", "")));
  html += fabric_table(sweep);
  html += "<h2>Tree</h2>\n";
  html += figure(f.tree_svg,
                 "The fabric and the reduction tree the aggregation manager built: bold green "
                 "links carry each child's contributions up to its parent switch; the root is "
                 "orange.",
                 f.missing);
  html += "<h2>Findings</h2>\n";
  for (const Finding& x : findings(sweep))
    html += fmt::format("<div class=\"finding\"><h3>{}</h3><p>{}</p></div>\n", escape(x.title),
                        escape(x.text));
  html += "<h2>Plots</h2>\n";
  html += figure(f.algbw_svg,
                 "algbw = bytes / time per algorithm, log-log; dashed: the cost model's "
                 "prediction for the same algorithm and fabric.",
                 f.missing);
  html += figure(f.ratio_svg,
                 "Each algorithm's algbw over the host algorithm's at the same size; dotted: "
                 "2(n-1)/n, the doubling a NIC that sends the buffer once earns over a ring.",
                 f.missing);
  html += figure(f.nic_svg,
                 "Bytes rank 0's NIC put on the wire (headers and framing included), against S "
                 "and 2(n-1)/n S.",
                 f.missing);
  html += "<h2>Rows</h2>\n" + rows_table(sweep);
  html +=
      "<h2>Counters</h2>\n<p>What each row's run did beyond its data (docs/reliability.md "
      "says what every counter means).</p>\n" +
      counters_table(sweep);
  html += "<p><small>Made by <code>inca report</code>.</small></p>\n</body></html>\n";
  return html;
}

Status write_report(const nlohmann::json& sweep, const std::string& html_path) {
  ReportFigures figures;
  udp::TempDir dir;
  std::vector<std::string> missing;
  // The tree: the sweep's fabric built again (no collective runs on it).
  FabricOptions fabric = sweep_fabric(sweep);
  fabric.timing_only = true;
  auto world = World::create(fabric);
  if (world.ok()) {
    const std::string dot_file = dir.path() + "/tree.dot", svg_file = dir.path() + "/tree.svg";
    std::ofstream(dot_file) << (*world)->dot();
    Status drawn = run_tool({"dot", "-Tsvg", dot_file, "-o", svg_file}, std::chrono::seconds(60),
                            "apt-get install graphviz");
    if (drawn.ok())
      figures.tree_svg = inline_svg(svg_file);
    else
      missing.push_back(drawn.message());
  } else {
    missing.push_back("the fabric could not be built again: " + world.status().to_string());
  }
  const std::pair<const char*, std::string*> panels[] = {
      {"algbw", &figures.algbw_svg}, {"ratio", &figures.ratio_svg}, {"nic", &figures.nic_svg}};
  for (const auto& [panel, svg] : panels) {
    const std::string file = dir.path() + "/" + panel + ".svg";
    Status plotted = plot_sweep(sweep, file, panel);
    if (!plotted.ok()) {
      missing.push_back(plotted.message());
      break;
    }
    *svg = inline_svg(file);
  }
  for (const std::string& m : missing) figures.missing += m + "; ";
  std::ofstream out(html_path);
  out << render_report(sweep, figures);
  if (!out) return make_error(StatusCode::io_error, "cannot write " + html_path);
  return {};
}

}  // namespace inca::cli
