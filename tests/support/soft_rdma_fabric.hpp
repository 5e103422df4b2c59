// An emulated RDMA fabric for the verbs transport's tests, where no NIC
// exists: one VerbsQueues per rank, modelling what the transport relies on
// from a RoCEv2 NIC and nothing more.
// - Memory registration hands out lkeys and rkeys; a write must lie inside
//   a region of the right key (remote writes need remote-write access), or
//   it fails as a protection error would.
// - An RDMA WRITE with immediate on an RC channel lands in the peer's
//   memory and completes one of the peer's receive requests on the channel
//   back to the sender; without one posted it waits, as receiver-not-ready
//   retries do, and lands when one is posted. The sender's completion comes
//   once it landed.
// - On the switch channel it leaves as a RoCEv2 frame (UC RDMA WRITE_ONLY
//   with immediate, this rank's next PSN, the driver's own rkey, address and
//   immediate) into a real SwitchPipeline on the rank's port; the switch's
//   frames for the rank are checked as a UC responder would
//   (RoceHost::take_result: ICRC, opcode, QPN, PSN, ring entry) and land
//   where their RETH says; a result without a posted receive is dropped.
// Completions wake the rank waiting on its queues.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "dpdk/roce_frame.hpp"
#include "dpdk/roce_host.hpp"
#include "dpdk/switch_pipeline.hpp"
#include "verbs_transport/verbs_queues.hpp"

namespace inca::test {

class SoftRdmaFabric {
 public:
  /// `ranks` NICs; the switch, when given, has rank r on port r.
  explicit SoftRdmaFabric(std::uint32_t ranks, dpdk_switch::SwitchPipeline* sw = nullptr)
      : sw_(sw), nics_(ranks) {
    for (std::uint32_t r = 0; r < ranks; ++r) {
      nics_[r].fabric = this;
      nics_[r].rank = r;
    }
  }
  SoftRdmaFabric(const SoftRdmaFabric&) = delete;
  SoftRdmaFabric& operator=(const SoftRdmaFabric&) = delete;

  /// Rank r's NIC (owned by the fabric).
  verbs::VerbsQueues& nic(std::uint32_t rank) { return nics_[rank]; }
  /// Connects rank r's switch channel: `host` plays its NIC on the wire.
  void attach_switch(std::uint32_t rank, const dpdk_switch::RoceHostConfig& host,
                     const wire::QpInfo& sw) {
    std::lock_guard lock(mu_);
    nics_[rank].host.emplace(host);
    nics_[rank].host->connected(sw);
  }
  /// Drops the next `n` writes rank r sends to the switch (lost on the wire).
  void lose_switch_writes(std::uint32_t rank, int n) {
    std::lock_guard lock(mu_);
    nics_[rank].lose = n;
  }
  std::uint64_t results_refused() const { return refused_; }
  std::uint64_t results_without_receive() const { return unreceived_; }

 private:
  struct Region {
    std::byte* addr;
    std::size_t bytes;
    bool remote_write;
  };
  struct Pending {  // an RC write waiting for a receive request
    std::uint32_t to, from;
    std::uint64_t va;
    std::uint32_t rkey, immediate;
    std::vector<std::byte> data;
    std::uint64_t wr_id;
  };

  class Nic final : public verbs::VerbsQueues {
   public:
    SoftRdmaFabric* fabric = nullptr;
    std::uint32_t rank = 0;
    std::map<std::uint32_t, Region> regions;          // by key (lkey == rkey here)
    std::map<std::uint32_t, std::uint32_t> receives;  // posted, by channel
    std::deque<verbs::Completion> completions;
    std::condition_variable ready;
    std::optional<dpdk_switch::RoceHost> host;
    int lose = 0;

