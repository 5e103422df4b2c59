// Wall-clock all-reduce between rank processes on the kernel-UDP (or memif) fabric:
// times the in-network all-reduce against the host ring, each run the
// slowest rank's time, and prints the median, algbw and their ratio; then
// runs both at once as non-blocking collectives and checks them.
//
//   inca launch -n 4 --fabric udp --port-gbps 1 -- build/bin/example_udp_allreduce 16 5
//   inca launch -n 4 --fabric memif --port-gbps 1 -- build/bin/example_udp_allreduce 16 5
//
// Arguments: MiB of f32 per rank (default 16), runs per algorithm (default 5).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/process_world.hpp"

int main(int argc, char** argv) {
  if (!inca::ProcessWorld::launched()) {
    std::fprintf(stderr, "run me under: inca launch -n 4 --fabric udp|memif -- %s [MiB] [runs]\n",
                 argv[0]);
    return 2;
  }
  const double mib = argc > 1 ? std::atof(argv[1]) : 16;
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const auto count = static_cast<std::size_t>(mib * (1 << 20) / sizeof(float));
  auto world = inca::ProcessWorld::from_env();
  if (!world.ok()) {
    std::fprintf(stderr, "cannot join the job: %s\n", world.status().to_string().c_str());
    return 1;
  }
  int failures = 0;
  inca::Status status = (*world)->run([&](inca::Communicator& comm) {
    const auto n = static_cast<std::size_t>(comm.size());
    std::vector<float> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i) send[i] = static_cast<float>(comm.rank() + i % 1000);
    double median_ms[2] = {};
    const char* algorithms[2] = {"innet", "ring"};
    for (int a = 0; a < 2; ++a) {
      std::vector<double> ms;
      for (int run = 0; run < runs && failures == 0; ++run) {
        inca::Status s = comm.barrier();
        const inca::Time start = comm.now();
        if (s.ok())
          s = comm.allreduce(send.data(), recv.data(), count, inca::Dtype::f32, inca::ReduceOp::sum,
                             {.algorithm = algorithms[a]});
        // Every rank takes the slowest rank's time.
        double took = inca::to_micros(comm.now() - start) / 1000;
        if (s.ok())
          s = comm.allreduce(&took, &took, 1, inca::Dtype::f64, inca::ReduceOp::max,
                             {.algorithm = "ring"});
        bool exact = s.ok();
        for (std::size_t i = 0; exact && i < count; ++i)
          exact = recv[i] == static_cast<float>(n * (n - 1) / 2 + n * (i % 1000));
        if (!exact) {
          ++failures;
          std::fprintf(stderr, "rank %d: %s run %d: %s\n", comm.rank(), algorithms[a], run,
                       s.ok() ? "inexact" : s.to_string().c_str());
        }
        ms.push_back(took);
      }
      if (ms.empty()) return;
      std::sort(ms.begin(), ms.end());
      median_ms[a] = ms[ms.size() / 2];
      if (comm.rank() == 0)
        std::printf(
            "%-5s %zu ranks, %.0f MiB f32: median %.1f ms (min %.1f, max %.1f), algbw "
            "%.3f GB/s\n",
            algorithms[a], n, mib, median_ms[a], ms.front(), ms.back(),
            static_cast<double>(count * sizeof(float)) / (median_ms[a] * 1e6));
    }
    if (comm.rank() == 0 && median_ms[0] > 0)
      std::printf("innet/ring algbw ratio: %.2f\n", median_ms[1] / median_ms[0]);

    // Both at once, non-blocking, completed in the other order: the switch
    // tree and the host ring progress together over real packets.
    std::vector<float> by_ring(count);
    auto innet = comm.iallreduce(send.data(), recv.data(), count, inca::Dtype::f32,
                                 inca::ReduceOp::sum, {.algorithm = "innet"});
    auto ring = comm.iallreduce(send.data(), by_ring.data(), count, inca::Dtype::f32,
                                inca::ReduceOp::sum, {.algorithm = "ring"});
    inca::Status s = ring.ok() ? comm.wait(*ring) : ring.status();
    const inca::Status s_innet = innet.ok() ? comm.wait(*innet) : innet.status();
    if (s.ok()) s = s_innet;
    bool exact = s.ok();
    for (std::size_t i = 0; exact && i < count; ++i)
      exact =
          recv[i] == by_ring[i] && recv[i] == static_cast<float>(n * (n - 1) / 2 + n * (i % 1000));
    if (!exact) {
      ++failures;
      std::fprintf(stderr, "rank %d: non-blocking innet + ring: %s\n", comm.rank(),
                   s.ok() ? "inexact" : s.to_string().c_str());
    } else if (comm.rank() == 0) {
      std::printf("non-blocking innet and ring at once: exact\n");
    }
  });
  if (!status.ok() || failures) {
    std::fprintf(stderr, "failed: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
