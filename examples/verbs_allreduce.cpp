// The doubling comparison on RDMA NICs: each rank of a verbs job
// (`inca launch --fabric verbs`, docs/verbs.md) runs the in-network
// all-reduce through inca-switch, the SDK's host ring on the same RC queue
// pairs, and the host RC ring baseline written directly on RDMA WRITE with
// immediate (verbs_transport/rc_ring.hpp), checks every result and prints
// each one's time and algbw, median of the iterations.
//
//   inca launch -n 2 --fabric verbs --control 10.0.0.9:7000 --slot-bytes 992 --
//       build/bin/example_verbs_allreduce 64 5        # MiB, iterations
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "inca/communicator.hpp"
#include "udp/bootstrap.hpp"
#include "verbs_transport/verbs_rank.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 16;
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 5;
  auto boot = inca::udp::bootstrap_from_env();
  if (!boot.ok() || boot->fabric != "verbs") {
    std::fprintf(stderr, "start me with `inca launch --fabric verbs` (%s)\n",
                 boot.ok() ? "another fabric" : boot.status().to_string().c_str());
    return 2;
  }
  inca::protocol::EndpointConfig endpoint;
  endpoint.rank = boot->rank;
  endpoint.address = boot->rank;
  for (std::uint32_t r = 0; r < boot->size; ++r) endpoint.rank_address.push_back(r);
  endpoint.job = boot->job;
  endpoint.key_tag = boot->key_tag;
  endpoint.p2p_payload_bytes = 4000;  // RC writes are segmented by the NIC
  endpoint.reliable_p2p = true;
  endpoint.retransmit_timeout = 200 * inca::kPicosPerMilli;
  endpoint.give_up_after = static_cast<inca::Time>(boot->timeout_ms) * inca::kPicosPerMilli;
  auto rank = inca::verbs::VerbsRank::open(*boot, endpoint, {});
  if (!rank.ok()) {
    std::fprintf(stderr, "rank %u: %s\n", boot->rank, rank.status().to_string().c_str());
    return rank.status().code() == inca::StatusCode::not_supported ? 3 : 1;
  }
  auto ring = (*rank)->open_rc_ring();
  if (!ring.ok()) {
    std::fprintf(stderr, "rank %u: %s\n", boot->rank, ring.status().to_string().c_str());
    return 1;
  }
  const std::size_t count = mib * (1 << 20) / sizeof(float);
  const auto n = static_cast<float>(boot->size);
  std::vector<float> x(count), y(count);
  int failures = 0;
  {
    inca::Communicator comm(boot->rank, boot->size, (*rank)->driver(),
                            boot->tree ? &*boot->tree : nullptr, {}, false);
    for (const char* algorithm : {"innet", "ring", "rc_ring_baseline"}) {
      std::vector<double> seconds;
      for (int it = 0; it < iterations; ++it) {
        std::fill(x.begin(), x.end(), static_cast<float>(comm.rank() + 1));
        (void)comm.barrier();
        const auto start = Clock::now();
        const inca::Status s =
            std::string(algorithm) == "rc_ring_baseline"
                ? (*ring)->allreduce(x.data(), count, inca::Dtype::f32, inca::ReduceOp::sum,
                                     10 * inca::kPicosPerSecond)
                : comm.allreduce(x.data(), y.data(), count, inca::Dtype::f32, inca::ReduceOp::sum,
                                 {.algorithm = algorithm});
        seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
        const std::vector<float>& result = std::string(algorithm) == "rc_ring_baseline" ? x : y;
        const bool exact = s.ok() && std::all_of(result.begin(), result.end(),
                                                 [&](float v) { return v == n * (n + 1) / 2; });
        failures += exact ? 0 : 1;
        if (!s.ok())
          std::fprintf(stderr, "rank %u: %s: %s\n", boot->rank, algorithm, s.to_string().c_str());
      }
      if (comm.rank() == 0)
        std::printf("%-17s %zu MiB x %u ranks: %.3f ms, algbw %.2f GB/s%s\n", algorithm, mib,
                    boot->size, 1e3 * median(seconds),
                    static_cast<double>(count * sizeof(float)) / median(seconds) / 1e9,
                    failures ? " (INEXACT)" : "");
    }
    (void)comm.barrier();
    (*rank)->driver().linger(100 * inca::kPicosPerMilli);
  }
  ring->reset();
  return failures == 0 ? 0 : 1;
}
