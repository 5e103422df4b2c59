// The rank program of the UdpFabric tests (tests/udp_fabric_test.cpp): `inca
// launch` starts one of these per rank. A program of its own rather than a
// test of inca_tests, so that no test is listed that only skips outside a
// launch. INCA_TEST_UDP_PLAN chooses what every rank does:
// - `exact`: innet and ring all-reduce, then both at once non-blocking, then
//   an innet all-gather (each rank uploads only its block; the others' chunks
//   go as header-only packets), each checked against the reference; prints
//   "rank R: <what> exact" only when the result matched;
// - `crash`: rank 1 aborts at once, the others' ring all-reduce must fail;
// - `die`: after an exact all-reduce, rank 2 is killed while a long
//   in-network all-reduce runs, which must fail with `timeout` on the others;
// - `sleep`: sleep a minute (until the launcher is interrupted).
// The exit status is 0 when the rank saw what its plan expects.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/process_world.hpp"

namespace {

using namespace std::chrono_literals;
using inca::Communicator;
using inca::Dtype;
using inca::ReduceOp;
using inca::Status;

std::vector<std::int32_t> rank_data(int rank, std::size_t count) {
  std::vector<std::int32_t> v(count);
  for (std::size_t i = 0; i < count; ++i)
    v[i] = static_cast<std::int32_t>((rank + 1) * 1000003 - i * 7 - (i % 3 == 0 ? 500000 : 0));
  return v;
}

std::vector<std::int32_t> expected_sum(int ranks, std::size_t count) {
  std::vector<std::int32_t> expect(count, 0);
  for (int r = 0; r < ranks; ++r) {
    const auto v = rank_data(r, count);
    for (std::size_t i = 0; i < count; ++i) expect[i] += v[i];
  }
  return expect;
}

// Prints the verdict; true when `s` is ok and `got` is the reference.
bool report(Communicator& comm, const std::string& what, const Status& s,
            const std::vector<std::int32_t>& got, const std::vector<std::int32_t>& want) {
  if (!s.ok())
    std::printf("rank %d: %s failed: %s\n", comm.rank(), what.c_str(), s.to_string().c_str());
  else if (got != want)
    std::printf("rank %d: %s differs from the reference\n", comm.rank(), what.c_str());
  else
    std::printf("rank %d: %s exact\n", comm.rank(), what.c_str());
  std::fflush(stdout);
  return s.ok() && got == want;
}

bool check_exact(Communicator& comm, const char* algorithm, std::size_t count) {
  const auto send = rank_data(comm.rank(), count);
  // Poisoned, so a chunk that never arrived cannot match.
  std::vector<std::int32_t> recv(count, -1);
  const Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::i32, ReduceOp::sum,
                                  {.algorithm = algorithm});
  if (s.ok() && comm.last_algorithm() != algorithm) {
    std::printf("rank %d: %s ran as %s\n", comm.rank(), algorithm, comm.last_algorithm().c_str());
    return false;
  }
  return report(comm, algorithm, s, recv, expected_sum(comm.size(), count));
}

// Both at once, as non-blocking collectives completed in the other order:
// the switch tree and the host ring progress together over real packets.
bool check_exact_nonblocking(Communicator& comm, std::size_t count) {
  const auto expect = expected_sum(comm.size(), count);
  const auto send = rank_data(comm.rank(), count);
  std::vector<std::int32_t> by_innet(count, -1), by_ring(count, -1);
  auto innet = comm.iallreduce(send.data(), by_innet.data(), count, Dtype::i32, ReduceOp::sum,
                               {.algorithm = "innet"});
  auto ring = comm.iallreduce(send.data(), by_ring.data(), count, Dtype::i32, ReduceOp::sum,
                              {.algorithm = "ring"});
  // Every started request is waited for before its buffers go.
  const Status ring_done = ring.ok() ? comm.wait(*ring) : ring.status();
  const Status innet_done = innet.ok() ? comm.wait(*innet) : innet.status();
  if (!ring_done.ok() || !innet_done.ok() || by_innet != expect || by_ring != expect) {
    std::printf("rank %d: non-blocking failed: innet %s%s, ring %s%s\n", comm.rank(),
                innet_done.to_string().c_str(), by_innet == expect ? "" : " (differs)",
                ring_done.to_string().c_str(), by_ring == expect ? "" : " (differs)");
    return false;
  }
  std::printf("rank %d: non-blocking exact\n", comm.rank());
  return true;
}

// Each rank's block of 3000 words crosses chunk boundaries, so some chunks
// hold two ranks' data and the rest one's: both kinds must come back exact.
bool check_exact_allgather(Communicator& comm, std::size_t block) {
  const auto send = rank_data(comm.rank(), block);
  std::vector<std::int32_t> want;
  for (int r = 0; r < comm.size(); ++r) {
    const auto v = rank_data(r, block);
    want.insert(want.end(), v.begin(), v.end());
  }
  std::vector<std::int32_t> recv(want.size(), -1);
  const Status s =
      comm.allgather(send.data(), recv.data(), block, Dtype::i32, {.algorithm = "innet"});
  return report(comm, "innet allgather", s, recv, want);
}

}  // namespace

int main() {
  if (!inca::ProcessWorld::launched()) {
    std::fprintf(stderr, "udp_rank_program: start me with `inca launch`\n");
    return 2;
  }
  const char* plan_env = std::getenv("INCA_TEST_UDP_PLAN");
  const std::string plan = plan_env ? plan_env : "exact";
  auto world = inca::ProcessWorld::from_env();
  if (!world.ok()) {
    std::fprintf(stderr, "%s\n", world.status().to_string().c_str());
    return 1;
  }
  bool ok = true;
  Status run = (*world)->run([&](Communicator& comm) {
    if (plan == "exact") {
      ok = check_exact(comm, "innet", 10000) && ok;
      ok = check_exact(comm, "ring", 10000) && ok;
      ok = check_exact_nonblocking(comm, 10000) && ok;
      ok = check_exact_allgather(comm, 3000) && ok;
      return;
    }
    if (plan == "sleep") {
      std::printf("rank %d: sleeping\n", comm.rank());
      std::fflush(stdout);
      std::this_thread::sleep_for(60s);
      return;
    }
    const std::size_t count = plan == "crash" ? 1000 : 16u << 20;
    std::vector<float> send(count, 1.0f), recv(count);
    if (plan == "crash" && comm.rank() == 1) std::abort();
    if (plan == "die") {
      ok = check_exact(comm, "innet", 1000) && ok;
      // Rank 2 goes while the 64 MiB all-reduce is under way.
      if (comm.rank() == 2)
        std::thread([] {
          std::this_thread::sleep_for(50ms);
          ::raise(SIGKILL);
        }).detach();
    }
    const Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::f32, ReduceOp::sum,
                                    {.algorithm = plan == "crash" ? "ring" : "innet"});
    std::printf("rank %d: %s\n", comm.rank(), s.to_string().c_str());
    ok = s.code() == inca::StatusCode::timeout && ok;
  });
  // A failed job's closing barrier fails too; that is not this rank's fault.
  if (plan == "exact" && !run.ok()) {
    std::printf("rank run failed: %s\n", run.to_string().c_str());
    ok = false;
  }
  return ok ? 0 : 1;
}