    Result<verbs::MemoryRegion> register_memory(std::byte* addr, std::size_t bytes,
                                                bool remote_write) override {
      std::lock_guard lock(fabric->mu_);
      const std::uint32_t key = ++fabric->next_key_;
      regions[key] = {addr, bytes, remote_write};
      return verbs::MemoryRegion{addr, bytes, key, key, key};
    }
    void deregister(const verbs::MemoryRegion& r) override {
      std::lock_guard lock(fabric->mu_);
      regions.erase(r.lkey);
    }
    Status write_imm(std::uint32_t channel, verbs::LocalBuffer src, std::uint64_t va,
                     std::uint32_t rkey, std::uint32_t immediate, std::uint64_t wr_id) override {
      std::lock_guard lock(fabric->mu_);
      return fabric->write(*this, channel, src, va, rkey, immediate, wr_id);
    }
    Status post_receive(std::uint32_t channel) override {
      std::lock_guard lock(fabric->mu_);
      ++receives[channel];
      fabric->deliver_waiting(rank, channel);
      return {};
    }
    std::size_t poll(std::span<verbs::Completion> out) override {
      std::lock_guard lock(fabric->mu_);
      std::size_t n = 0;
      for (; n < out.size() && !completions.empty(); ++n) {
        out[n] = std::move(completions.front());
        completions.pop_front();
      }
      return n;
    }
    void wait(Time timeout) override {
      std::unique_lock lock(fabric->mu_);
      ready.wait_for(lock, std::chrono::nanoseconds(timeout / kPicosPerNano),
                     [&] { return !completions.empty(); });
    }
  };

  void complete(Nic& nic, verbs::Completion c) {
    nic.completions.push_back(std::move(c));
    nic.ready.notify_all();
  }

  // Where [va, va + bytes) lies in `nic`'s memory under `rkey`, or null.
  std::byte* resolve(Nic& nic, std::uint64_t va, std::uint32_t rkey, std::size_t bytes,
                     bool remote) {
    const auto it = nic.regions.find(rkey);
    if (it == nic.regions.end() || (remote && !it->second.remote_write)) return nullptr;
    const auto base = reinterpret_cast<std::uint64_t>(it->second.addr);
    if (va < base || va + bytes > base + it->second.bytes) return nullptr;
    return reinterpret_cast<std::byte*>(va);
  }

  // Lands a write in `to`'s memory and completes a receive request there.
  bool land(Nic& to, std::uint32_t channel, std::uint64_t va, std::uint32_t rkey,
            std::uint32_t immediate, std::span<const std::byte> data) {
    std::byte* dst = resolve(to, va, rkey, data.size(), true);
    if (dst == nullptr || to.receives[channel] == 0) return false;
    --to.receives[channel];
    if (!data.empty()) std::memcpy(dst, data.data(), data.size());
    complete(to, {verbs::Completion::Kind::received,
                  channel,
                  immediate,
                  static_cast<std::uint32_t>(data.size()),
                  0,
                  {}});
    return true;
  }

