// The discrete-event fabric driven through its HostDriver seam: exact virtual
// arrival times (serialisation + latency per hop, FIFO egress queues), port
// counters, deadlines, modelled host compute, stalled ranks, rank exceptions,
// control-plane errors, and retransmission when a switch drops contributions.
#include "sim/sim_fabric.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "manager/aggregation_manager.hpp"
#include "protocol/host_driver.hpp"
#include "test_support.hpp"
#include "trace/trace_sink.hpp"

namespace inca::sim {
namespace {

constexpr Time kLatency = 500 * kPicosPerNano;
constexpr Time kPsPerByte = 80;  // 100 Gb/s
constexpr std::uint32_t kJob = 1;
constexpr std::uint32_t kKey = 0xfeed;
constexpr Time kRto = 100 * kPicosPerMicro;  // well above any round trip here

topology::Topology star(std::uint32_t hosts) {
  auto t = topology::Topology::star(hosts, {100.0, kLatency, 4096}, {64, 1024});
  EXPECT_TRUE(t.ok());
  return std::move(*t);
}

SimConfig sim_config() {
  SimConfig c;
  c.endpoint.job = kJob;
  c.endpoint.key_tag = kKey;
  c.endpoint.p2p_payload_bytes = 4064;
  c.endpoint.retransmit_timeout = kRto;
  c.endpoint.max_retransmits = 3;
  return c;
}

// Blocks the calling rank until operation `id` is done; false on a stall.
bool wait_for(protocol::HostDriver& d, protocol::OpId id) {
  return d.block_until([&] { return d.endpoint().done(id); }, kNever);
}

// Time for one packet of `payload` bytes to cross one link.
Time hop(std::size_t payload) {
  return static_cast<Time>(wire::kFramingBytes + wire::kHeaderBytes + payload) * kPsPerByte +
         kLatency;
}

TEST(SimFabric, MessageArrivesAfterSerialisationAndLatencyOnEachHop) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  std::vector<std::byte> data = test::exact_input(1000, Dtype::u8, ReduceOp::sum, 3);
  std::vector<std::byte> got(1000);
  Time received = 0;
  ASSERT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    protocol::Outbox out;
                    if (rank == 0) {
                      ASSERT_TRUE(d.endpoint().post_send(1, 0, data.data(), 1000, out).ok());
                      d.transmit(out);
                      return;
                    }
                    auto id = d.endpoint().post_recv(0, 0, got.data(), 1000);
                    ASSERT_TRUE(id.ok());
                    ASSERT_TRUE(wait_for(d, *id));
                    received = d.now();
                  })
                  .ok());
  EXPECT_EQ(got, data);
  // Store and forward: host -> switch, then switch -> host.
  EXPECT_EQ(received, 2 * hop(1000));
  EXPECT_EQ(fabric.now(), received);
}

// A host's receive path costs recv_overhead per message, at its last
// fragment: the other fragments and the acknowledgements pass through it at
// once, without an event of their own.
TEST(SimFabric, TheReceivePathCostsOneEventPerMessage) {
  constexpr std::size_t kBytes = 5 * 4064;  // five fragments
  constexpr Time kOverhead = 700 * kPicosPerNano;
  auto once = [&](Time overhead, Time& received, std::uint64_t& events) {
    topology::Topology t = star(2);
    for (std::uint32_t h = 0; h < 2; ++h) t.set_host_timing(h, {.recv_overhead = overhead});
    SimFabric fabric(t, sim_config());
    std::vector<std::byte> data = test::exact_input(kBytes, Dtype::u8, ReduceOp::sum, 3);
    std::vector<std::byte> got(kBytes);
    ASSERT_TRUE(fabric
                    .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                      protocol::Outbox out;
                      if (rank == 0) {
                        auto id = d.endpoint().post_send(1, 0, data.data(), kBytes, out);
                        ASSERT_TRUE(id.ok());
                        d.transmit(out);
                        ASSERT_TRUE(wait_for(d, *id));  // acknowledged
                        return;
                      }
                      auto id = d.endpoint().post_recv(0, 0, got.data(), kBytes);
                      ASSERT_TRUE(id.ok());
                      ASSERT_TRUE(wait_for(d, *id));
                      received = d.now();
                    })
                    .ok());
    EXPECT_EQ(got, data);
    events = fabric.events_processed();
  };
  Time bare_at = 0, costly_at = 0;
  std::uint64_t bare_events = 0, costly_events = 0;
  once(0, bare_at, bare_events);
  once(kOverhead, costly_at, costly_events);
  EXPECT_EQ(costly_at, bare_at + kOverhead);
  EXPECT_EQ(costly_events, bare_events + 1);
}

