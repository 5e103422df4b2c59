#include "udp/star_job.hpp"

#include <fmt/format.h>

#include "topology/topology.hpp"

namespace inca::udp {

manager::TreeRequest tree_request(const JobSpec& job) {
  manager::TreeRequest request;
  request.job = job.job;
  request.key_tag = job.key_tag;
  for (std::uint32_t h = 0; h < job.ranks; ++h) request.hosts.push_back(h);
  request.slots = job.slots;
  request.max_payload_bytes = job.slot_bytes;
  return request;
}

Result<manager::TreePlan> install_star_tree(manager::SwitchControlClient& client,
                                            const JobSpec& job,
                                            std::span<const std::uint16_t> ports) {
  if (!ports.empty() && ports.size() != job.ranks)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} switch ports for {} ranks", ports.size(), job.ranks));
  topology::SwitchSpec spec;
  spec.slots = job.switch_slots;
  spec.slot_payload_bytes = job.slot_bytes;
  auto topo = topology::Topology::star(job.ranks, {}, spec);
  if (!topo.ok()) return topo.status();
  manager::AggregationManager manager(*topo);
  auto plan = manager.allocate(tree_request(job));
  if (!plan.ok()) return plan.status();
  // One switch: topology port h leads to host h, which is rank h.
  for (auto& [node, install] : plan->installs) {
    if (!ports.empty())
      for (std::uint16_t& port : install.child_ports) port = ports[port];
    INCA_RETURN_IF_ERROR(client.install(install));
  }
  return plan;
}

}  // namespace inca::udp
