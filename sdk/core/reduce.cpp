// Reduction kernels. Each (type, op) pair is a plain loop over __restrict
// pointers so that the compiler vectorises it. GCC 12 does so only at -O3: its
// -O2 "very-cheap" cost model rejects loops that need a scalar tail, so this
// file must be built at -O3 to be fast. Integer sum and prod wrap modulo
// 2^bits: they are computed in the unsigned type to avoid signed-overflow UB.
//
// Benchmark: bench/reduce_bench.cpp (BM_Reduce/<op>/<dtype>) measures these
// loops next to memcpy and an inline f32 streaming add in the same binary; the
// f32 sum kernel is expected to reach >= 70% of the streaming add.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "inca/reduce.hpp"

namespace inca {
namespace {

// Signed integers are computed in their unsigned twin. The trait is picked
// lazily (type_identity / make_unsigned are only instantiated on the chosen
// branch) because make_unsigned<float> is ill-formed.
template <typename T>
using Wide = typename std::conditional_t<std::is_integral_v<T>, std::make_unsigned<T>,
                                         std::type_identity<T>>::type;

template <typename T>
struct Sum {
  static T apply(T a, T b) {
    return static_cast<T>(static_cast<Wide<T>>(a) + static_cast<Wide<T>>(b));
  }
};
template <typename T>
struct Prod {
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T> && sizeof(T) < sizeof(unsigned)) {
      return static_cast<T>(static_cast<unsigned>(static_cast<Wide<T>>(a)) *
                            static_cast<unsigned>(static_cast<Wide<T>>(b)));
    } else {
      return static_cast<T>(static_cast<Wide<T>>(a) * static_cast<Wide<T>>(b));
    }
  }
};
// A plain `b < a ? b : a` would drop a NaN in b. The NaN tests are written as
// compare-and-select so the loops still vectorise (cmpps + blend).
template <typename T>
struct Min {
  static T apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return ((b < a || b != b) && a == a) ? b : a;
    } else {
      return b < a ? b : a;
    }
  }
};
template <typename T>
struct Max {
  static T apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return ((a < b || b != b) && a == a) ? b : a;
    } else {
      return a < b ? b : a;
    }
  }
};
template <typename T>
struct Band {
  static T apply(T a, T b) { return static_cast<T>(a & b); }
};
template <typename T>
struct Bor {
  static T apply(T a, T b) { return static_cast<T>(a | b); }
};
template <typename T>
struct Bxor {
  static T apply(T a, T b) { return static_cast<T>(a ^ b); }
};
template <typename T>
struct Land {
  static T apply(T a, T b) { return static_cast<T>((a != T{0}) & (b != T{0})); }
};
template <typename T>
struct Lor {
  static T apply(T a, T b) { return static_cast<T>((a != T{0}) | (b != T{0})); }
};
template <typename T>
struct Lxor {
  static T apply(T a, T b) { return static_cast<T>((a != T{0}) ^ (b != T{0})); }
};

template <typename T, template <typename> class Op>
void loop(T* __restrict out, const T* __restrict a, const T* __restrict b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = Op<T>::apply(a[i], b[i]);
}

// In-place form: out aliases a, so it cannot be __restrict against a.
template <typename T, template <typename> class Op>
void loop_into(T* __restrict acc, const T* __restrict in, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] = Op<T>::apply(acc[i], in[i]);
}

// out aliases b, or all three are the same buffer: __restrict would be UB, so
// this form lets the compiler add its own runtime overlap check.
template <typename T, template <typename> class Op>
void loop_alias(T* out, const T* a, const T* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = Op<T>::apply(a[i], b[i]);
}

template <typename T>
void dispatch_op(void* out, const void* a, const void* b, std::size_t n, ReduceOp op) {
  auto* o = static_cast<T*>(out);
  const auto* x = static_cast<const T*>(a);
  const auto* y = static_cast<const T*>(b);
  // Only a written buffer that is also read through another pointer breaks
  // __restrict; a == b alone is fine because both are only read.
  const bool in_place = out == a && a != b;
  const bool distinct = out != a && out != b;
#define INCA_CASE(OP, NAME)            \
  case ReduceOp::OP:                   \
    if (in_place)                      \
      loop_into<T, NAME>(o, y, n);     \
    else if (distinct)                 \
      loop<T, NAME>(o, x, y, n);       \
    else                               \
      loop_alias<T, NAME>(o, x, y, n); \
    return;
  switch (op) {
    INCA_CASE(sum, Sum)
    INCA_CASE(prod, Prod)
    INCA_CASE(min, Min)
    INCA_CASE(max, Max)
    INCA_CASE(land, Land)
    INCA_CASE(lor, Lor)
    INCA_CASE(lxor, Lxor)
    default:
      break;
  }
  if constexpr (std::is_integral_v<T>) {
    switch (op) {
      INCA_CASE(band, Band)
      INCA_CASE(bor, Bor)
      INCA_CASE(bxor, Bxor)
      default:
        break;
    }
  }
#undef INCA_CASE
}

// f16/bf16: widen a block to f32, reduce it there, round back (one rounding per
// pairwise step, see reduce.hpp).
template <float (*ToF32)(std::uint16_t), std::uint16_t (*FromF32)(float)>
void dispatch_half(void* out, const void* a, const void* b, std::size_t n, ReduceOp op) {
  constexpr std::size_t kBlock = 256;
  float wa[kBlock];
  float wb[kBlock];
  auto* o = static_cast<std::uint16_t*>(out);
  const auto* x = static_cast<const std::uint16_t*>(a);
  const auto* y = static_cast<const std::uint16_t*>(b);
  for (std::size_t base = 0; base < n; base += kBlock) {
    const std::size_t m = std::min(kBlock, n - base);
    for (std::size_t i = 0; i < m; ++i) {
      wa[i] = ToF32(x[base + i]);
      wb[i] = ToF32(y[base + i]);
    }
    dispatch_op<float>(wa, wa, wb, m, op);
    for (std::size_t i = 0; i < m; ++i) o[base + i] = FromF32(wa[i]);
  }
}

}  // namespace

void reduce_pair(void* out, const void* a, const void* b, std::size_t count, Dtype dtype,
                 ReduceOp op) {
  if (count == 0) return;
  switch (dtype) {
    case Dtype::i8:
      return dispatch_op<std::int8_t>(out, a, b, count, op);
    case Dtype::u8:
      return dispatch_op<std::uint8_t>(out, a, b, count, op);
    case Dtype::i16:
      return dispatch_op<std::int16_t>(out, a, b, count, op);
    case Dtype::u16:
      return dispatch_op<std::uint16_t>(out, a, b, count, op);
    case Dtype::i32:
      return dispatch_op<std::int32_t>(out, a, b, count, op);
    case Dtype::u32:
      return dispatch_op<std::uint32_t>(out, a, b, count, op);
    case Dtype::i64:
      return dispatch_op<std::int64_t>(out, a, b, count, op);
    case Dtype::u64:
      return dispatch_op<std::uint64_t>(out, a, b, count, op);
    case Dtype::f32:
      return dispatch_op<float>(out, a, b, count, op);
    case Dtype::f64:
      return dispatch_op<double>(out, a, b, count, op);
    case Dtype::f16:
      return dispatch_half<f16_to_f32, f32_to_f16>(out, a, b, count, op);
    case Dtype::bf16:
      return dispatch_half<bf16_to_f32, f32_to_bf16>(out, a, b, count, op);
  }
}

void reduce_into(void* acc, const void* in, std::size_t count, Dtype dtype, ReduceOp op) {
  reduce_pair(acc, acc, in, count, dtype, op);
}

}  // namespace inca
