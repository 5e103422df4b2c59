// Bad input at every public entry point gets a status whose message says what
// was wrong and where, and sends nothing: unknown enum values cast from
// integers, null and overlapping buffers, sizes that overflow, out-of-range
// ranks and tags, requests that are not pending, broken options.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "inca/algorithm.hpp"
#include "protocol/host_driver.hpp"
#include "reliability_support.hpp"

namespace inca {
namespace {

// `s` failed with `code` and its message names `what`.
void expect_error(const Status& s, StatusCode code, const std::string& what) {
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(what), std::string::npos)
      << "'" << what << "' not in: " << s.message();
}

Status create_error(const FabricOptions& o) {
  auto world = World::create(o);
  return world.ok() ? Status() : world.status();
}

TEST(BadInput, WorldOptionsAreCheckedField_by_field) {
  FabricOptions o = test::small_fabric(TopologyKind::star, 4);
  FabricOptions bad = o;
  bad.fabric = static_cast<FabricKind>(7);
  expect_error(create_error(bad), StatusCode::invalid_argument, "FabricOptions.fabric 7");
  bad = o;
  bad.topology = static_cast<TopologyKind>(9);
  expect_error(create_error(bad), StatusCode::invalid_argument, "FabricOptions.topology 9");
  bad = o;
  bad.link_gbps = std::numeric_limits<double>::quiet_NaN();
  expect_error(create_error(bad), StatusCode::invalid_argument, "link rate");
  bad = o;
  bad.link_gbps = std::numeric_limits<double>::infinity();
  expect_error(create_error(bad), StatusCode::invalid_argument, "link rate");
  bad = o;
  bad.retransmit_timeout = 0;
  expect_error(create_error(bad), StatusCode::invalid_argument, "retransmit_timeout");
  bad = o;
  bad.fiber_stack_bytes = 1024;
  expect_error(create_error(bad), StatusCode::invalid_argument, "fiber_stack_bytes");
  bad = o;
  bad.recovery.on_switch_failure = static_cast<SwitchFailurePolicy>(5);
  expect_error(create_error(bad), StatusCode::invalid_argument, "on_switch_failure 5");
  bad = o;
  bad.recovery.max_backoff_shift = 31;
  expect_error(create_error(bad), StatusCode::invalid_argument, "max_backoff_shift 31");
  bad = o;
  bad.recovery.max_retransmits = 0;
  expect_error(create_error(bad), StatusCode::invalid_argument, "max_retransmits");
  bad = o;
  bad.recovery.failure_timeout = -1;
  expect_error(create_error(bad), StatusCode::invalid_argument, "failure_timeout");
  bad = o;
  bad.recovery.agreement_timeout = -1;
  expect_error(create_error(bad), StatusCode::invalid_argument, "agreement_timeout");
}

TEST(BadInput, WorldRunAndAccessorsRefuseWhatCannotWork) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 2));
  ASSERT_TRUE(world);
  expect_error(world->run({}), StatusCode::invalid_argument, "rank program is empty");
  EXPECT_EQ(world->nic_tx_bytes(2), 0u);  // no such rank: nothing sent, no exception
  EXPECT_EQ(world->nic_tx_bytes(0xffffffffu), 0u);
}

TEST(BadInput, AllreduceArgumentsAreCheckedOnEveryPath) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 3));
  ASSERT_TRUE(world);
  ASSERT_TRUE(
      world
          ->run([&](Communicator& comm) {
            std::vector<float> a(64, 1.0f), b(64);
            const auto f32 = Dtype::f32;
            const auto sum = ReduceOp::sum;
            const std::string where = "rank " + std::to_string(comm.rank());
            expect_error(comm.allreduce(a.data(), b.data(), SIZE_MAX / 2, f32, sum),
                         StatusCode::invalid_argument, "overflow");
            expect_error(comm.allreduce(a.data(), b.data(), 64, static_cast<Dtype>(0), sum),
                         StatusCode::invalid_argument, "unknown dtype code 0");
            expect_error(comm.allreduce(a.data(), b.data(), 64, f32, static_cast<ReduceOp>(11)),
                         StatusCode::invalid_argument, "unknown reduce op code 11");
            expect_error(comm.allreduce(a.data(), nullptr, 64, f32, sum),
                         StatusCode::invalid_argument, where + ": null buffer");
            expect_error(comm.allreduce(a.data(), a.data() + 10, 40, f32, sum),
                         StatusCode::invalid_argument, "overlap");
            expect_error(comm.allreduce(a.data(), b.data(), 64, f32, sum, {.algorithm = ""}),
                         StatusCode::invalid_argument, "unknown all-reduce algorithm ''");
            // The switch primitive checks the same way.
            expect_error(comm.innet_allreduce(nullptr, b.data(), 64, f32, sum),
                         StatusCode::invalid_argument, where + ": null buffer");
            expect_error(comm.innet_allreduce(a.data(), a.data() + 1, 63, f32, sum),
                         StatusCode::invalid_argument, "overlap");
            expect_error(comm.innet_allreduce(a.data(), b.data(), SIZE_MAX / 2, f32, sum),
                         StatusCode::invalid_argument, "overflow");
            expect_error(comm.innet_allreduce(a.data(), b.data(), 64, static_cast<Dtype>(13), sum),
                         StatusCode::invalid_argument, "unknown dtype code 13");
            EXPECT_EQ(comm.driver().endpoint().counters().packets_sent, 0u);
          })
          .ok());
}

