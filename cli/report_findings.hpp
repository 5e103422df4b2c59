// What a sweep shows, in sentences a student can check against the plots:
// where the bandwidth doubling comes from, the latency side, where the faster
// algorithm changes (and the half-bandwidth size), how close the cost model
// is, and what the fault and recovery counters say.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace inca::cli {

struct Finding {
  std::string title;
  std::string text;
};

/// The findings of a sweep document (sweep_document.hpp), in reading order.
std::vector<Finding> findings(const nlohmann::json& sweep);

/// "64 KiB", "16 MiB", "8 B".
std::string human_bytes(double bytes);

}  // namespace inca::cli
