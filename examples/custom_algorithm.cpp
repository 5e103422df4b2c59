// An all-reduce written outside the library (custom_algorithm/), registered
// with the algorithm registry and run through Communicator::allreduce like a
// built-in: 8 ranks on a leaf-spine, each algorithm checked bit for bit
// against a reference reduction. The same algorithms, built as
// build/lib/libcustom_algorithm.so, load into `inca bench --plugin`.
#include <cstdio>
#include <cstring>
#include <vector>

#include "custom_algorithm/star_allreduce.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"

int main() {
  if (int failed = example::register_example_algorithms(); failed != 0) {
    std::fprintf(stderr, "%d algorithms did not register\n", failed);
    return 1;
  }
  inca::FabricOptions fabric;
  fabric.ranks = 8;
  fabric.hosts_per_leaf = 4;
  auto world = inca::World::create(fabric);
  if (!world.ok()) {
    std::fprintf(stderr, "cannot build the fabric: %s\n", world.status().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", (*world)->describe().c_str());

  // Integer inputs: any summation order gives the same bits.
  const std::size_t count = 10000;
  std::vector<std::int32_t> reference(count, 0);
  auto input = [](int rank, std::size_t i) { return static_cast<std::int32_t>(rank * 7 + i % 13); };
  for (int r = 0; r < 8; ++r)
    for (std::size_t i = 0; i < count; ++i) reference[i] += input(r, i);

  int failures = 0;
  inca::Status status = (*world)->run([&](inca::Communicator& comm) {
    std::vector<std::int32_t> send(count), recv(count);
    for (std::size_t i = 0; i < count; ++i) send[i] = input(comm.rank(), i);
    for (const char* algorithm : {"star", "innet_or_star", "ring"}) {
      const inca::Time start = comm.now();
      inca::Status s = comm.allreduce(send.data(), recv.data(), count, inca::Dtype::i32,
                                      inca::ReduceOp::sum, {.algorithm = algorithm});
      const double micros = inca::to_micros(comm.now() - start);
      const bool exact =
          s.ok() && std::memcmp(recv.data(), reference.data(), count * sizeof(std::int32_t)) == 0;
      if (!exact) ++failures;
      if (comm.rank() == 0)
        std::printf("%-13s %zu i32: %s in %.2f us of virtual time\n", algorithm, count,
                    exact ? "exact" : s.to_string().c_str(), micros);
    }
  });
  if (!status.ok() || failures) {
    std::fprintf(stderr, "failed: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