TEST(BadInput, PointToPointArgumentsAreChecked) {
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 2));
  ASSERT_TRUE(world);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<std::byte> buf(16);
                    const int peer = 1 - comm.rank();
                    expect_error(comm.send(buf.data(), 16, 2), StatusCode::invalid_argument,
                                 "send to rank 2 outside 0..1");
                    expect_error(comm.recv(buf.data(), 16, -1), StatusCode::invalid_argument,
                                 "receive from rank -1");
                    expect_error(comm.isend(buf.data(), 16, peer, -5).status(),
                                 StatusCode::invalid_argument, "tag -5");
                    expect_error(comm.irecv(buf.data(), 16, peer, kMaxUserTag + 1).status(),
                                 StatusCode::invalid_argument, "tag 32768");
                    expect_error(comm.post_send(buf.data(), 16, peer, 0x10000).status(),
                                 StatusCode::invalid_argument, "tag 65536");
                    expect_error(comm.post_recv(buf.data(), 16, peer, -1).status(),
                                 StatusCode::invalid_argument, "tag -1");
                    expect_error(comm.send(nullptr, 16, peer), StatusCode::invalid_argument,
                                 "null buffer");
                    // Requests that were never posted, or waited for already.
                    expect_error(comm.wait(Request{987654}), StatusCode::invalid_argument,
                                 "request 987654 is not pending");
                    auto r = comm.irecv(buf.data(), 16, peer, 3);
                    ASSERT_TRUE(r.ok());
                    ASSERT_TRUE(comm.send(buf.data(), 16, peer, 3).ok());
                    ASSERT_TRUE(comm.wait(*r).ok());
                    expect_error(comm.wait(*r), StatusCode::invalid_argument, "not pending");
                    std::vector<Request> several{Request{424242}};
                    expect_error(comm.wait_all(several), StatusCode::invalid_argument, "424242");
                  })
                  .ok());
}

TEST(BadInput, ReduceLocalReportsThroughTheEnclosingCollective) {
  // An algorithm written outside the library that misuses reduce_local.
  static const bool registered =
      register_allreduce({"broken_local_reduce", "test: reduce_local with a null buffer", false,
                          [](Communicator& comm, const AllreduceArgs& a) {
                            comm.reduce_local(nullptr, a.send, a.count, a.dtype, a.op);
                            return Status();
                          }})
          .ok();
  ASSERT_TRUE(registered);
  auto world = test::make_world(test::small_fabric(TopologyKind::star, 2));
  ASSERT_TRUE(world);
  ASSERT_TRUE(world
                  ->run([&](Communicator& comm) {
                    std::vector<float> a(8, 1.0f), b(8);
                    expect_error(comm.allreduce(a.data(), b.data(), 8, Dtype::f32, ReduceOp::sum,
                                                {.algorithm = "broken_local_reduce"}),
                                 StatusCode::invalid_argument, "reduce_local on rank");
                    // Outside a collective the next wait reports it.
                    comm.reduce_local(a.data(), b.data(), 8, Dtype::f32, static_cast<ReduceOp>(0));
                    expect_error(comm.recv(b.data(), 0, 1 - comm.rank(), 1),
                                 StatusCode::invalid_argument, "unknown reduce op");
                  })
                  .ok());
}

TEST(BadInput, AlgorithmRegistrationIsChecked) {
  AllreduceFn noop = [](Communicator&, const AllreduceArgs&) { return Status(); };
  EXPECT_EQ(register_allreduce({"", "", false, noop}).code(), StatusCode::invalid_argument);
  EXPECT_EQ(register_allreduce({"auto", "", false, noop}).code(), StatusCode::invalid_argument);
  EXPECT_EQ(register_allreduce({"no_function", "", false, {}}).code(),
            StatusCode::invalid_argument);
  expect_error(register_allreduce({"ring", "", false, noop}), StatusCode::invalid_argument,
               "'ring'");
}

}  // namespace
}  // namespace inca
