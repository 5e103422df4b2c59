// VerbsQueues on libibverbs: one protection domain, one completion queue
// with a completion channel (a waiting rank sleeps in poll(2) on it), one UC
// queue pair toward inca-switch and one RC queue pair per peer rank, all on
// the port and RoCEv2 GID of a RoceAddress. Queue pairs are created in INIT
// and brought to RTR/RTS once the other side's number and first PSN are
// known: the switch's from its connect_qp reply, a peer's from the
// bootstrap exchange. Why UC and RC: docs/verbs.md.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "roce_address.hpp"
#include "verbs_queues.hpp"

struct ibv_context;
struct ibv_pd;
struct ibv_comp_channel;
struct ibv_cq;
struct ibv_qp;
struct ibv_wc;

namespace inca::verbs {

struct QueueSizes {
  std::uint32_t send_requests = 1024;     ///< per queue pair
  std::uint32_t receive_requests = 1024;  ///< per queue pair
  std::uint8_t traffic_class = 26 << 2;   ///< DSCP 26 in the IPv4 TOS (ECN bits the NIC sets)
};

class IbvQueues final : public VerbsQueues {
 public:
  /// Opens the device of `address` and creates the queues; peers are the
  /// ranks other than `rank`. io_error naming the verbs call that failed.
  static Result<std::unique_ptr<IbvQueues>> open(const RoceAddress& address, std::uint32_t rank,
                                                 std::uint32_t ranks, QueueSizes sizes = {});
  ~IbvQueues() override;
  IbvQueues(const IbvQueues&) = delete;
  IbvQueues& operator=(const IbvQueues&) = delete;

  const RoceAddress& address() const { return address_; }
  /// This side's queue pair numbers and first PSNs (published to the others).
  std::uint32_t switch_qpn() const;
  std::uint32_t switch_psn() const { return switch_psn_; }
  std::uint32_t peer_qpn(std::uint32_t rank) const;
  std::uint32_t peer_psn(std::uint32_t rank) const;

  /// UC queue pair to RTR and RTS toward the switch's queue pair `qpn` (its
  /// first PSN `psn`) at IPv4 `switch_ip`.
  Status connect_switch(std::uint32_t switch_ip, std::uint32_t qpn, std::uint32_t psn);
  /// RC queue pair of `rank` to RTR and RTS toward that rank's queue pair
  /// `qpn` (first PSN `psn`) at `gid`.
  Status connect_peer(std::uint32_t rank, const std::array<std::uint8_t, 16>& gid,
                      std::uint32_t qpn, std::uint32_t psn);

  Result<MemoryRegion> register_memory(std::byte* addr, std::size_t bytes,
                                       bool remote_write) override;
  void deregister(const MemoryRegion& region) override;
  Status write_imm(std::uint32_t channel, LocalBuffer src, std::uint64_t remote_va,
                   std::uint32_t rkey, std::uint32_t immediate, std::uint64_t wr_id) override;
  Status post_receive(std::uint32_t channel) override;
  std::size_t poll(std::span<Completion> out) override;
  void wait(Time timeout) override;

 private:
  IbvQueues(RoceAddress address, std::uint32_t rank, QueueSizes sizes);
  Status create(std::uint32_t ranks);
  Result<ibv_qp*> create_qp(bool reliable);
  ibv_qp* qp_of(std::uint32_t channel) const;
  Status to_rtr_rts(ibv_qp* qp, bool reliable, const std::array<std::uint8_t, 16>& gid,
                    std::uint32_t qpn, std::uint32_t rq_psn, std::uint32_t sq_psn);
  Completion translate(const ibv_wc& wc) const;

  RoceAddress address_;
  std::uint32_t rank_;
  QueueSizes sizes_;
  ibv_context* context_ = nullptr;
  ibv_pd* pd_ = nullptr;
  ibv_comp_channel* channel_ = nullptr;
  ibv_cq* cq_ = nullptr;
  ibv_qp* uc_ = nullptr;
  std::vector<ibv_qp*> rc_;  // by rank; null for this rank
  std::vector<std::uint32_t> rc_psn_;
  std::uint32_t switch_psn_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> channel_of_qp_;
  std::deque<Completion> pending_;  // taken while arming the notification
  std::mt19937 psn_random_;
};

}  // namespace inca::verbs