// Records when each acknowledgement reaches the end of each link.
class AckHops final : public trace::TraceSink {
 public:
  AckHops() : TraceSink(TraceDetail::packets) {}
  void link_send(std::uint32_t, std::uint16_t, Time, Time, Time, Time arrival,
                 const wire::Packet& packet) override {
    if (packet.header.type == wire::PacketType::ack) arrivals.push_back(arrival);
  }
  void packet_lost(std::uint32_t, std::uint16_t, Time) override {}
  void switch_touched(std::uint32_t, Time) override {}
  void host_touched(std::uint32_t, Time) override {}
  void switch_restarted(std::uint32_t, Time) override {}
  trace::Lane lane(std::uint32_t, std::uint64_t) override { return {}; }
  void fiber_done(std::uint32_t, std::uint64_t) override {}
  void open(trace::Lane) override {}
  void span(trace::Lane, std::string_view, std::string_view, Time, Time,
            const trace::Args&) override {}
  void fabric_instant(std::string_view, Time, const trace::Args&) override {}
  std::vector<Time> arrivals;
};

// Without a trace or faults to follow it link by link, an acknowledgement's
// whole path is booked when it is sent: one event, and the sender hears of
// its message when it would have link by link.
TEST(SimFabric, AnAcknowledgementCostsOneEventOnAnyPath) {
  auto once = [](trace::TraceSink* sink, Time& acked, std::uint64_t& events) {
    topology::Topology t = star(2);
    SimConfig config = sim_config();
    config.endpoint.reliable_p2p = true;  // the receiver acknowledges
    SimFabric fabric(t, config);
    fabric.set_trace(sink);
    std::vector<std::byte> data(1000), got(1000);
    ASSERT_TRUE(fabric
                    .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                      protocol::Outbox out;
                      if (rank == 0) {
                        auto id = d.endpoint().post_send(1, 0, data.data(), data.size(), out);
                        ASSERT_TRUE(id.ok());
                        d.transmit(out);
                        ASSERT_TRUE(wait_for(d, *id));
                        acked = d.now();
                        return;
                      }
                      auto id = d.endpoint().post_recv(0, 0, got.data(), got.size());
                      ASSERT_TRUE(id.ok());
                      ASSERT_TRUE(wait_for(d, *id));
                    })
                    .ok());
    events = fabric.events_processed();
  };
  AckHops hops;
  Time followed_at = 0, booked_at = 0;
  std::uint64_t followed_events = 0, booked_events = 0;
  once(&hops, followed_at, followed_events);
  once(nullptr, booked_at, booked_events);
  ASSERT_EQ(hops.arrivals.size(), 2u);  // host 1 -> switch -> host 0
  EXPECT_EQ(followed_at, hops.arrivals.back());
  EXPECT_EQ(booked_at, followed_at);
  EXPECT_EQ(booked_events, followed_events - 1);
}

