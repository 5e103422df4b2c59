// Fabric files at scale: reading each preset (YAML, generators, checks),
// building its graph with every routing table, and creating a World on it
// (trees planned, ranks placed). Target: under 1 s for the largest preset.
//   build/bin/fabric_file_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "fabric/fabric_topology.hpp"
#include "inca/fabric_description.hpp"
#include "inca/world.hpp"

namespace {

inca::FabricDescription load_or_skip(benchmark::State& state, const std::string& path) {
  inca::FabricLoad load = inca::FabricDescription::load(path);
  if (!load.ok()) state.SkipWithError(load.report().c_str());
  return load.ok() ? *load.description : inca::FabricDescription{};
}

void BM_LoadPreset(benchmark::State& state, const std::string& path) {
  for (auto _ : state) benchmark::DoNotOptimize(inca::FabricDescription::load(path));
}

void BM_BuildTopologyWithRoutes(benchmark::State& state, const std::string& path) {
  const inca::FabricDescription fabric = load_or_skip(state, path);
  for (auto _ : state) benchmark::DoNotOptimize(inca::fabric_file::build_topology(fabric));
  state.counters["hosts"] = static_cast<double>(fabric.hosts.size());
  state.counters["links"] = static_cast<double>(fabric.links.size());
}

// What `inca bench --preset NAME` does before its first collective.
void BM_LoadBuildAndCreateWorld(benchmark::State& state, const std::string& path) {
  inca::FabricOptions options;
  options.timing_only = true;
  for (auto _ : state) {
    inca::FabricLoad load = inca::FabricDescription::load(path);
    if (!load.ok()) {
      state.SkipWithError(load.report().c_str());
      break;
    }
    benchmark::DoNotOptimize(inca::World::create(*load.description, options));
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto any = inca::FabricDescription::preset_path("default-100g");
  if (any.ok()) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(*any).parent_path())) {
      if (entry.path().extension() != ".yaml") continue;
      const std::string name = entry.path().stem().string(), path = entry.path().string();
      benchmark::RegisterBenchmark(("BM_LoadPreset/" + name).c_str(), BM_LoadPreset, path)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("BM_BuildTopologyWithRoutes/" + name).c_str(),
                                   BM_BuildTopologyWithRoutes, path)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("BM_LoadBuildAndCreateWorld/" + name).c_str(),
                                   BM_LoadBuildAndCreateWorld, path)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
