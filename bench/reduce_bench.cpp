// Throughput of the reduction kernels (sdk/core/reduce.cpp) next to two
// references measured in the same binary, so a number is judged against the
// machine it ran on rather than against a remembered figure:
//   - BM_Memcpy: memcpy of one buffer, a copy-bandwidth ceiling;
//   - BM_StreamAddF32: `a[i] += b[i]` on float written inline, the loop an
//     ideal compiler-vectorised f32 sum kernel should match.
//
// Byte convention (all benchmarks, references included): bytes processed per
// iteration = 3 x buffer size, i.e. both inputs read plus the output written
// (acc is read and written, in is read). memcpy moves 2 x buffer (one read,
// one write) but is reported with the same 3x convention so that every row's
// GB/s is "buffer size x 3 / time" and rows compare directly; its real traffic
// is 2/3 of the figure shown.
//
// Sizes: 256 KiB per buffer fits in L2 on current x86 server cores (the two
// inputs together are 512 KiB, within a 1-2 MiB L2); 16 MiB per buffer is well
// beyond L2 and most of a shared L3, so it streams from memory.
//
// Run: reduce_bench --benchmark_min_time=0.2 --benchmark_repetitions=5
//      --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/reduce.hpp"

namespace {

constexpr std::int64_t kL2Bytes = 256 << 10;
constexpr std::int64_t kMemBytes = 16 << 20;

// Floats get 1 or 0 so that repeated sums saturate at a finite value and
// products collapse to 0 or stay 1: no inf, NaN or subnormal slow paths, which
// keeps the measurement about memory and arithmetic throughput.
std::vector<unsigned char> make_buffer(std::size_t bytes, inca::Dtype dtype) {
  std::vector<unsigned char> buf(bytes);
  const std::size_t n = bytes / inca::dtype_size(dtype);
  for (std::size_t i = 0; i < n; ++i) {
    const int v = 1 + static_cast<int>(i % 3);
    switch (dtype) {
      case inca::Dtype::f32: {
        const float f = v == 1 ? 1.0f : 0.0f;  // acc += 0 or 1: stays exact and finite
        std::memcpy(&buf[i * 4], &f, 4);
        break;
      }
      case inca::Dtype::f64: {
        const double d = v == 1 ? 1.0 : 0.0;
        std::memcpy(&buf[i * 8], &d, 8);
        break;
      }
      case inca::Dtype::f16: {
        const std::uint16_t h = inca::f32_to_f16(v == 1 ? 1.0f : 0.0f);
        std::memcpy(&buf[i * 2], &h, 2);
        break;
      }
      case inca::Dtype::bf16: {
        const std::uint16_t h = inca::f32_to_bf16(v == 1 ? 1.0f : 0.0f);
        std::memcpy(&buf[i * 2], &h, 2);
        break;
      }
      default:
        // Integers: little-endian value v in the low byte, rest zero.
        buf[i * inca::dtype_size(dtype)] = static_cast<unsigned char>(v);
        break;
    }
  }
  return buf;
}

void set_bytes(benchmark::State& state, std::int64_t bytes) {
  state.SetBytesProcessed(state.iterations() * 3 * bytes);
}

void BM_Reduce(benchmark::State& state, inca::Dtype dtype, inca::ReduceOp op) {
  const std::int64_t bytes = state.range(0);
  const std::size_t count = static_cast<std::size_t>(bytes) / inca::dtype_size(dtype);
  std::vector<unsigned char> acc = make_buffer(static_cast<std::size_t>(bytes), dtype);
  const std::vector<unsigned char> in = make_buffer(static_cast<std::size_t>(bytes), dtype);
  for (auto _ : state) {
    inca::reduce_into(acc.data(), in.data(), count, dtype, op);
    benchmark::DoNotOptimize(acc.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, bytes);
}

void BM_Memcpy(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  std::vector<unsigned char> dst(static_cast<std::size_t>(bytes), 1);
  const std::vector<unsigned char> src(static_cast<std::size_t>(bytes), 2);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), dst.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_bytes(state, bytes);
}

// The reference the f32 sum kernel is held to (>= 70% of this figure). It is
// deliberately the simplest loop GCC will vectorise, with no __restrict, so it
// measures what the compiler gives for free on this machine.
void BM_StreamAddF32(benchmark::State& state) {
  const std::int64_t bytes = state.range(0);
  const std::size_t n = static_cast<std::size_t>(bytes) / sizeof(float);
  std::vector<float> a(n, 1.0f);
  std::vector<float> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  for (auto _ : state) {
    float* pa = a.data();
    const float* pb = b.data();
    benchmark::DoNotOptimize(pa);
    benchmark::DoNotOptimize(pb);
    for (std::size_t i = 0; i < n; ++i) pa[i] += pb[i];
    benchmark::ClobberMemory();
  }
  set_bytes(state, bytes);
}

void register_all() {
  for (const std::int64_t bytes : {kL2Bytes, kMemBytes}) {
    benchmark::RegisterBenchmark("BM_Memcpy", BM_Memcpy)->Arg(bytes);
    benchmark::RegisterBenchmark("BM_StreamAddF32", BM_StreamAddF32)->Arg(bytes);
    for (const inca::Dtype dtype : inca::all_dtypes()) {
      const std::string name = "BM_Reduce/sum/" + std::string(inca::to_string(dtype));
      benchmark::RegisterBenchmark(name.c_str(), BM_Reduce, dtype, inca::ReduceOp::sum)->Arg(bytes);
    }
  }
  // Other ops at the L2 size only: they differ from sum in arithmetic, not in
  // memory traffic, so the in-cache size is where a non-vectorised loop shows.
  for (const inca::Dtype dtype : {inca::Dtype::f32, inca::Dtype::i32}) {
    for (const inca::ReduceOp op :
         {inca::ReduceOp::prod, inca::ReduceOp::min, inca::ReduceOp::max, inca::ReduceOp::band}) {
      if (!inca::op_supported(op, dtype)) continue;  // band is integer-only
      const std::string name = "BM_Reduce/" + std::string(inca::to_string(op)) + "/" +
                               std::string(inca::to_string(dtype));
      benchmark::RegisterBenchmark(name.c_str(), BM_Reduce, dtype, op)->Arg(kL2Bytes);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
