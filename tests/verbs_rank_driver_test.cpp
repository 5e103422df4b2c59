// The verbs rank driver without a NIC: ranks as threads, each with its
// driver on an emulated RoCEv2 NIC (support/soft_rdma_fabric.hpp), their
// contributions going as RDMA WRITEs with immediate through a real
// inca-switch pipeline and their point-to-point traffic as RC writes into
// each other's rings. Every collective, in-network and host, must be exact;
// writes lost on the way to the switch are repaired by the protocol.
#include "verbs_transport/verbs_rank_driver.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <fmt/format.h>

#include "dpdk/roce_host.hpp"
#include "dpdk/switch_pipeline.hpp"
#include "inca/communicator.hpp"
#include "manager/aggregation_manager.hpp"
#include "manager/switch_control_client.hpp"
#include "support/soft_rdma_fabric.hpp"

namespace inca::verbs {
namespace {

constexpr std::uint32_t kSwitchIp = 0x0a5d00fe;
constexpr std::uint32_t kJob = 21;
constexpr std::uint32_t kKey = 0xfeed;
constexpr std::uint16_t kTree = 5;
constexpr std::uint32_t kWindow = 16;
constexpr std::uint32_t kSlotBytes = 256;
constexpr std::uint32_t kP2pBytes = 1400;

wire::MacAddress port_mac(std::uint32_t i) {
  return {0x02, 0x5e, 0, 0, 0, static_cast<std::uint8_t>(i)};
}

dpdk_switch::SwitchPipeline make_switch(std::uint32_t ranks) {
  dpdk_switch::PipelineConfig cfg;
  cfg.ipv4 = kSwitchIp;
  cfg.engine.slots = 256;
  cfg.engine.slot_payload_bytes = kSlotBytes;
  std::vector<dpdk_switch::PortIdentity> ids;
  for (std::uint32_t i = 0; i < ranks; ++i) ids.push_back({"p", port_mac(i)});
  return dpdk_switch::SwitchPipeline(cfg, ids);
}

// A job of `ranks` verbs ranks on one switch, set up as VerbsRank does on
// hardware: rings registered, each switch queue pair connected over the
// control path, every peer's ring handed to every rank.
class VerbsJob {
 public:
  explicit VerbsJob(std::uint32_t ranks) : sw_(make_switch(ranks)), fabric_(ranks, &sw_) {
    wire::TreeInstall t;
    t.job = kJob;
    t.key_tag = kKey;
    t.tree = kTree;
    t.slot_count = kWindow;
    t.slot_payload_bytes = kSlotBytes;
    for (std::uint32_t r = 0; r < ranks; ++r)
      t.child_ports.push_back(static_cast<std::uint16_t>(r));
    EXPECT_TRUE(sw_.on_control({1, t}).status.ok());
    plan_.job = kJob;
    plan_.key_tag = kKey;
    plan_.tree = kTree;
    plan_.slots = kWindow;
    plan_.slot_payload_bytes = kSlotBytes;
    for (std::uint32_t r = 0; r < ranks; ++r)
      plan_.members.push_back(
          {.host = r, .leaf_node = 0, .child_index = static_cast<std::uint16_t>(r)});
    for (std::uint32_t r = 0; r < ranks; ++r) {
      auto d = VerbsRankDriver::create(config(r, ranks), fabric_.nic(r));
      EXPECT_TRUE(d.ok()) << d.status().to_string();
      drivers_.push_back(std::move(*d));
      dpdk_switch::RoceHostConfig host;
      host.job = kJob;
      host.self = {{0x02, 0x93, 0, 0, 0, static_cast<std::uint8_t>(r + 1)},
                   0x0a5d0001u + r,
                   static_cast<std::uint16_t>(0xc000 + r)};
      host.switch_port = {port_mac(r), kSwitchIp, dpdk_switch::kRoceUdpPort};
      host.port = static_cast<std::uint16_t>(r);
      host.qpn = 0x200 + r;
      host.psn = 0xfffff0 + r;  // wraps during the run
      host.mtu = 1024;
      host.ring_va = drivers_.back()->switch_ring().va;
      host.ring_rkey = drivers_.back()->switch_ring().rkey;
      host.ring_entries = 2 * kWindow + 16;
      host.ring_entry_bytes = wire::kHeaderBytes + kSlotBytes;
      const auto reply = sw_.on_control({2, dpdk_switch::RoceHost(host).connect_request()});
      EXPECT_TRUE(reply.status.ok()) << reply.status.to_string();
      fabric_.attach_switch(r, host, std::get<wire::QpInfo>(reply.body));
    }
    for (std::uint32_t r = 0; r < ranks; ++r) {
      std::vector<RemoteRing> peers;
      for (std::uint32_t p = 0; p < ranks; ++p) peers.push_back(drivers_[p]->ring_for(r));
      EXPECT_TRUE(drivers_[r]->start(std::move(peers)).ok());
    }
  }

  static VerbsDriverConfig config(std::uint32_t rank, std::uint32_t ranks) {
    VerbsDriverConfig c;
    c.endpoint.rank = rank;
    c.endpoint.address = rank;
    for (std::uint32_t r = 0; r < ranks; ++r) c.endpoint.rank_address.push_back(r);
    c.endpoint.job = kJob;
    c.endpoint.key_tag = kKey;
    c.endpoint.p2p_payload_bytes = kP2pBytes;
    c.endpoint.reliable_p2p = true;
    c.endpoint.retransmit_timeout = 20 * kPicosPerMilli;
    c.ranks = ranks;
    c.switch_ring = {2 * kWindow + 16, static_cast<std::uint32_t>(wire::kHeaderBytes) + kSlotBytes};
    c.peer_ring = {32, static_cast<std::uint32_t>(wire::kHeaderBytes) + kP2pBytes};
    c.send_buffers = 64;
    c.idle_timeout = 10 * kPicosPerSecond;
    return c;
  }

