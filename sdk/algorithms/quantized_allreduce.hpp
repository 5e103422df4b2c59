// Quantized in-network all-reduce for switches that add only integers (as on
// Tofino): SwitchML's block floating point. Each packet's block of f32/f64
// values is scaled by a power of two shared by every rank, rounded to int32,
// summed exactly by the switches, and scaled back.
//
// The shared exponent is the largest of the ranks' block exponents, found by
// an in-network max over one int32 per block first (SwitchML piggybacks it on
// the previous packet; a separate round costs 4 bytes per block here). With
// |x| < 2^e for every value of the block and n ranks, the scale 2^(30 - e -
// ceil(lg n)) keeps each rounded value within 2^(30 - ceil(lg n)), so the sum
// of n of them stays below 2^30: it cannot overflow int32. The error of one
// element is at most n/2 units of 2^(e + ceil(lg n) - 30) (each rank's
// rounding), plus the final rounding to the dtype. Sum only. docs/model.md,
// "Quantized in-network all-reduce".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "inca/algorithm.hpp"

namespace inca::algorithms {

/// The block exponent of `values`: the smallest e with |x| < 2^e for every
/// x, or kEmptyBlock when all are zero. Non-finite values have none
/// (invalid_argument from the algorithm).
inline constexpr std::int32_t kEmptyBlock = -100000;
std::int32_t block_exponent(std::span<const float> values);
std::int32_t block_exponent(std::span<const double> values);

/// The power of two a block with shared exponent `e` is scaled by, for
/// `ranks` contributions.
std::int32_t quantization_shift(std::int32_t e, std::uint32_t ranks);

/// The algorithm "innet_quantized": f32 or f64 sum through int32 switches.
Status quantized_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
