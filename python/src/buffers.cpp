#include "buffers.hpp"

#include <pybind11/numpy.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "errors.hpp"

namespace inca::python {
namespace {

// The format without its byte-order prefix; false for a foreign byte order.
bool strip_byte_order(std::string_view& format) {
  if (format.empty()) return true;
  const char c = format.front();
  if (c == '@' || c == '=' || c == '<' || c == '>' || c == '!') {
    format.remove_prefix(1);
    const bool big = c == '>' || c == '!';
    return big == (std::endian::native == std::endian::big);
  }
  return true;
}

std::optional<Dtype> dtype_of_code(char code, std::size_t itemsize) {
  constexpr std::string_view kSigned = "bhilqn";
  constexpr std::string_view kUnsigned = "BHILQN";
  const bool is_signed = kSigned.find(code) != std::string_view::npos;
  if (is_signed || kUnsigned.find(code) != std::string_view::npos) {
    switch (itemsize) {
      case 1:
        return is_signed ? Dtype::i8 : Dtype::u8;
      case 2:
        return is_signed ? Dtype::i16 : Dtype::u16;
      case 4:
        return is_signed ? Dtype::i32 : Dtype::u32;
      case 8:
        return is_signed ? Dtype::i64 : Dtype::u64;
      default:
        return {};
    }
  }
  if (code == 'e' && itemsize == 2) return Dtype::f16;
  if (code == 'f' && itemsize == 4) return Dtype::f32;
  if (code == 'd' && itemsize == 8) return Dtype::f64;
  return {};
}

std::string names_of(auto all) {
  std::string out;
  for (auto v : all) out += (out.empty() ? "" : ", ") + std::string(to_string(v));
  return out;
}

bool c_contiguous(const Py_buffer& v) {
  if (v.strides == nullptr) return true;
  Py_ssize_t expected = v.itemsize;
  for (int d = v.ndim - 1; d >= 0; --d) {
    if (v.shape[d] > 1 && v.strides[d] != expected) return false;
    expected *= v.shape[d];
  }
  return true;
}

py::module_& numpy() {
  static py::module_* np = new py::module_(py::module_::import("numpy"));  // leaked: see errors.cpp
  return *np;
}

}  // namespace

PinnedBuffer::PinnedBuffer(py::handle object, const char* what, bool writable)
    : object_(py::reinterpret_borrow<py::object>(object)) {
  if (object.is_none()) throw_invalid(fmt::format("{}: no buffer (None)", what));
  if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_RECORDS_RO) != 0) {
    PyErr_Clear();
    throw_invalid(fmt::format("{}: a {} is no buffer (pass a numpy array)", what,
                              std::string(py::str(object.get_type().attr("__name__")))));
  }
  std::string why;
  std::string_view format = view_.format ? view_.format : "B";
  if (writable && view_.readonly)
    why = "is read-only, and inca writes the result into it";
  else if (!c_contiguous(view_))
    why = "is not C-contiguous (a strided view); pass numpy.ascontiguousarray(x)";
  else if (!strip_byte_order(format))
    why = "is not in the machine's byte order; pass x.astype(x.dtype.newbyteorder('='))";
  else if (view_.itemsize > 0 && reinterpret_cast<std::uintptr_t>(view_.buf) %
                                         std::min<std::uintptr_t>(view_.itemsize, 8) !=
                                     0)
    why = "is not aligned to its element size";
  if (!why.empty()) {
    PyBuffer_Release(&view_);
    throw_invalid(fmt::format("{}: the buffer {}", what, why));
  }
}

PinnedBuffer::~PinnedBuffer() {
  PyBuffer_Release(&view_);
}

std::optional<Dtype> dtype_of_format(const std::string& format, std::size_t itemsize) {
  std::string_view f = format;
  if (!strip_byte_order(f) || f.size() != 1) return {};
  return dtype_of_code(f.front(), itemsize);
}

