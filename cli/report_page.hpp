// `inca report`: one self-contained HTML page about a sweep: the fabric, its
// tree drawn by Graphviz, the findings in sentences, the plots (inline SVG
// from matplotlib), the table of rows and the counters that moved. Nothing
// is loaded from elsewhere, so the file can be mailed to a class.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "inca/status.hpp"

namespace inca::cli {

/// The drawings a page shows; an empty one is replaced by `missing`'s text.
struct ReportFigures {
  std::string tree_svg;
  std::string algbw_svg, ratio_svg, nic_svg;
  std::string missing;  ///< why figures are missing (a tool not installed)
};

/// The page's HTML.
std::string render_report(const nlohmann::json& sweep, const ReportFigures& figures);

/// Draws the figures (dot, matplotlib) for `sweep` and writes the page to
/// `html_path`. A missing tool leaves its figures out, saying which and why;
/// io_error when the page cannot be written.
Status write_report(const nlohmann::json& sweep, const std::string& html_path);

}  // namespace inca::cli
