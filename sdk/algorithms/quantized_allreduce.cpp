#include "algorithms/quantized_allreduce.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "inca/communicator.hpp"

namespace inca::algorithms {
namespace {

constexpr std::int32_t kNonFinite = 0x7fffffff;  // wins every max

template <typename T>
std::int32_t exponent_of(std::span<const T> values) {
  T largest = 0;
  for (T x : values) largest = std::max(largest, std::abs(x));  // NaN never wins a max
  if (largest == 0) return kEmptyBlock;
  int e = 0;
  std::frexp(largest, &e);  // largest = m * 2^e, 0.5 <= m < 1: |x| < 2^e
  return e;
}

template <typename T>
Status run(Communicator& comm, const AllreduceArgs& args) {
  const std::size_t block = std::max<std::size_t>(1, comm.innet_payload_bytes() / sizeof(T));
  const std::size_t blocks = (args.count + block - 1) / block;
  const bool data = !comm.timing_only() && args.count > 0;
  const auto* send = static_cast<const T*>(args.send);
  auto* recv = static_cast<T*>(args.recv);
  auto block_of = [&](std::size_t b) {
    const std::size_t first = b * block;
    return std::span<const T>(send + first, std::min(block, args.count - first));
  };

  // Round 1: every rank learns each block's largest exponent. A block with a
  // non-finite value contributes kNonFinite, so every rank sees it and fails
  // alike instead of leaving the others waiting.
  std::vector<std::int32_t> local(data ? blocks : 0), shared(data ? blocks : 0);
  if (data) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const auto values = block_of(b);
      const bool finite =
          std::all_of(values.begin(), values.end(), [](T x) { return std::isfinite(x); });
      local[b] = finite ? exponent_of(values) : kNonFinite;
    }
  }
  INCA_RETURN_IF_ERROR(comm.innet_allreduce(local.data(), shared.data(), blocks, Dtype::i32,
                                            ReduceOp::max, args.reproducible));
  if (const auto bad = std::find(shared.begin(), shared.end(), kNonFinite); bad != shared.end())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: innet_quantized: block {} (elements from {}) holds a "
                                  "non-finite value on some rank; block floating point cannot "
                                  "carry it",
                                  comm.rank(), bad - shared.begin(),
                                  (bad - shared.begin()) * static_cast<std::ptrdiff_t>(block)));

  // Round 2: the integers, summed exactly by the switches.
  const auto ranks = static_cast<std::uint32_t>(comm.size());
  std::vector<std::int32_t> q(data ? args.count : 0);
  if (data) {
    for (std::size_t b = 0; b < blocks; ++b) {
      if (shared[b] == kEmptyBlock) continue;
      const int shift = quantization_shift(shared[b], ranks);
      const std::size_t first = b * block;
      for (std::size_t i = first; i < std::min(first + block, args.count); ++i)
        q[i] = static_cast<std::int32_t>(std::lrint(std::ldexp(send[i], shift)));
    }
  }
  INCA_RETURN_IF_ERROR(comm.innet_allreduce(q.data(), q.data(), args.count, Dtype::i32,
                                            ReduceOp::sum, args.reproducible));
  if (data) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const int shift = shared[b] == kEmptyBlock ? 0 : quantization_shift(shared[b], ranks);
      const std::size_t first = b * block;
      for (std::size_t i = first; i < std::min(first + block, args.count); ++i)
        recv[i] = static_cast<T>(std::ldexp(static_cast<double>(q[i]), -shift));
    }
  }
  return {};
}

}  // namespace

std::int32_t block_exponent(std::span<const float> values) {
  return exponent_of(values);
}
std::int32_t block_exponent(std::span<const double> values) {
  return exponent_of(values);
}

std::int32_t quantization_shift(std::int32_t e, std::uint32_t ranks) {
  const auto headroom = static_cast<std::int32_t>(std::bit_width(std::max(ranks, 1u) - 1));
  return 30 - headroom - e;
}

Status quantized_allreduce(Communicator& comm, const AllreduceArgs& args) {
  if (args.op != ReduceOp::sum || (args.dtype != Dtype::f32 && args.dtype != Dtype::f64))
    return make_error(StatusCode::not_supported,
                      fmt::format("innet_quantized reduces f32 and f64 sums only, not {} {}",
                                  to_string(args.dtype), to_string(args.op)));
  return args.dtype == Dtype::f32 ? run<float>(comm, args) : run<double>(comm, args);
}

}  // namespace inca::algorithms
