// The first program to read: every rank contributes a vector and gets the
// element-wise sum, computed by the switch (in-network) and then by a host
// ring for comparison.
//
// Run as it is, it builds 8 ranks on a simulated star switch in this process.
// Started by `inca launch -n 4 --fabric udp -- build/bin/example_allreduce`,
// each rank is a process of its own that reaches a real inca-switch over a
// kernel UDP socket; the rank code below is the same.
#include <cstdio>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/process_world.hpp"
#include "inca/world.hpp"

namespace {

int run_ranks(
    const std::function<inca::Status(const std::function<void(inca::Communicator&)>&)>& run) {
  const std::size_t count = 1 << 16;
  int failures = 0;
  inca::Status status = run([&](inca::Communicator& comm) {
    // Rank r contributes r + i % 1000, so element i of the sum over n ranks
    // is n (n - 1) / 2 + n (i % 1000).
    const auto n = static_cast<std::size_t>(comm.size());
    std::vector<float> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i) send[i] = static_cast<float>(comm.rank() + i % 1000);
    for (const char* algorithm : {"innet", "ring"}) {
      const inca::Time start = comm.now();
      inca::Status s = comm.allreduce(send.data(), recv.data(), count, inca::Dtype::f32,
                                      inca::ReduceOp::sum, {.algorithm = algorithm});
      const double micros = inca::to_micros(comm.now() - start);
      bool exact = s.ok();
      for (std::size_t i = 0; exact && i < count; ++i)
        exact = recv[i] == static_cast<float>(n * (n - 1) / 2 + n * (i % 1000));
      if (!exact) ++failures;
      if (comm.rank() == 0 || !exact)
        std::printf("rank %d: %-5s %zu floats: %s in %.2f us\n", comm.rank(), algorithm, count,
                    exact ? "exact" : s.to_string().c_str(), micros);
    }
  });
  if (!status.ok() || failures) {
    std::fprintf(stderr, "failed: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main() {
  if (inca::ProcessWorld::launched()) {
    auto world = inca::ProcessWorld::from_env();
    if (!world.ok()) {
      std::fprintf(stderr, "cannot join the job: %s\n", world.status().to_string().c_str());
      return 1;
    }
    if ((*world)->rank() == 0) std::printf("%s\n", (*world)->describe().c_str());
    return run_ranks([&](const auto& rank_main) { return (*world)->run(rank_main); });
  }
  inca::FabricOptions fabric;
  fabric.topology = inca::TopologyKind::star;
  fabric.ranks = 8;
  auto world = inca::World::create(fabric);
  if (!world.ok()) {
    std::fprintf(stderr, "cannot build the fabric: %s\n", world.status().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", (*world)->describe().c_str());
  return run_ranks([&](const auto& rank_main) { return (*world)->run(rank_main); });
}