TEST(SimFabric, EgressQueuesAreFifoAtLineRate) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  std::vector<std::byte> a(1000), b(1000);
  Time first = 0, second = 0;
  ASSERT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    protocol::Outbox out;
                    if (rank == 0) {
                      ASSERT_TRUE(d.endpoint().post_send(1, 1, a.data(), 1000, out).ok());
                      ASSERT_TRUE(d.endpoint().post_send(1, 2, b.data(), 1000, out).ok());
                      d.transmit(out);
                      return;
                    }
                    auto id1 = d.endpoint().post_recv(0, 1, a.data(), 1000);
                    auto id2 = d.endpoint().post_recv(0, 2, b.data(), 1000);
                    ASSERT_TRUE(wait_for(d, *id1));
                    first = d.now();
                    ASSERT_TRUE(wait_for(d, *id2));
                    second = d.now();
                  })
                  .ok());
  const Time ser = hop(1000) - kLatency;
  EXPECT_EQ(first, 2 * ser + 2 * kLatency);
  EXPECT_EQ(second, first + ser);  // queued one serialisation behind
  const PortCounters& host0 = fabric.port_counters(t.host_node(0), 0);
  EXPECT_EQ(host0.packets, 2u);
  EXPECT_EQ(host0.bytes, 2 * (wire::kFramingBytes + wire::kHeaderBytes + 1000));
  EXPECT_EQ(host0.busy, 2 * ser);
  EXPECT_EQ(fabric.port_counters(t.host_node(1), 0).packets, 0u);
  EXPECT_EQ(fabric.endpoint(0).counters().bytes_sent, host0.bytes);
}

TEST(SimFabric, DeadlinesAndHostComputeAdvanceVirtualTimeExactly) {
  topology::Topology t = star(2);
  t.set_host_timing(0, {.reduce_gbps = 8});  // 1 ns per byte
  SimFabric fabric(t, sim_config());
  std::vector<Time> seen;
  ASSERT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    if (rank != 0) return;
                    EXPECT_FALSE(d.block_until([] { return false; }, 12345));
                    seen.push_back(d.now());
                    d.account_compute(1000);
                    seen.push_back(d.now());
                    EXPECT_FALSE(d.block_until([] { return false; }, d.now()));  // past
                    seen.push_back(d.now());
                  })
                  .ok());
  EXPECT_EQ(seen,
            (std::vector<Time>{12345, 12345 + 1000 * kPicosPerNano, 12345 + 1000 * kPicosPerNano}));
}

TEST(SimFabric, RanksThatCanNeverProgressAreReleasedNotHung) {
  topology::Topology t = star(3);
  SimFabric fabric(t, sim_config());
  std::vector<int> stalled(3, 0);
  std::vector<std::byte> buf(8);
  ASSERT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    if (rank == 2) return;
                    auto id = d.endpoint().post_recv(rank == 0 ? 1 : 0, 0, buf.data(), 8);
                    ASSERT_TRUE(id.ok());
                    stalled[rank] = !wait_for(d, *id);
                  })
                  .ok());
  EXPECT_EQ(stalled, (std::vector<int>{1, 1, 0}));
  EXPECT_EQ(fabric.now(), 0);
}

