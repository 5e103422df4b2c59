#include "jobs/job_tree.hpp"

#include <map>

#include <fmt/format.h>

namespace inca::jobs {
namespace {

// The job's quota share on each switch it holds.
std::map<std::uint32_t, double> shares(const JobSummary& job,
                                       const std::vector<manager::Holding>& holdings) {
  std::map<std::uint32_t, double> out;
  for (const manager::Holding& h : holdings)
    if (h.job == job.job) out[h.switch_index] = h.quota_share;
  return out;
}

std::string switch_label(const FabricDescription& f, const JobSummary& job,
                         const std::map<std::uint32_t, double>& share, std::uint32_t sw) {
  const auto it = share.find(sw);
  return fmt::format("{}: {} slots, {:.0f}% of quota", f.switches[sw].name, job.grant.slots,
                     it == share.end() ? 0.0 : 100 * it->second);
}

void text_of(const FabricDescription& f, const JobSummary& job,
             const std::map<std::uint32_t, double>& share, const manager::AllocatedTree& tree,
             const manager::TreeSwitch& node, int depth, std::string& out) {
  out += fmt::format("{:{}}{}\n", "", 2 * depth, switch_label(f, job, share, node.switch_index));
  for (std::uint32_t child : node.child_switches)
    for (const manager::TreeSwitch& s : tree.switches)
      if (s.switch_index == child) text_of(f, job, share, tree, s, depth + 1, out);
  if (!node.child_hosts.empty()) {
    std::vector<std::string> hosts;
    for (std::uint32_t h : node.child_hosts) hosts.push_back(f.hosts[h].name);
    out += fmt::format("{:{}}hosts: {}\n", "", 2 * depth + 2, fmt::join(hosts, ", "));
  }
}

}  // namespace

std::vector<std::string> tree_lines(const FabricDescription& f, const JobGrant& grant) {
  std::vector<std::string> out;
  for (const AllocatedTree& t : grant.trees) out.push_back(describe_tree(f, t));
  return out;
}

std::string describe_tree(const FabricDescription& f, const AllocatedTree& tree) {
  return fmt::format("root {}, {} level(s), {} switch(es)", f.switches[tree.root].name, tree.levels,
                     tree.switches.size());
}

std::string job_tree_text(const FabricDescription& f, const JobSummary& job,
                          const std::vector<manager::Holding>& holdings) {
  if (!job.granted) return fmt::format("job '{}': no trees ({})\n", job.job, job.refusal);
  const auto share = shares(job, holdings);
  std::string out;
  for (std::size_t t = 0; t < job.grant.trees.size(); ++t) {
    const manager::AllocatedTree& tree = job.grant.trees[t];
    out += fmt::format("job '{}' tree {}: root {}, {} level(s)\n", job.job, t + 1,
                       f.switches[tree.root].name, tree.levels);
    for (const manager::TreeSwitch& s : tree.switches)
      if (s.parent < 0) text_of(f, job, share, tree, s, 1, out);
  }
  return out;
}

std::string job_tree_dot(const FabricDescription& f, const JobSummary& job,
                         const std::vector<manager::Holding>& holdings) {
  static const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  const auto share = shares(job, holdings);
  std::string out = fmt::format(
      "digraph \"{}\" {{\n"
      "  rankdir=BT; nodesep=0.2; ranksep=0.6;\n"
      "  node [fontname=\"Helvetica\", fontsize=10, style=filled, shape=box];\n",
      job.job);
  std::map<std::uint32_t, bool> drawn;
  for (std::size_t t = 0; t < job.grant.trees.size(); ++t) {
    const manager::AllocatedTree& tree = job.grant.trees[t];
    const char* colour = kColours[t % std::size(kColours)];
    for (const manager::TreeSwitch& s : tree.switches) {
      if (!drawn[s.switch_index]) {
        drawn[s.switch_index] = true;
        out += fmt::format("  \"{}\" [label=\"{}\", fillcolor=\"#dde8f5\"];\n",
                           f.switches[s.switch_index].name,
                           switch_label(f, job, share, s.switch_index));
      }
      if (s.parent >= 0)
        out +=
            fmt::format("  \"{}\" -> \"{}\" [color=\"{}\", penwidth=2, label=\"tree {}\"];\n",
                        f.switches[s.switch_index].name, f.switches[s.parent].name, colour, t + 1);
      for (std::uint32_t h : s.child_hosts)
        out += fmt::format("  \"{}\" -> \"{}\" [color=\"{}\"];\n", f.hosts[h].name,
                           f.switches[s.switch_index].name, colour);
    }
  }
  for (std::uint32_t h : job.hosts)
    out += fmt::format("  \"{}\" [shape=ellipse, fillcolor=\"#eeeeee\"];\n", f.hosts[h].name);
  return out + "}\n";
}

std::string holdings_table(const FabricDescription& f,
                           const std::vector<manager::Holding>& holdings) {
  std::string out = fmt::format("{:<16} {:<16} {:>6} {:>12} {:>4} {:>4} {:>7}\n", "switch", "job",
                                "slots", "buffer_B", "llt", "sat", "quota%");
  for (const manager::Holding& h : holdings)
    out += fmt::format("{:<16} {:<16} {:>6} {:>12} {:>4} {:>4} {:>7.0f}\n",
                       f.switches[h.switch_index].name, h.job, h.usage.slots, h.usage.payload_bytes,
                       h.usage.llt_trees, h.usage.sat_trees, 100 * h.quota_share);
  return out;
}

}  // namespace inca::jobs
