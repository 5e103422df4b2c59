// Every collective, in-network and with its host algorithm, on the default
// fabric (64 ranks, leaf-spine, 100 Gb/s): simulated time next to the cost
// model, and nccl-tests' busbw. Run: build/bin/example_collectives [bytes...]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "inca/collective.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"

namespace {

// Runs `collective` once with `algorithm`, each rank contributing `bytes`
// (all-gather: one block; reduce-scatter: the whole send buffer), and
// returns the virtual time from the common start to the last rank's finish.
inca::Result<inca::Time> run_once(inca::World& world, inca::Collective c,
                                  const std::string& algorithm, std::size_t bytes) {
  const std::uint32_t n = world.size();
  const std::size_t count = bytes / 4;
  inca::Time start = inca::kNever, end = 0;
  inca::Status first;
  inca::Status run = world.run([&](inca::Communicator& comm) {
    std::vector<float> send(count, 1.0f);
    std::vector<float> recv(c == inca::Collective::allgather ? count * n : count, 0.0f);
    const inca::CollectiveOptions o{.algorithm = algorithm};
    start = std::min(start, comm.now());
    inca::Status s;
    switch (c) {
      case inca::Collective::allreduce:
        s = comm.allreduce(send.data(), recv.data(), count, inca::Dtype::f32, inca::ReduceOp::sum,
                           {.algorithm = algorithm});
        break;
      case inca::Collective::reduce:
        s = comm.reduce(send.data(), recv.data(), count, inca::Dtype::f32, inca::ReduceOp::sum, 0,
                        o);
        break;
      case inca::Collective::broadcast:
        s = comm.broadcast(send.data(), count, inca::Dtype::f32, 0, o);
        break;
      case inca::Collective::barrier:
        s = comm.barrier(o);
        break;
      case inca::Collective::reduce_scatter:
        s = comm.reduce_scatter(send.data(), recv.data(), count / n, inca::Dtype::f32,
                                inca::ReduceOp::sum, o);
        break;
      case inca::Collective::allgather:
        s = comm.allgather(send.data(), recv.data(), count, inca::Dtype::f32, o);
        break;
    }
    if (!s.ok() && first.ok()) first = s;
    end = std::max(end, comm.now());
  });
  if (!run.ok()) return run;
  if (!first.ok()) return first;
  return end - start;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {8, 65536, 1 << 20};
  auto world = inca::World::create({});
  if (!world.ok()) {
    std::fprintf(stderr, "%s\n", world.status().to_string().c_str());
    return 1;
  }
  const inca::ModelFabric model = (*world)->model_fabric();
  const std::uint32_t n = (*world)->size();
  std::printf("%-15s %-14s %10s %12s %12s %12s\n", "collective", "algorithm", "bytes", "sim_us",
              "model_us", "busbw_GBps");
  for (inca::Collective c :
       {inca::Collective::allreduce, inca::Collective::reduce, inca::Collective::broadcast,
        inca::Collective::barrier, inca::Collective::reduce_scatter, inca::Collective::allgather})
    for (std::size_t bytes : sizes) {
      if (c == inca::Collective::barrier && bytes != sizes.front()) continue;
      // nccl-tests' S: the total n x block for reduce-scatter and all-gather.
      const std::size_t s = c == inca::Collective::allgather ? bytes * n : bytes;
      for (const std::string& algorithm : {std::string("innet"), std::string(host_algorithm(c))}) {
        auto t = run_once(**world, c, algorithm, bytes);
        if (!t.ok()) {
          std::printf("%-15s %-14s %10zu  %s\n", std::string(to_string(c)).c_str(),
                      algorithm.c_str(), bytes, t.status().to_string().c_str());
          continue;
        }
        const auto m = model_collective(c, algorithm, model, bytes, 4);
        const double us = static_cast<double>(*t) / inca::kPicosPerMicro;
        const double busbw = us > 0 ? s / (us * 1e3) * inca::busbw_factor(c, n) : 0;
        std::printf("%-15s %-14s %10zu %12.2f %12.2f %12.2f\n", std::string(to_string(c)).c_str(),
                    algorithm.c_str(), c == inca::Collective::barrier ? 0 : s, us,
                    m ? static_cast<double>(*m) / inca::kPicosPerMicro : -1.0, busbw);
      }
    }
  return 0;
}
