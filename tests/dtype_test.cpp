// Dtype / ReduceOp tables: sizes, names, wire-code bounds and the valid-pair
// table. Expected values are spelled out here rather than derived from the
// tables under test, so a wrong row in dtype.cpp shows up as a failure.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "inca/dtype.hpp"

namespace inca {
namespace {

struct DtypeRow {
  Dtype dtype;
  std::uint8_t code;
  const char* name;
  std::size_t size;
  bool floating;
};

constexpr DtypeRow kDtypeRows[] = {
    {Dtype::i8, 1, "i8", 1, false},   {Dtype::u8, 2, "u8", 1, false},
    {Dtype::i16, 3, "i16", 2, false}, {Dtype::u16, 4, "u16", 2, false},
    {Dtype::i32, 5, "i32", 4, false}, {Dtype::u32, 6, "u32", 4, false},
    {Dtype::i64, 7, "i64", 8, false}, {Dtype::u64, 8, "u64", 8, false},
    {Dtype::f16, 9, "f16", 2, true},  {Dtype::bf16, 10, "bf16", 2, true},
    {Dtype::f32, 11, "f32", 4, true}, {Dtype::f64, 12, "f64", 8, true},
};

struct OpRow {
  ReduceOp op;
  std::uint8_t code;
  const char* name;
  bool bitwise;
};

constexpr OpRow kOpRows[] = {
    {ReduceOp::sum, 1, "sum", false},  {ReduceOp::prod, 2, "prod", false},
    {ReduceOp::min, 3, "min", false},  {ReduceOp::max, 4, "max", false},
    {ReduceOp::band, 5, "band", true}, {ReduceOp::bor, 6, "bor", true},
    {ReduceOp::bxor, 7, "bxor", true}, {ReduceOp::land, 8, "land", false},
    {ReduceOp::lor, 9, "lor", false},  {ReduceOp::lxor, 10, "lxor", false},
};

TEST(DtypeTable, SizesCodesAndFloatness) {
  for (const auto& row : kDtypeRows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(static_cast<std::uint8_t>(row.dtype), row.code);
    EXPECT_EQ(dtype_size(row.dtype), row.size);
    EXPECT_EQ(is_floating(row.dtype), row.floating);
    EXPECT_EQ(to_string(row.dtype), row.name);
  }
}

TEST(DtypeTable, AllDtypesListsEveryCodeInOrder) {
  const auto list = all_dtypes();
  ASSERT_EQ(list.size(), std::size(kDtypeRows));
  for (std::size_t i = 0; i < list.size(); ++i) EXPECT_EQ(list[i], kDtypeRows[i].dtype);
}

TEST(DtypeTable, AllOpsListsEveryCodeInOrder) {
  const auto list = all_ops();
  ASSERT_EQ(list.size(), std::size(kOpRows));
  for (std::size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i], kOpRows[i].op);
    EXPECT_EQ(static_cast<std::uint8_t>(list[i]), kOpRows[i].code);
    EXPECT_EQ(to_string(list[i]), kOpRows[i].name);
  }
}

TEST(DtypeTable, UnknownCodesHaveNoSizeAndAFixedName) {
  for (const int code : {0, 13, 200, 255}) {
    const auto d = static_cast<Dtype>(code);
    EXPECT_EQ(dtype_size(d), 0u) << code;
    EXPECT_FALSE(is_floating(d)) << code;
    EXPECT_EQ(to_string(d), "unknown_dtype") << code;
  }
  for (const int code : {0, 11, 200, 255})
    EXPECT_EQ(to_string(static_cast<ReduceOp>(code)), "unknown_op") << code;
}

TEST(DtypeCodes, ValidityBounds) {
  for (int code = 0; code <= 255; ++code) {
    const auto c = static_cast<std::uint8_t>(code);
    EXPECT_EQ(is_valid_dtype_code(c), code >= 1 && code <= 12) << code;
    EXPECT_EQ(is_valid_op_code(c), code >= 1 && code <= 10) << code;
  }
}

