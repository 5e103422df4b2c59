#include "ibverbs_queues.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace inca::verbs {
namespace {

constexpr std::uint32_t kPsnMask = 0xffffff;
constexpr std::uint64_t kReceiveWrId = ~0ull;  // receive requests carry their channel in the QP
constexpr int kCompletionQueueDepth = 65536;
constexpr std::uint8_t kHopLimit = 64;
// RC: a local ACK timeout of 4.096 us x 2^14 (~67 ms), 7 retries, and
// receiver-not-ready retried without end (7), waiting 0.96 ms (12) between:
// a peer whose receive requests are all in use is waited for, never failed.
constexpr std::uint8_t kAckTimeout = 14;
constexpr std::uint8_t kRetries = 7;
constexpr std::uint8_t kRnrRetries = 7;
constexpr std::uint8_t kMinRnrTimer = 12;

Status verbs_error(std::string_view call, int err) {
  return make_error(StatusCode::io_error, fmt::format("{}: {}", call, std::strerror(err)));
}

ibv_mtu mtu_enum(std::uint32_t bytes) {
  switch (bytes) {
    case 256:
      return IBV_MTU_256;
    case 512:
      return IBV_MTU_512;
    case 2048:
      return IBV_MTU_2048;
    case 4096:
      return IBV_MTU_4096;
    default:
      return IBV_MTU_1024;
  }
}

}  // namespace

IbvQueues::IbvQueues(RoceAddress address, std::uint32_t rank, QueueSizes sizes)
    : address_(std::move(address)),
      rank_(rank),
      sizes_(sizes),
      psn_random_(std::random_device{}()) {}

Result<std::unique_ptr<IbvQueues>> IbvQueues::open(const RoceAddress& address, std::uint32_t rank,
                                                   std::uint32_t ranks, QueueSizes sizes) {
  std::unique_ptr<IbvQueues> q(new IbvQueues(address, rank, sizes));
  INCA_RETURN_IF_ERROR(q->create(ranks));
  return q;
}

Status IbvQueues::create(std::uint32_t ranks) {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list == nullptr) return verbs_error("ibv_get_device_list", errno);
  for (int i = 0; i < n && context_ == nullptr; ++i)
    if (address_.device == ibv_get_device_name(list[i])) context_ = ibv_open_device(list[i]);
  ibv_free_device_list(list);
  if (context_ == nullptr)
    return make_error(StatusCode::io_error,
                      fmt::format("cannot open RDMA device {}", address_.device));
  if ((pd_ = ibv_alloc_pd(context_)) == nullptr) return verbs_error("ibv_alloc_pd", errno);
  if ((channel_ = ibv_create_comp_channel(context_)) == nullptr)
    return verbs_error("ibv_create_comp_channel", errno);
  // The channel's descriptor is polled with a timeout, never read blocking.
  ::fcntl(channel_->fd, F_SETFL, ::fcntl(channel_->fd, F_GETFL) | O_NONBLOCK);
  if ((cq_ = ibv_create_cq(context_, kCompletionQueueDepth, nullptr, channel_, 0)) == nullptr)
    return verbs_error("ibv_create_cq", errno);
  auto uc = create_qp(false);
  if (!uc) return uc.status();
  uc_ = *uc;
  channel_of_qp_[uc_->qp_num] = kSwitchChannel;
  switch_psn_ = psn_random_() & kPsnMask;
  rc_.assign(ranks, nullptr);
  rc_psn_.assign(ranks, 0);
  for (std::uint32_t r = 0; r < ranks; ++r) {
    if (r == rank_) continue;
    auto rc = create_qp(true);
    if (!rc) return rc.status();
    rc_[r] = *rc;
    rc_psn_[r] = psn_random_() & kPsnMask;
    channel_of_qp_[rc_[r]->qp_num] = r;
  }
  return {};
}

