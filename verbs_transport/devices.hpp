// RDMA device and GID discovery on libibverbs: every port of every device,
// its state, link layer, MTU, speed and GID table with each GID's type
// (IB, RoCEv1, RoCEv2) and the Ethernet interface behind it. A machine
// without RDMA is a clear not_supported: ibv_get_device_list fails with
// ENOSYS where the kernel has no RDMA support, and returns an empty list
// where it has support but no device.
#pragma once

#include <vector>

#include "inca/status.hpp"
#include "roce_address.hpp"

namespace inca::verbs {

/// Every RDMA port found; not_supported when there is no RDMA stack or no
/// device (the message says which and what to do), io_error when a device
/// cannot be opened or queried.
Result<std::vector<VerbsPort>> discover_ports();

}  // namespace inca::verbs
