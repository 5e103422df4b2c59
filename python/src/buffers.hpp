// Python buffers (numpy arrays, bytearray, memoryview, ...) as inca buffers:
// the pointer, the element count and the dtype, taken from the buffer
// protocol without a copy, and checked first (C-contiguous, aligned, native
// byte order, writable where inca writes, a dtype inca has). bf16 has no
// numpy dtype: a uint16 (or int16) array with dtype="bf16" holds its raw bits.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "inca/dtype.hpp"
#include "inca/loc.hpp"

namespace inca::python {

namespace py = pybind11;

/// One exported buffer, held until the operation that uses it completes (a
/// bytearray cannot be resized while exported). Release with the GIL held.
class PinnedBuffer {
 public:
  /// Exports `object` (writable: for a receive buffer); throws inca.InvalidArgument
  /// naming `what` when it is no buffer, not C-contiguous, misaligned, of a
  /// foreign byte order or read-only where it must be written.
  PinnedBuffer(py::handle object, const char* what, bool writable);
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* data() const { return view_.buf; }
  std::size_t bytes() const { return static_cast<std::size_t>(view_.len); }
  std::size_t itemsize() const { return static_cast<std::size_t>(view_.itemsize); }
  std::size_t count() const { return itemsize() == 0 ? 0 : bytes() / itemsize(); }
  /// The buffer's struct format ("f", "<i4", "T{<f:value:<i:index:}", ...).
  std::string format() const { return view_.format ? view_.format : "B"; }
  py::handle object() const { return object_; }

 private:
  Py_buffer view_{};
  py::object object_;
};

/// The inca dtype of a buffer format, or nullopt (bool, complex, structs).
std::optional<Dtype> dtype_of_format(const std::string& format, std::size_t itemsize);

/// The dtype of `buffer`, or `requested` ("bf16", "f32", ...) after checking
/// that the buffer's elements are that type (bf16: any 2-byte integer).
/// Throws inca.InvalidArgument naming `what`.
Dtype buffer_dtype(const PinnedBuffer& buffer, const char* what,
                   const std::optional<std::string>& requested);

/// Parses a dtype / op / loc dtype name; throws inca.InvalidArgument listing
/// the valid names.
Dtype parse_dtype_name(const std::string& name);
ReduceOp parse_op_name(const std::string& name);

/// The numpy dtype that holds `dtype`'s elements (bf16: uint16).
py::object numpy_dtype(Dtype dtype);
/// A new numpy array of `count` elements shaped like `like` when it is an
/// array of `count` elements, else flat.
py::object new_array(Dtype dtype, std::size_t count, py::handle like = py::none());
/// A numpy array over memory inca owns, without a copy; read-only for
/// `writable` false. The memory must outlive every use of the array.
py::object wrap_memory(const void* data, std::size_t count, Dtype dtype, bool writable);

/// The pair dtype of a structured buffer with fields (value, index), as
/// inca.loc_dtype() makes them; throws inca.InvalidArgument otherwise.
LocDtype loc_dtype_of(const PinnedBuffer& buffer, const char* what);
/// The numpy structured dtype of `dtype`'s pairs.
py::object numpy_loc_dtype(LocDtype dtype);

}  // namespace inca::python
