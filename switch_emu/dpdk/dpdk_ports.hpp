// EAL-side setup shared by inca-switch and inca-loadgen: the mbuf pool and
// the ports (every ethdev the EAL probed, one RX and one TX queue each).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dpdk/switch_pipeline.hpp"
#include "inca/status.hpp"

struct rte_mempool;

namespace inca::dpdk_switch {

/// A started port: its ethdev id and what the pipeline knows of it.
struct DpdkPort {
  std::uint16_t id = 0;
  PortIdentity identity;
  /// Frames already in the receive ring when the port started, discarded
  /// unseen (start_ports says why).
  std::uint64_t discarded_at_start = 0;
};

/// Initialises the EAL from argv (everything before "--"); io_error with
/// the EAL's reason on failure.
Status init_eal(int argc, char** argv);

/// Fails (config_error, naming the device) when a `--vdev` of the EAL
/// arguments did not become an ethdev. The EAL only logs a failed probe and
/// carries on, which would silently renumber the ports after it.
Status check_vdevs_probed(int argc, char** argv);

/// Ethdevs the EAL probed.
std::uint16_t probed_ports();

/// A pool sized for `ports` ports whose mbufs hold `max_frame` bytes
/// unchained.
Result<rte_mempool*> create_mbuf_pool(const char* name, std::uint16_t ports,
                                      std::uint32_t max_frame);

/// Configures and starts every probed ethdev (promiscuous where supported),
/// in ethdev-id order: switch port i is the i-th probed device. Fails when
/// there are none. Whatever the ports received before all of them were up
/// is discarded, not switched: an af_packet port's socket is created
/// listening to every interface and only bound to its own after its ring is
/// mapped, so its ring can hold other interfaces' frames from that window.
Result<std::vector<DpdkPort>> start_ports(rte_mempool* pool, std::uint32_t max_frame);

/// True when the ethdev's link is up.
bool link_up(std::uint16_t port_id);

/// True when every port's link is up.
bool links_up(const std::vector<DpdkPort>& ports);

/// Stops and closes the ports (errors are logged, not returned: this runs
/// on the way out).
void stop_ports(const std::vector<DpdkPort>& ports);

/// Nanoseconds since an arbitrary origin, from the TSC.
std::uint64_t tsc_to_ns(std::uint64_t tsc);

}  // namespace inca::dpdk_switch