Dtype buffer_dtype(const PinnedBuffer& buffer, const char* what,
                   const std::optional<std::string>& requested) {
  const std::optional<Dtype> own = dtype_of_format(buffer.format(), buffer.itemsize());
  if (!requested) {
    if (own) return *own;
    throw_invalid(fmt::format(
        "{}: elements of format '{}' ({} bytes) are no inca dtype ({}; bf16 as a uint16 array "
        "with dtype=\"bf16\")",
        what, buffer.format(), buffer.itemsize(), names_of(all_dtypes())));
  }
  const Dtype want = parse_dtype_name(*requested);
  const bool raw_bf16 = want == Dtype::bf16 && (own == Dtype::u16 || own == Dtype::i16);
  if (own != want && !raw_bf16)
    throw_invalid(
        fmt::format("{}: dtype=\"{}\" but the buffer holds {} elements{}", what, *requested,
                    own ? std::string(to_string(*own)) : "format '" + buffer.format() + "'",
                    want == Dtype::bf16 ? " (bf16 travels as a uint16 view of its bits)" : ""));
  return want;
}

Dtype parse_dtype_name(const std::string& name) {
  if (auto d = parse_dtype(name)) return *d;
  throw_invalid(fmt::format("unknown dtype '{}' ({})", name, names_of(all_dtypes())));
}

ReduceOp parse_op_name(const std::string& name) {
  if (auto op = parse_op(name)) return *op;
  throw_invalid(fmt::format("unknown op '{}' ({})", name, names_of(all_ops())));
}

py::object numpy_dtype(Dtype dtype) {
  switch (dtype) {
    case Dtype::i8:
      return py::dtype::of<std::int8_t>();
    case Dtype::u8:
      return py::dtype::of<std::uint8_t>();
    case Dtype::i16:
      return py::dtype::of<std::int16_t>();
    case Dtype::u16:
    case Dtype::bf16:
      return py::dtype::of<std::uint16_t>();
    case Dtype::i32:
      return py::dtype::of<std::int32_t>();
    case Dtype::u32:
      return py::dtype::of<std::uint32_t>();
    case Dtype::i64:
      return py::dtype::of<std::int64_t>();
    case Dtype::u64:
      return py::dtype::of<std::uint64_t>();
    case Dtype::f16:
      return py::dtype("e");
    case Dtype::f32:
      return py::dtype::of<float>();
    case Dtype::f64:
      return py::dtype::of<double>();
  }
  throw_invalid("unknown dtype");
}

py::object new_array(Dtype dtype, std::size_t count, py::handle like) {
  if (!like.is_none() && py::hasattr(like, "shape") && py::hasattr(like, "size") &&
      like.attr("size").cast<std::size_t>() == count)
    return numpy().attr("empty")(like.attr("shape"), numpy_dtype(dtype));
  return numpy().attr("empty")(count, numpy_dtype(dtype));
}

py::object wrap_memory(const void* data, std::size_t count, Dtype dtype, bool writable) {
  // A base object keeps numpy from copying; the memory is inca's.
  py::capsule base(data, [](void*) {});
  const auto itemsize = static_cast<py::ssize_t>(dtype_size(dtype));
  py::array array(py::dtype(numpy_dtype(dtype)), {static_cast<py::ssize_t>(count)}, {itemsize},
                  data, base);
  if (!writable) array.attr("flags").attr("writeable") = false;
  return array;
}

LocDtype loc_dtype_of(const PinnedBuffer& buffer, const char* what) {
  for (LocDtype d : {LocDtype::f32_i32, LocDtype::f64_i32, LocDtype::i32_i32, LocDtype::i64_i32}) {
    // The format numpy exports for an array of that pair dtype.
    py::object probe = numpy().attr("zeros")(1, numpy_loc_dtype(d));
    const std::string format = py::str(py::memoryview(probe).attr("format"));
    if (buffer.itemsize() == loc_pair_size(d) && buffer.format() == format) return d;
  }
  throw_invalid(fmt::format(
      "{}: a MINLOC/MAXLOC buffer holds (value, index) pairs: an array of inca.loc_dtype(...) "
      "(format '{}' is none)",
      what, buffer.format()));
}

py::object numpy_loc_dtype(LocDtype dtype) {
  const char* value = "f4";
  switch (dtype) {
    case LocDtype::f32_i32:
      value = "f4";
      break;
    case LocDtype::f64_i32:
      value = "f8";
      break;
    case LocDtype::i32_i32:
      value = "i4";
      break;
    case LocDtype::i64_i32:
      value = "i8";
      break;
  }
  py::list fields;
  fields.append(py::make_tuple("value", value));
  fields.append(py::make_tuple("index", "i4"));
  return numpy().attr("dtype")(fields, py::arg("align") = true);
}

}  // namespace inca::python
