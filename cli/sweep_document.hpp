// A sweep as one JSON document: what `inca report --save` writes and what
// the plots and the report read. It carries the fabric (so a report can
// describe it and draw its tree), the collective and its host algorithm, and
// every row with its counters:
//   {"collective", "ranks", "host", "busbw_factor", "description",
//    "fabric": {topology, hosts_per_leaf, spines, link_gbps, latency_ns, mtu,
//               switch_slots, slot_bytes, window},
//    "rows": [ {bytes, algorithm, time_us, algbw_GBps, ..., "stats": {...}} ]}
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "bench_sweep.hpp"
#include "inca/status.hpp"

namespace inca::cli {

nlohmann::json sweep_document(const BenchReport& report, const BenchOptions& options);

/// Reads a sweep document, or the row array `inca bench --format json`
/// prints; the latter gets its fabric, collective and ranks from `options`
/// (the flags given with it), and says so ("fabric_from_flags": true).
/// invalid_argument naming the file and what is wrong with it.
Result<nlohmann::json> load_sweep(const std::string& path, const BenchOptions& options);

/// The fabric options a sweep document describes.
FabricOptions sweep_fabric(const nlohmann::json& document);

}  // namespace inca::cli
