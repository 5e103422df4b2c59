// Renders a bench report as the nccl-tests-style table, JSON or CSV.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench_sweep.hpp"

namespace inca::cli {

enum class ReportFormat { table, json, csv };

/// " name=value" for each counter of `stats` that moved (events aside), or
/// " none" (docs/reliability.md says what each means).
std::string moved_counters(const WorldStats& stats);
/// Every counter of `stats`, by name.
nlohmann::json stats_json(const WorldStats& stats);

/// The table also shows each row's algbw relative to ring's at the same size.
std::string format_report(const BenchReport& report, const BenchOptions& options,
                          ReportFormat format);

}  // namespace inca::cli