TEST(DtypeNames, RoundTrip) {
  for (const Dtype d : all_dtypes()) {
    const auto parsed = parse_dtype(to_string(d));
    ASSERT_TRUE(parsed.has_value()) << to_string(d);
    EXPECT_EQ(*parsed, d);
  }
  for (const ReduceOp op : all_ops()) {
    const auto parsed = parse_op(to_string(op));
    ASSERT_TRUE(parsed.has_value()) << to_string(op);
    EXPECT_EQ(*parsed, op);
  }
}

TEST(DtypeNames, DocumentedAliases) {
  EXPECT_EQ(parse_dtype("float"), Dtype::f32);
  EXPECT_EQ(parse_dtype("float32"), Dtype::f32);
  EXPECT_EQ(parse_dtype("double"), Dtype::f64);
  EXPECT_EQ(parse_dtype("float64"), Dtype::f64);
  EXPECT_EQ(parse_dtype("half"), Dtype::f16);
  EXPECT_EQ(parse_dtype("float16"), Dtype::f16);
  EXPECT_EQ(parse_dtype("int"), Dtype::i32);
  EXPECT_EQ(parse_dtype("int32"), Dtype::i32);
}

TEST(DtypeNames, UnknownNamesAreNullopt) {
  for (const char* name :
       {"", "f8", "F32", "f32 ", " f32", "i128", "bfloat16x", "unknown_dtype", "sum", "fp32"}) {
    EXPECT_FALSE(parse_dtype(name).has_value()) << '"' << name << '"';
  }
  for (const char* name : {"", "add", "SUM", "sum ", "and", "xor", "unknown_op", "f32", "avg"}) {
    EXPECT_FALSE(parse_op(name).has_value()) << '"' << name << '"';
  }
  // A name that is a prefix of a valid one is not accepted.
  EXPECT_FALSE(parse_dtype(std::string_view("f32", 2)).has_value());
  EXPECT_FALSE(parse_op(std::string_view("bxor", 3)).has_value());
}

TEST(DtypeValidPairs, FullTable) {
  for (const auto& d : kDtypeRows) {
    for (const auto& o : kOpRows) {
      SCOPED_TRACE(std::string(o.name) + " on " + d.name);
      const bool expected = !(o.bitwise && d.floating);
      EXPECT_EQ(op_supported(o.op, d.dtype), expected);
      const Status st = check_op(o.op, d.dtype);
      if (expected) {
        EXPECT_TRUE(st.ok()) << st.to_string();
      } else {
        EXPECT_EQ(st.code(), StatusCode::not_supported);
        // The message must name both halves of the pair so a user can act on it.
        EXPECT_NE(st.message().find(o.name), std::string::npos) << st.message();
        EXPECT_NE(st.message().find(d.name), std::string::npos) << st.message();
      }
    }
  }
}

TEST(DtypeValidPairs, BadCodesAreInvalidArgument) {
  for (const int code : {0, 13, 255}) {
    const auto d = static_cast<Dtype>(code);
    EXPECT_FALSE(op_supported(ReduceOp::sum, d)) << code;
    const Status st = check_op(ReduceOp::sum, d);
    EXPECT_EQ(st.code(), StatusCode::invalid_argument) << code;
    EXPECT_NE(st.message().find(std::to_string(code)), std::string::npos) << st.message();
  }
  for (const int code : {0, 11, 255}) {
    const auto op = static_cast<ReduceOp>(code);
    EXPECT_FALSE(op_supported(op, Dtype::i32)) << code;
    const Status st = check_op(op, Dtype::i32);
    EXPECT_EQ(st.code(), StatusCode::invalid_argument) << code;
    EXPECT_NE(st.message().find(std::to_string(code)), std::string::npos) << st.message();
  }
  // Both bad: still invalid_argument, never not_supported.
  EXPECT_EQ(check_op(static_cast<ReduceOp>(0), static_cast<Dtype>(0)).code(),
            StatusCode::invalid_argument);
  // A bad op on a float dtype is invalid, not "bitwise on float".
  EXPECT_EQ(check_op(static_cast<ReduceOp>(99), Dtype::f32).code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace inca
