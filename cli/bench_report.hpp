// Renders a bench report as the nccl-tests-style table, JSON or CSV.
#pragma once

#include <string>

#include "bench_sweep.hpp"

namespace inca::cli {

enum class ReportFormat { table, json, csv };

/// The table also shows each row's algbw relative to ring's at the same size.
std::string format_report(const BenchReport& report, const BenchOptions& options,
                          ReportFormat format);

}  // namespace inca::cli
