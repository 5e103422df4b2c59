// Simulator speed: discrete events per second of wall time on one core, for
// the in-network and ring all-reduce on the default fabric in payload-free
// mode (the mode large sweeps use). Target: >= 5 M events/s.
#include <benchmark/benchmark.h>

#include "inca/communicator.hpp"
#include "inca/world.hpp"

namespace {

void run_allreduce(benchmark::State& state, const char* algorithm) {
  inca::FabricOptions options;
  options.timing_only = true;
  options.ranks = static_cast<std::uint32_t>(state.range(0));
  const std::size_t count = static_cast<std::size_t>(state.range(1)) / sizeof(float);
  auto world = inca::World::create(options);
  if (!world.ok()) {
    state.SkipWithError(world.status().to_string().c_str());
    return;
  }
  std::uint64_t events = 0;
  for (auto _ : state) {
    const std::uint64_t before = (*world)->stats().events;
    inca::Status s = (*world)->run([&](inca::Communicator& comm) {
      (void)comm.allreduce(nullptr, nullptr, count, inca::Dtype::f32, inca::ReduceOp::sum,
                           {.algorithm = algorithm});
    });
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    events += (*world)->stats().events - before;
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_SimInnetAllreduce(benchmark::State& state) {
  run_allreduce(state, "innet");
}
void BM_SimRingAllreduce(benchmark::State& state) {
  run_allreduce(state, "ring");
}

BENCHMARK(BM_SimInnetAllreduce)->Args({64, 16 << 20})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimRingAllreduce)->Args({64, 16 << 20})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
