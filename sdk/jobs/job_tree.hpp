// A job's trees as `inca tree` shows them: as indented text (each switch with
// its children, the slots it gives the job per tree and the share of the
// job's quota it holds there), or as Graphviz DOT (one colour per tree, child
// to parent), and every switch's holdings as a table.
#pragma once

#include <string>
#include <vector>

#include "inca/job_description.hpp"
#include "jobs/job_checks.hpp"

namespace inca::jobs {

/// One line for a tree: "root spine0, 2 level(s), 3 switch(es)".
std::string describe_tree(const FabricDescription& fabric, const AllocatedTree& tree);
/// describe_tree of each of a grant's trees.
std::vector<std::string> tree_lines(const FabricDescription& fabric, const JobGrant& grant);
/// Indented text of the job's trees, root first.
std::string job_tree_text(const FabricDescription& fabric, const JobSummary& job,
                          const std::vector<manager::Holding>& holdings);
/// DOT text of the job's trees (`dot -Tsvg` renders it).
std::string job_tree_dot(const FabricDescription& fabric, const JobSummary& job,
                         const std::vector<manager::Holding>& holdings);
/// One row per switch and job: slots, payload buffer bytes, trees, quota share.
std::string holdings_table(const FabricDescription& fabric,
                           const std::vector<manager::Holding>& holdings);

}  // namespace inca::jobs
