// --pcap: a pcapng capture of the switch's ports, written with DPDK's
// rte_pcapng (one interface block per ethdev; received frames as inbound,
// frames queued for transmission as outbound).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "inca/status.hpp"

struct rte_mbuf;
struct rte_mempool;
struct rte_pcapng;

namespace inca::dpdk_switch {

class PcapWriter {
 public:
  /// Opens (truncates) `path`. Call after the ports are probed: the file's
  /// interface blocks describe the ethdevs that exist at this point.
  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path, std::uint32_t max_frame);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  /// Records frames seen on ethdev `port_id`: `outbound` false for received.
  void capture(std::uint16_t port_id, rte_mbuf* const* frames, std::uint16_t n, bool outbound);
  std::uint64_t written() const { return written_; }
  std::uint64_t failed() const { return failed_; }

 private:
  PcapWriter() = default;

  int fd_ = -1;
  rte_pcapng* pcapng_ = nullptr;
  rte_mempool* pool_ = nullptr;
  std::uint64_t written_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace inca::dpdk_switch