Result<ibv_qp*> IbvQueues::create_qp(bool reliable) {
  ibv_qp_init_attr init{};
  init.send_cq = cq_;
  init.recv_cq = cq_;
  init.qp_type = reliable ? IBV_QPT_RC : IBV_QPT_UC;
  init.cap.max_send_wr = sizes_.send_requests;
  init.cap.max_recv_wr = sizes_.receive_requests;
  init.cap.max_send_sge = 1;
  init.cap.max_recv_sge = 1;
  ibv_qp* qp = ibv_create_qp(pd_, &init);
  if (qp == nullptr)
    return verbs_error(reliable ? "ibv_create_qp(RC)" : "ibv_create_qp(UC)", errno);
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = address_.port;
  attr.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
  if (const int rc = ibv_modify_qp(
          qp, &attr, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
      rc != 0) {
    ibv_destroy_qp(qp);
    return verbs_error("ibv_modify_qp(INIT)", rc);
  }
  return qp;
}

IbvQueues::~IbvQueues() {
  for (ibv_qp* qp : rc_)
    if (qp) ibv_destroy_qp(qp);
  if (uc_) ibv_destroy_qp(uc_);
  if (cq_) ibv_destroy_cq(cq_);
  if (channel_) ibv_destroy_comp_channel(channel_);
  if (pd_) ibv_dealloc_pd(pd_);
  if (context_) ibv_close_device(context_);
}

std::uint32_t IbvQueues::switch_qpn() const {
  return uc_->qp_num;
}
std::uint32_t IbvQueues::peer_qpn(std::uint32_t rank) const {
  return rank < rc_.size() && rc_[rank] ? rc_[rank]->qp_num : 0;
}
std::uint32_t IbvQueues::peer_psn(std::uint32_t rank) const {
  return rank < rc_psn_.size() ? rc_psn_[rank] : 0;
}

ibv_qp* IbvQueues::qp_of(std::uint32_t channel) const {
  if (channel == kSwitchChannel) return uc_;
  return channel < rc_.size() ? rc_[channel] : nullptr;
}

Status IbvQueues::to_rtr_rts(ibv_qp* qp, bool reliable, const std::array<std::uint8_t, 16>& gid,
                             std::uint32_t qpn, std::uint32_t rq_psn, std::uint32_t sq_psn) {
  ibv_qp_attr attr{};
  attr.qp_state = IBV_QPS_RTR;
  attr.path_mtu = mtu_enum(address_.mtu);
  attr.dest_qp_num = qpn;
  attr.rq_psn = rq_psn;
  attr.ah_attr.is_global = 1;  // RoCE addresses by GID
  std::memcpy(attr.ah_attr.grh.dgid.raw, gid.data(), gid.size());
  attr.ah_attr.grh.sgid_index = static_cast<std::uint8_t>(address_.gid_index);
  attr.ah_attr.grh.hop_limit = kHopLimit;
  attr.ah_attr.grh.traffic_class = sizes_.traffic_class;
  attr.ah_attr.port_num = address_.port;
  int mask = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN;
  if (reliable) {
    attr.max_dest_rd_atomic = 1;
    attr.min_rnr_timer = kMinRnrTimer;
    mask |= IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
  }
  if (const int rc = ibv_modify_qp(qp, &attr, mask); rc != 0)
    return verbs_error("ibv_modify_qp(RTR)", rc);
  attr = {};
  attr.qp_state = IBV_QPS_RTS;
  attr.sq_psn = sq_psn;
  mask = IBV_QP_STATE | IBV_QP_SQ_PSN;
  if (reliable) {
    attr.timeout = kAckTimeout;
    attr.retry_cnt = kRetries;
    attr.rnr_retry = kRnrRetries;
    attr.max_rd_atomic = 1;
    mask |= IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC;
  }
  if (const int rc = ibv_modify_qp(qp, &attr, mask); rc != 0)
    return verbs_error("ibv_modify_qp(RTS)", rc);
  return {};
}

Status IbvQueues::connect_switch(std::uint32_t switch_ip, std::uint32_t qpn, std::uint32_t psn) {
  return to_rtr_rts(uc_, false, ipv4_gid(switch_ip), qpn, psn, switch_psn_);
}

Status IbvQueues::connect_peer(std::uint32_t rank, const std::array<std::uint8_t, 16>& gid,
                               std::uint32_t qpn, std::uint32_t psn) {
  ibv_qp* qp = qp_of(rank);
  if (rank == kSwitchChannel || qp == nullptr)
    return make_error(StatusCode::invalid_argument, fmt::format("no queue pair for rank {}", rank));
  return to_rtr_rts(qp, true, gid, qpn, psn, rc_psn_[rank]);
}

Result<MemoryRegion> IbvQueues::register_memory(std::byte* addr, std::size_t bytes,
                                                bool remote_write) {
  const int access = IBV_ACCESS_LOCAL_WRITE | (remote_write ? IBV_ACCESS_REMOTE_WRITE : 0);
  ibv_mr* mr = ibv_reg_mr(pd_, addr, bytes, access);
  if (mr == nullptr) return verbs_error(fmt::format("ibv_reg_mr({} bytes)", bytes), errno);
  return MemoryRegion{addr, bytes, mr->lkey, mr->rkey, reinterpret_cast<std::uint64_t>(mr)};
}

void IbvQueues::deregister(const MemoryRegion& region) {
  ibv_dereg_mr(reinterpret_cast<ibv_mr*>(region.handle));
}

Status IbvQueues::write_imm(std::uint32_t channel, LocalBuffer src, std::uint64_t remote_va,
                            std::uint32_t rkey, std::uint32_t immediate, std::uint64_t wr_id) {
  ibv_qp* qp = qp_of(channel);
  if (qp == nullptr)
    return make_error(StatusCode::invalid_argument, fmt::format("no queue pair {}", channel));
  ibv_sge sge{};
  sge.addr = reinterpret_cast<std::uint64_t>(src.addr);
  sge.length = static_cast<std::uint32_t>(src.bytes);
  sge.lkey = src.lkey;
  ibv_send_wr wr{};
  ibv_send_wr* bad = nullptr;
  wr.wr_id = wr_id;
  wr.sg_list = src.bytes > 0 ? &sge : nullptr;
  wr.num_sge = src.bytes > 0 ? 1 : 0;
  wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.imm_data = htonl(immediate);
  wr.wr.rdma.remote_addr = remote_va;
  wr.wr.rdma.rkey = rkey;
  if (const int rc = ibv_post_send(qp, &wr, &bad); rc != 0) return verbs_error("ibv_post_send", rc);
  return {};
}

Status IbvQueues::post_receive(std::uint32_t channel) {
  ibv_qp* qp = qp_of(channel);
  if (qp == nullptr)
    return make_error(StatusCode::invalid_argument, fmt::format("no queue pair {}", channel));
  // An RDMA WRITE with immediate places its data by RETH; the receive
  // request only stands for its completion, so it has no buffer.
  ibv_recv_wr wr{};
  ibv_recv_wr* bad = nullptr;
  wr.wr_id = kReceiveWrId;
  if (const int rc = ibv_post_recv(qp, &wr, &bad); rc != 0) return verbs_error("ibv_post_recv", rc);
  return {};
}

Completion IbvQueues::translate(const ibv_wc& wc) const {
  Completion c;
  const auto it = channel_of_qp_.find(wc.qp_num);
  c.channel = it == channel_of_qp_.end() ? 0 : it->second;
  c.wr_id = wc.wr_id;
  if (wc.status != IBV_WC_SUCCESS) {
    c.kind = Completion::Kind::failed;
    c.error = fmt::format("{} (vendor syndrome {:#x}) on queue pair {:#x}",
                          ibv_wc_status_str(wc.status), wc.vendor_err, wc.qp_num);
    return c;
  }
  if (wc.opcode == IBV_WC_RECV_RDMA_WITH_IMM) {
    c.kind = Completion::Kind::received;
    c.immediate = ntohl(wc.imm_data);
    c.bytes = wc.byte_len;
  } else {
    c.kind = Completion::Kind::sent;
  }
  return c;
}

std::size_t IbvQueues::poll(std::span<Completion> out) {
  std::size_t n = 0;
  while (n < out.size() && !pending_.empty()) {
    out[n++] = std::move(pending_.front());
    pending_.pop_front();
  }
  ibv_wc wc[32];
  while (n < out.size()) {
    const int want = static_cast<int>(std::min<std::size_t>(32, out.size() - n));
    const int got = ibv_poll_cq(cq_, want, wc);
    if (got <= 0) break;
    for (int i = 0; i < got; ++i) out[n++] = translate(wc[i]);
  }
  return n;
}

void IbvQueues::wait(Time timeout) {
  // Arm first, then look once more: a completion that came in between
  // would not raise the event.
  if (ibv_req_notify_cq(cq_, 0) != 0) return;
  ibv_wc wc;
  if (ibv_poll_cq(cq_, 1, &wc) == 1) {
    pending_.push_back(translate(wc));
    return;
  }
  pollfd p{channel_->fd, POLLIN, 0};
  const int ms = static_cast<int>(std::max<Time>(1, timeout / kPicosPerMilli));
  if (::poll(&p, 1, ms) <= 0) return;
  ibv_cq* cq = nullptr;
  void* context = nullptr;
  if (ibv_get_cq_event(channel_, &cq, &context) == 0) ibv_ack_cq_events(cq, 1);
}

}  // namespace inca::verbs