// A wait inside a collective carries a far deadline (the failure timeout)
// and usually ends long before it; between such waits come short ones (a
// host reduction's compute time). A rank schedules a wake-up only when none
// pending comes by its deadline, and one that comes early moves on to the
// deadline of the wait under way, so the event heap does not grow by one
// stale deadline per wait; a deadline still ends its wait at exactly its time.
TEST(SimFabric, WaitsWithFarDeadlinesLeaveOneWakeUpPerRank) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  constexpr int kMessages = 200;
  constexpr Time kPatience = kPicosPerSecond;
  std::vector<std::byte> buf(8);
  Time gave_up_at = 0, deadline = 0;
  std::size_t pending = 0;
  ASSERT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    protocol::Outbox out;
                    for (int i = 0; i < kMessages; ++i) {
                      if (rank == 0) {
                        ASSERT_TRUE(d.endpoint().post_send(1, i, buf.data(), 8, out).ok());
                        d.transmit(out);
                        // Paced, so that every receive waits.
                        d.block_until([] { return false; }, d.now() + kPicosPerMicro * 10);
                        continue;
                      }
                      auto id = d.endpoint().post_recv(0, i, buf.data(), 8);
                      ASSERT_TRUE(id.ok());
                      ASSERT_TRUE(d.block_until([&] { return d.endpoint().done(*id); },
                                                d.now() + kPatience));
                      d.endpoint().release(*id);
                      d.wait_until(d.now() + kPicosPerMicro);  // a reduction's compute time
                    }
                    if (rank == 1) {
                      pending = fabric.pending_events();
                      // Later than the first wait's wake-up, which must move on to it.
                      deadline = d.now() + kPatience + kPicosPerMicro;
                      EXPECT_FALSE(d.block_until([] { return false; }, deadline));
                      gave_up_at = d.now();
                    }
                  })
                  .ok());
  EXPECT_EQ(gave_up_at, deadline);
  // After the receives: per rank at most one wake-up, one retransmission
  // timer and a message in flight (a wake-up per wait: 200).
  EXPECT_LE(pending, 6u);
}

TEST(SimFabric, VirtualTimeCarriesOverBetweenRuns) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  auto sleep = [](std::uint32_t, protocol::HostDriver& d) {
    d.block_until([] { return false; }, d.now() + 1000);
  };
  ASSERT_TRUE(fabric.run(sleep).ok());
  ASSERT_TRUE(fabric.run(sleep).ok());
  EXPECT_EQ(fabric.now(), 2000);
}

