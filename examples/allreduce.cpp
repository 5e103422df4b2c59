// The first program to read: 8 ranks on a simulated star switch each
// contribute a vector, and every rank gets the element-wise sum, computed by
// the switch (in-network) and then by a host ring for comparison.
#include <cstdio>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/world.hpp"

int main() {
  inca::FabricOptions fabric;
  fabric.topology = inca::TopologyKind::star;
  fabric.ranks = 8;
  auto world = inca::World::create(fabric);
  if (!world.ok()) {
    std::fprintf(stderr, "cannot build the fabric: %s\n", world.status().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", (*world)->describe().c_str());

  const std::size_t count = 1 << 16;
  int failures = 0;
  inca::Status status = (*world)->run([&](inca::Communicator& comm) {
    // Rank r contributes r + i, so element i of the sum is 28 + 8 i.
    std::vector<float> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i) send[i] = static_cast<float>(comm.rank() + i % 1000);
    for (const char* algorithm : {"innet", "ring"}) {
      const inca::Time start = comm.now();
      inca::Status s = comm.allreduce(send.data(), recv.data(), count, inca::Dtype::f32,
                                      inca::ReduceOp::sum, {.algorithm = algorithm});
      const double micros = inca::to_micros(comm.now() - start);
      bool exact = s.ok();
      for (std::size_t i = 0; exact && i < count; ++i)
        exact = recv[i] == static_cast<float>(28 + 8 * (i % 1000));
      if (!exact) ++failures;
      if (comm.rank() == 0)
        std::printf("%-5s %zu floats: %s in %.2f us of virtual time\n", algorithm, count,
                    exact ? "exact" : s.to_string().c_str(), micros);
    }
  });
  if (!status.ok() || failures) {
    std::fprintf(stderr, "failed: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