  // Runs `program` on every rank, each on its own thread.
  void run(const std::function<void(Communicator&)>& program) {
    std::vector<std::thread> threads;
    for (std::uint32_t r = 0; r < drivers_.size(); ++r)
      threads.emplace_back([&, r] {
        Communicator comm(r, static_cast<std::uint32_t>(drivers_.size()), *drivers_[r], &plan_,
                          Status(), false);
        program(comm);
        EXPECT_TRUE(comm.barrier().ok());
        drivers_[r]->linger(50 * kPicosPerMilli);
      });
    for (auto& t : threads) t.join();
  }

  dpdk_switch::SwitchPipeline& sw() { return sw_; }
  test::SoftRdmaFabric& fabric() { return fabric_; }
  VerbsRankDriver& driver(std::uint32_t r) { return *drivers_[r]; }

 private:
  dpdk_switch::SwitchPipeline sw_;
  test::SoftRdmaFabric fabric_;
  manager::TreePlan plan_;
  std::vector<std::unique_ptr<VerbsRankDriver>> drivers_;
};

std::uint64_t counter(dpdk_switch::SwitchPipeline& sw, const std::string& name) {
  return manager::find_counter(sw.counters(), name).value_or(~0ull);
}

TEST(VerbsRankDriver, InnetAndHostCollectivesAreExactOverRdmaWrites) {
  constexpr std::uint32_t kRanks = 4;
  VerbsJob job(kRanks);
  job.run([](Communicator& comm) {
    const int n = comm.size();
    // 40000 elements: many chunks per slot, and p2p messages of many fragments.
    std::vector<std::int32_t> x(40000), y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = comm.rank() * 1000 + static_cast<int>(i % 97);
    for (const char* algorithm : {"innet", "ring", "recursive_doubling"}) {
      ASSERT_TRUE(comm.allreduce(x.data(), y.data(), x.size(), Dtype::i32, ReduceOp::sum,
                                 {.algorithm = algorithm})
                      .ok())
          << algorithm;
      for (std::size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(y[i], 1000 * n * (n - 1) / 2 + n * static_cast<int>(i % 97))
            << algorithm << " element " << i;
    }
    std::vector<float> f(3000, 0.5f * static_cast<float>(comm.rank() + 1)), g(f.size());
    ASSERT_TRUE(comm.allreduce(f.data(), g.data(), f.size(), Dtype::f32, ReduceOp::max,
                               {.algorithm = "innet"})
                    .ok());
    for (float v : g) ASSERT_EQ(v, 0.5f * static_cast<float>(n));
    std::vector<std::uint8_t> gathered(static_cast<std::size_t>(n) * 700);
    std::vector<std::uint8_t> mine(700, static_cast<std::uint8_t>(comm.rank() + 7));
    ASSERT_TRUE(comm.allgather(mine.data(), gathered.data(), mine.size(), Dtype::u8).ok());
    for (std::size_t i = 0; i < gathered.size(); ++i)
      ASSERT_EQ(gathered[i], static_cast<std::uint8_t>(i / 700 + 7));
  });
  for (std::uint32_t p = 0; p < kRanks; ++p) {
    const std::string port = fmt::format("port{}.", p);
    EXPECT_GT(counter(job.sw(), port + "roce_rx"), 0u) << port;
    EXPECT_EQ(counter(job.sw(), port + "drop_roce_psn_gap"), 0u) << port;
    EXPECT_EQ(counter(job.sw(), port + "drop_roce_mapping_mismatch"), 0u) << port;
    EXPECT_EQ(job.driver(p).failed_writes(), 0u);
    EXPECT_EQ(job.driver(p).undecodable(), 0u);
  }
  EXPECT_EQ(job.fabric().results_refused(), 0u);
}

TEST(VerbsRankDriver, LostWritesToTheSwitchAreRepairedExactly) {
  VerbsJob job(3);
  job.fabric().lose_switch_writes(1, 3);
  job.run([](Communicator& comm) {
    std::vector<std::int32_t> x(5000, comm.rank() + 1), y(x.size());
    ASSERT_TRUE(comm.allreduce(x.data(), y.data(), x.size(), Dtype::i32, ReduceOp::sum,
                               {.algorithm = "innet"})
                    .ok());
    for (std::int32_t v : y) ASSERT_EQ(v, 6);
  });
  // After the lost writes, the next one skipped PSNs: dropped too, and the
  // switch's queue pair took the following ones again.
  EXPECT_EQ(counter(job.sw(), "port1.drop_roce_psn_gap"), 1u);
  EXPECT_GT(counter(job.sw(), "engine.duplicates") + counter(job.sw(), "engine.contributions"), 0u);
}

TEST(VerbsRankDriver, RefusesBadConfigurations) {
  test::SoftRdmaFabric fabric(1);
  VerbsDriverConfig c = VerbsJob::config(0, 1);
  c.switch_ring.entry_bytes = 16;
  EXPECT_EQ(VerbsRankDriver::create(c, fabric.nic(0)).status().code(),
            StatusCode::invalid_argument);
  c = VerbsJob::config(2, 2);  // rank 2 of 2
  EXPECT_EQ(VerbsRankDriver::create(c, fabric.nic(0)).status().code(),
            StatusCode::invalid_argument);
  c = VerbsJob::config(0, 1);
  auto d = VerbsRankDriver::create(c, fabric.nic(0));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)->start({}).code(), StatusCode::invalid_argument);  // a ring per rank is needed
}

}  // namespace
}  // namespace inca::verbs
