#include "inca/stats.hpp"

#include <array>

namespace inca {
namespace {

using Field = std::pair<std::string_view, std::uint64_t WorldStats::*>;

// The one list of fields: printing, JSON and subtraction all walk it.
constexpr std::array kFields = {
    Field{"events", &WorldStats::events},
    Field{"switch_contributions", &WorldStats::switch_contributions},
    Field{"switch_identity_contributions", &WorldStats::switch_identity_contributions},
    Field{"switch_duplicates", &WorldStats::switch_duplicates},
    Field{"switch_duplicate_answers", &WorldStats::switch_duplicate_answers},
    Field{"switch_partial_reforwards", &WorldStats::switch_partial_reforwards},
    Field{"switch_results", &WorldStats::switch_results},
    Field{"switch_header_only_results", &WorldStats::switch_header_only_results},
    Field{"switch_drops", &WorldStats::switch_drops},
    Field{"switch_stale", &WorldStats::switch_stale},
    Field{"switch_slot_full", &WorldStats::switch_slot_full},
    Field{"switch_drop_unknown_tree", &WorldStats::switch_drop_unknown_tree},
    Field{"switch_drop_bad_key", &WorldStats::switch_drop_bad_key},
    Field{"switch_drop_bad_child", &WorldStats::switch_drop_bad_child},
    Field{"switch_drop_bad_slot", &WorldStats::switch_drop_bad_slot},
    Field{"switch_drop_mismatch", &WorldStats::switch_drop_mismatch},
    Field{"switch_refused_caps", &WorldStats::switch_refused_caps},
    Field{"switch_errors_sent", &WorldStats::switch_errors_sent},
    Field{"host_packets_sent", &WorldStats::host_packets_sent},
    Field{"host_retransmissions", &WorldStats::host_retransmissions},
    Field{"host_innet_retransmissions", &WorldStats::host_innet_retransmissions},
    Field{"host_p2p_retransmissions", &WorldStats::host_p2p_retransmissions},
    Field{"host_duplicate_results", &WorldStats::host_duplicate_results},
    Field{"host_p2p_duplicates", &WorldStats::host_p2p_duplicates},
    Field{"host_acks_sent", &WorldStats::host_acks_sent},
    Field{"host_errors_received", &WorldStats::host_errors_received},
    Field{"host_dropped", &WorldStats::host_dropped},
    Field{"host_timeouts", &WorldStats::host_timeouts},
    Field{"fault_dropped", &WorldStats::fault_dropped},
    Field{"fault_duplicated", &WorldStats::fault_duplicated},
    Field{"fault_reordered", &WorldStats::fault_reordered},
    Field{"fault_corrupted", &WorldStats::fault_corrupted},
    Field{"fault_corrupt_detected", &WorldStats::fault_corrupt_detected},
    Field{"fault_corrupt_undetected", &WorldStats::fault_corrupt_undetected},
    Field{"fault_link_down_drops", &WorldStats::fault_link_down_drops},
    Field{"fault_switch_down_drops", &WorldStats::fault_switch_down_drops},
    Field{"fault_switch_state_losses", &WorldStats::fault_switch_state_losses},
    Field{"collectives_failed", &WorldStats::collectives_failed},
    Field{"trees_reformed", &WorldStats::trees_reformed},
    Field{"reruns", &WorldStats::reruns},
    Field{"fallbacks", &WorldStats::fallbacks},
    Field{"agreements_incomplete", &WorldStats::agreements_incomplete},
};
// A field added to WorldStats but not to kFields would be silently skipped.
static_assert(sizeof(WorldStats) == kFields.size() * sizeof(std::uint64_t),
              "every WorldStats field must be listed in kFields");

}  // namespace

std::vector<std::pair<std::string_view, std::uint64_t>> stats_fields(const WorldStats& stats) {
  std::vector<std::pair<std::string_view, std::uint64_t>> out;
  out.reserve(kFields.size());
  for (const auto& [name, member] : kFields) out.emplace_back(name, stats.*member);
  return out;
}

WorldStats operator-(const WorldStats& a, const WorldStats& b) {
  WorldStats d;
  for (const auto& [name, member] : kFields) d.*member = a.*member - b.*member;
  return d;
}

}  // namespace inca
