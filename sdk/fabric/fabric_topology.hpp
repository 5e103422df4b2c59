// A described fabric as the graph every fabric runs on: switches first (in
// description order, so their node ids follow it), then hosts, then each
// link in order (a switch numbers its ports by the order of its links).
#pragma once

#include "inca/fabric_description.hpp"
#include "inca/status.hpp"
#include "topology/topology.hpp"

namespace inca::fabric_file {

/// invalid_argument (with the first problem) when a link does not resolve;
/// load() has reported every problem already for files.
Result<topology::Topology> build_topology(const FabricDescription& fabric);

}  // namespace inca::fabric_file
