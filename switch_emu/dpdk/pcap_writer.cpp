#include "dpdk/pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace inca::dpdk_switch {
namespace {

constexpr unsigned kCopies = 4095;  // frames in flight between copy and write
constexpr std::uint16_t kBatch = 64;

}  // namespace

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path,
                                                     std::uint32_t max_frame) {
  std::unique_ptr<PcapWriter> w(new PcapWriter());
  w->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd_ < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("--pcap {}: {}", path, std::strerror(errno)));
  w->pool_ = rte_pktmbuf_pool_create("inca_pcapng", kCopies, 0, 0,
                                     static_cast<std::uint16_t>(rte_pcapng_mbuf_size(max_frame)),
                                     static_cast<int>(rte_socket_id()));
  if (w->pool_ == nullptr)
    return make_error(StatusCode::no_resource, fmt::format("--pcap {}: capture buffer pool: {}",
                                                           path, rte_strerror(rte_errno)));
  w->pcapng_ = rte_pcapng_fdopen(w->fd_, nullptr, nullptr, "inca-switch", nullptr);
  if (w->pcapng_ == nullptr)
    return make_error(StatusCode::io_error,
                      fmt::format("--pcap {}: {}", path, rte_strerror(rte_errno)));
  return w;
}

PcapWriter::~PcapWriter() {
  // rte_pcapng_close closes the descriptor it was given.
  if (pcapng_ != nullptr)
    rte_pcapng_close(pcapng_);
  else if (fd_ >= 0)
    ::close(fd_);
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

void PcapWriter::capture(std::uint16_t port_id, rte_mbuf* const* frames, std::uint16_t n,
                         bool outbound) {
  const auto direction = outbound ? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN;
  const std::uint64_t now = rte_get_tsc_cycles();
  rte_mbuf* copies[kBatch];
  for (std::uint16_t done = 0; done < n;) {
    std::uint16_t k = 0;
    for (; k < kBatch && done < n; ++done) {
      rte_mbuf* c = rte_pcapng_copy(port_id, 0, frames[done], pool_, UINT32_MAX, now, direction);
      if (c == nullptr) {
        ++failed_;
        continue;
      }
      copies[k++] = c;
    }
    if (k == 0) continue;
    if (rte_pcapng_write_packets(pcapng_, copies, k) < 0)
      failed_ += k;
    else
      written_ += k;
  }
}

}  // namespace inca::dpdk_switch