TEST(SimFabric, RankExceptionsBecomeAnInternalError) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  Status s = fabric.run([](std::uint32_t rank, protocol::HostDriver&) {
    if (rank == 1) throw std::runtime_error("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::internal);
  EXPECT_NE(s.message().find("rank 1: boom"), std::string::npos) << s.message();
}

TEST(SimFabric, ControlPlaneTargetsSwitchesOnly) {
  topology::Topology t = star(2);
  SimFabric fabric(t, sim_config());
  wire::TreeInstall install;
  install.job = kJob;
  install.tree = 1;
  install.slot_count = 4;
  install.slot_payload_bytes = 1024;
  install.child_ports = {0, 1};
  const std::uint32_t sw = t.switch_nodes()[0];
  EXPECT_EQ(fabric.install(t.host_node(0), install).code(), StatusCode::invalid_argument);
  EXPECT_EQ(fabric.install(999, install).code(), StatusCode::invalid_argument);
  ASSERT_TRUE(fabric.install(sw, install).ok());
  EXPECT_EQ(fabric.engine(sw)->free_slots(), 60u);
  EXPECT_EQ(fabric.remove(t.host_node(0), {kJob, 1}).code(), StatusCode::invalid_argument);
  EXPECT_TRUE(fabric.remove(sw, {kJob, 1}).ok());
  EXPECT_NE(fabric.switch_counters(sw), nullptr);
  EXPECT_EQ(fabric.switch_counters(t.host_node(0)), nullptr);
}

// Runs one in-network all-reduce of `count` floats per rank over a tree the
// manager planned, with `key` in the switches; returns each rank's status.
std::vector<Status> innet_over_star(SimFabric& fabric, const topology::Topology& t,
                                    std::uint32_t key, std::size_t count,
                                    std::vector<std::vector<float>>& results) {
  manager::AggregationManager m(t);
  auto plan = m.allocate(test::tree_request(kJob, key, {0, 1, 2}, 4));
  EXPECT_TRUE(plan.ok());
  for (const auto& [node, install] : plan->installs)
    EXPECT_TRUE(fabric.install(node, install).ok());
  std::vector<Status> status(3);
  results.assign(3, std::vector<float>(count));
  EXPECT_TRUE(fabric
                  .run([&](std::uint32_t rank, protocol::HostDriver& d) {
                    std::vector<float> send(count, static_cast<float>(rank + 1));
                    protocol::InnetAllreduce s;
                    s.tree = plan->tree;
                    s.child_index = plan->members[rank].child_index;
                    s.window = plan->slots;
                    s.slot_payload_bytes = plan->slot_payload_bytes;
                    s.send = send.data();
                    s.recv = results[rank].data();
                    s.count = count;
                    protocol::Outbox out;
                    auto id = d.endpoint().start_innet(s, d.now(), out);
                    ASSERT_TRUE(id.ok());
                    d.transmit(out);
                    if (!wait_for(d, *id)) {
                      status[rank] = make_error(StatusCode::internal, "stalled");
                      return;
                    }
                    status[rank] = d.endpoint().status(*id);
                  })
                  .ok());
  return status;
}

TEST(SimFabric, SwitchReducesWhatHostsSendThroughTheTree) {
  topology::Topology t = star(3);
  SimFabric fabric(t, sim_config());
  std::vector<std::vector<float>> results;
  for (const Status& s : innet_over_star(fabric, t, kKey, 1000, results))
    EXPECT_TRUE(s.ok()) << s.to_string();
  for (const auto& r : results) EXPECT_EQ(r, std::vector<float>(1000, 6.0f));
  const auto& c = *fabric.switch_counters(t.switch_nodes()[0]);
  EXPECT_EQ(c.contributions, 3u * 4);  // 1000 floats = 4 chunks of 256
  EXPECT_EQ(c.results_sent, 3u * 4);
  EXPECT_EQ(fabric.endpoint(0).counters().retransmissions, 0u);
}

// The switch drops every contribution (wrong key), so no result ever comes:
// each rank must retransmit with backoff from its first send and then fail
// with `timeout` from the endpoint, not be released as a stalled fabric.
TEST(SimFabric, UnansweredContributionsAreRetransmittedThenTimeOut) {
  topology::Topology t = star(3);
  SimFabric fabric(t, sim_config());
  std::vector<std::vector<float>> results;
  for (const Status& s : innet_over_star(fabric, t, kKey + 1, 300, results)) {
    EXPECT_EQ(s.code(), StatusCode::timeout) << s.to_string();
    EXPECT_NE(s.message().find("retransmissions"), std::string::npos) << s.message();
  }
  for (std::uint32_t r = 0; r < 3; ++r)
    EXPECT_EQ(fabric.endpoint(r).counters().retransmissions, 2u * 3) << "2 chunks x 3 retries";
  EXPECT_EQ(fabric.switch_counters(t.switch_nodes()[0])->drop_bad_key, 3u * 2 * 4);
  // Timeouts of 1, 2, 4 and 8 RTO after the first send at time 0; each send
  // of chunk 0 is re-armed after the time its own bytes take to leave the
  // 100 Gb/s NIC (the endpoint's drain allowance).
  const Time drain = protocol::drain_time(wire::kFramingBytes + wire::kHeaderBytes + 1024, 100);
  EXPECT_EQ(fabric.now(), 15 * kRto + 4 * drain);
}

TEST(SimFabric, IdenticalFabricsProduceIdenticalTimelines) {
  auto once = [](Time& now, std::uint64_t& events) {
    topology::Topology t = star(3);
    SimFabric fabric(t, sim_config());
    std::vector<std::vector<float>> results;
    innet_over_star(fabric, t, kKey, 5000, results);
    now = fabric.now();
    events = fabric.events_processed();
  };
  Time t1 = 0, t2 = 0;
  std::uint64_t e1 = 0, e2 = 0;
  once(t1, e1);
  once(t2, e2);
  EXPECT_GT(t1, 0);
  EXPECT_EQ(t1, t2);
  EXPECT_EQ(e1, e2);
}

}  // namespace
}  // namespace inca::sim