  void deliver_waiting(std::uint32_t rank, std::uint32_t channel) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->to != rank || it->from != channel) {
        ++it;
        continue;
      }
      if (!land(nics_[rank], channel, it->va, it->rkey, it->immediate, it->data)) return;
      complete(nics_[it->from], {verbs::Completion::Kind::sent, rank, 0, 0, it->wr_id, {}});
      it = waiting_.erase(it);
    }
  }

  Status write(Nic& from, std::uint32_t channel, verbs::LocalBuffer src, std::uint64_t va,
               std::uint32_t rkey, std::uint32_t immediate, std::uint64_t wr_id) {
    if (src.bytes > 0 && resolve(from, reinterpret_cast<std::uint64_t>(src.addr), src.lkey,
                                 src.bytes, false) == nullptr) {
      complete(from,
               {verbs::Completion::Kind::failed, channel, 0, 0, wr_id, "local protection error"});
      return {};
    }
    const std::span<const std::byte> data(src.addr, src.bytes);
    if (channel == verbs::kSwitchChannel) return to_switch(from, data, va, rkey, immediate, wr_id);
    if (channel >= nics_.size() || channel == from.rank)
      return make_error(StatusCode::invalid_argument, "no such queue pair");
    Nic& to = nics_[channel];
    const bool in_order = std::none_of(waiting_.begin(), waiting_.end(), [&](const Pending& p) {
      return p.to == channel && p.from == from.rank;
    });
    if (in_order && land(to, from.rank, va, rkey, immediate, data)) {
      complete(from, {verbs::Completion::Kind::sent, channel, 0, 0, wr_id, {}});
      return {};
    }
    if (resolve(to, va, rkey, data.size(), true) == nullptr) {
      complete(from,
               {verbs::Completion::Kind::failed, channel, 0, 0, wr_id, "remote access error"});
      return {};
    }
    waiting_.push_back(
        {channel, from.rank, va, rkey, immediate, {data.begin(), data.end()}, wr_id});
    return {};
  }

  Status to_switch(Nic& from, std::span<const std::byte> data, std::uint64_t va, std::uint32_t rkey,
                   std::uint32_t immediate, std::uint64_t wr_id) {
    complete(from, {verbs::Completion::Kind::sent, verbs::kSwitchChannel, 0, 0, wr_id, {}});
    if (sw_ == nullptr || !from.host) return {};
    dpdk_switch::RoceHost& host = *from.host;
    dpdk_switch::RoceHeaders h;
    h.src = host.config().self;
    h.dst = {host.config().switch_port.mac, host.config().switch_port.ipv4,
             dpdk_switch::kRoceUdpPort};
    h.dest_qp = host.switch_qpn();
    h.psn = host.next_psn();
    host.set_next_psn(h.psn + 1);
    h.reth = dpdk_switch::Reth{va, rkey, static_cast<std::uint32_t>(data.size())};
    h.immediate = immediate;
    if (from.lose > 0) {
      --from.lose;
      return {};
    }
    std::vector<std::byte> head(dpdk_switch::kRoceWriteImmHeadBytes);
    std::vector<std::byte> tail(dpdk_switch::kRoceMaxTailBytes);
    const auto sizes = dpdk_switch::write_roce_frame(head, tail, h, data);
    std::vector<std::byte> frame(head.begin(), head.begin() + static_cast<long>(sizes.head));
    frame.insert(frame.end(), data.begin(), data.end());
    frame.insert(frame.end(), tail.begin(), tail.begin() + static_cast<long>(sizes.tail));
    const auto verdict = sw_->on_frame(static_cast<std::uint16_t>(from.rank), frame, ++now_);
    for (const dpdk_switch::TxFrame& tx : verdict.transmit) {
      std::vector<std::byte> out(tx.head.begin(), tx.head.end());
      out.insert(out.end(), tx.body.begin(), tx.body.end());
      out.insert(out.end(), tx.tail.begin(), tx.tail.end());
      Nic& to = nics_[tx.port];
      std::span<const std::byte> inca;
      if (!to.host || to.host->take_result(out, inca) != dpdk_switch::RoceResultError::none) {
        ++refused_;
        continue;
      }
      dpdk_switch::ParsedFrame f;
      dpdk_switch::RocePacket p;
      dpdk_switch::parse_frame(out, f);
      dpdk_switch::parse_roce(f, p);
      if (!land(to, verbs::kSwitchChannel, p.reth->va, p.reth->rkey, *p.immediate, inca))
        ++unreceived_;
    }
    return {};
  }

  std::mutex mu_;
  dpdk_switch::SwitchPipeline* sw_;
  std::vector<Nic> nics_;
  std::deque<Pending> waiting_;
  std::uint32_t next_key_ = 0x100;
  std::uint64_t now_ = 0;
  std::uint64_t refused_ = 0;
  std::uint64_t unreceived_ = 0;
};

}  // namespace inca::test
