// The collectives of inca.Communicator, blocking and non-blocking: their
// buffers checked and pinned (Operands), their options from the call or the
// world's defaults.
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {
namespace {

using OptString = std::optional<std::string>;
using OptCount = std::optional<std::size_t>;

// How a collective's receive buffer relates to its send buffer.
enum class Layout {
  same,     // as many elements (allreduce, reduce)
  scatter,  // 1/size of them (reduce_scatter)
  gather,   // size times as many (allgather)
};

struct OperandSpec {
  const char* call;
  Layout layout = Layout::same;
  bool want_recv = true;  // false: recv may stay None (reduce off the root)
};

bool overlap(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) {
  const auto* x = static_cast<const std::byte*>(a);
  const auto* y = static_cast<const std::byte*>(b);
  return x < y + b_bytes && y < x + a_bytes;
}

Operands prepare(const PyCommunicator& self, const OperandSpec& spec, py::handle send,
                 py::handle recv, const OptString& dtype, const OptCount& count) {
  const Communicator& c = self.peek(spec.call);
  const auto size = static_cast<std::size_t>(c.size());
  const std::string what_send = fmt::format("{}: send", spec.call);
  const std::string what_recv = fmt::format("{}: recv", spec.call);
  Operands o;
  if (send.is_none()) {
    // Payload-free: sizes only.
    if (!c.timing_only())
      throw_invalid(
          fmt::format("{} is None; only a payload-free world (timing_only=True) takes "
                      "None with count= and dtype=",
                      what_send));
    if (!count || !dtype)
      throw_invalid(fmt::format("{}: a payload-free call needs count= and dtype=", spec.call));
    if (!recv.is_none())
      throw_invalid(fmt::format("{}: a payload-free call takes no buffers", spec.call));
    o.dtype = parse_dtype_name(*dtype);
    o.count = spec.layout == Layout::scatter ? *count / size : *count;
    return o;
  }
  if (count)
    throw_invalid(
        fmt::format("{}: count= is for payload-free calls (send=None); the buffer's "
                    "size is the count",
                    spec.call));
  auto in = std::make_unique<PinnedBuffer>(send, what_send.c_str(), false);
  o.dtype = buffer_dtype(*in, what_send.c_str(), dtype);
  const std::size_t sent = in->count();
  std::size_t expected = sent;
  o.count = sent;
  if (spec.layout == Layout::scatter) {
    if (sent % size != 0)
      throw_invalid(
          fmt::format("{} has {} elements, not a multiple of the {} ranks", what_send, sent, size));
    o.count = expected = sent / size;
  } else if (spec.layout == Layout::gather) {
    expected = sent * size;
  }
  o.send = in->data();
  py::object result = py::reinterpret_borrow<py::object>(recv);
  if (recv.is_none() && spec.want_recv) {
    if (spec.layout == Layout::gather && py::hasattr(send, "shape")) {
      py::tuple shape = py::make_tuple(size) + py::tuple(send.attr("shape"));
      result = new_array(o.dtype, expected).attr("reshape")(shape);
    } else {
      result = new_array(o.dtype, expected, spec.layout == Layout::same ? send : py::none());
    }
  }
  if (!result.is_none()) {
    auto out = std::make_unique<PinnedBuffer>(result, what_recv.c_str(), true);
    (void)buffer_dtype(*out, what_recv.c_str(), std::string(to_string(o.dtype)));
    if (out->count() != expected)
      throw_invalid(fmt::format("{} has {} elements; {} needs {}", what_recv, out->count(),
                                spec.call, expected));
    o.recv = out->data();
    const bool same = out->data() == in->data() && out->bytes() == in->bytes();
    const bool own_block =
        spec.layout == Layout::gather &&
        in->data() == static_cast<std::byte*>(out->data()) + c.rank() * in->bytes();
    if (!same && !own_block && overlap(in->data(), in->bytes(), out->data(), out->bytes()))
      throw_invalid(fmt::format("{}: send and recv overlap without being the same buffer{}",
                                spec.call,
                                spec.layout == Layout::gather ? " (or recv's own block)" : ""));
    o.pins.push_back(std::move(out));
  }
  o.pins.push_back(std::move(in));
  o.result = std::move(result);
  return o;
}

AllreduceOptions allreduce_options(const PyCommunicator& self, const OptString& algorithm,
                                   std::optional<bool> reproducible) {
  return {algorithm.value_or(self.defaults().algorithm),
          reproducible.value_or(self.defaults().reproducible)};
}

// The other collectives know "auto", "innet" and their host algorithm; a
// world default naming an all-reduce algorithm leaves them at "auto".
CollectiveOptions collective_options(const PyCommunicator& self, const OptString& algorithm,
                                     std::optional<bool> reproducible) {
  const std::string& fallback = self.defaults().algorithm;
  const bool shared = fallback == "auto" || fallback == "innet";
  return {algorithm.value_or(shared ? fallback : std::string("auto")),
          reproducible.value_or(self.defaults().reproducible)};
}

// The broadcast buffer: read on the root, written elsewhere.
Operands broadcast_operands(const PyCommunicator& self, py::handle buffer, int root,
                            const OptString& dtype, const OptCount& count) {
  const Communicator& c = self.peek("broadcast");
  Operands o;
  if (buffer.is_none()) {
    if (!c.timing_only() || !count || !dtype)
      throw_invalid(
          "broadcast: buffer is None; only a payload-free world takes None, with count= and "
          "dtype=");
    o.dtype = parse_dtype_name(*dtype);
    o.count = *count;
    return o;
  }
  if (count) throw_invalid("broadcast: count= is for payload-free calls (buffer=None)");
  auto pin = std::make_unique<PinnedBuffer>(buffer, "broadcast: buffer", c.rank() != root);
  o.dtype = buffer_dtype(*pin, "broadcast: buffer", dtype);
  o.count = pin->count();
  o.recv = pin->data();
  o.result = py::reinterpret_borrow<py::object>(buffer);
  o.pins.push_back(std::move(pin));
  return o;
}

// One collective call: its pinned operands, and the blocking and the
// non-blocking C++ call on them.
struct Plan {
  Operands operands;
  std::function<Status(Communicator&)> run = nullptr;
  std::function<Result<Request>(Communicator&)> start = nullptr;
};

// The buffers of a plan, as its calls use them.
struct Buffers {
  const void* send;
  void* recv;
  std::size_t count;
  Dtype dtype;
};

// call(comm, buffers, blocking) makes the blocking call when `blocking` is
// std::true_type, else the non-blocking one.
template <typename Call>
Plan plan_of(Operands operands, Call call) {
  const Buffers b{operands.send, operands.recv, operands.count, operands.dtype};
  Plan p{std::move(operands)};
  p.run = [=](Communicator& c) { return call(c, b, std::true_type{}); };
  p.start = [=](Communicator& c) { return call(c, b, std::false_type{}); };
  return p;
}

Plan allreduce_plan(PyCommunicator& self, py::object send, py::object recv, std::string op,
                    OptString algorithm, std::optional<bool> reproducible, OptString dtype,
                    OptCount count) {
  const ReduceOp rop = parse_op_name(op);
  const AllreduceOptions options = allreduce_options(self, algorithm, reproducible);
  return plan_of(prepare(self, {"allreduce"}, send, recv, dtype, count),
                 [=](Communicator& c, const Buffers& b, auto blocking) {
                   if constexpr (blocking)
                     return c.allreduce(b.send, b.recv, b.count, b.dtype, rop, options);
                   else
                     return c.iallreduce(b.send, b.recv, b.count, b.dtype, rop, options);
                 });
}

Plan reduce_plan(PyCommunicator& self, py::object send, py::object recv, std::string op, int root,
                 OptString algorithm, std::optional<bool> reproducible, OptString dtype,
                 OptCount count) {
  const bool at_root = self.peek("reduce").rank() == root;
  const ReduceOp rop = parse_op_name(op);
  const CollectiveOptions options = collective_options(self, algorithm, reproducible);
  return plan_of(prepare(self, {"reduce", Layout::same, at_root}, send, recv, dtype, count),
                 [=](Communicator& c, const Buffers& b, auto blocking) {
                   if constexpr (blocking)
                     return c.reduce(b.send, b.recv, b.count, b.dtype, rop, root, options);
                   else
                     return c.ireduce(b.send, b.recv, b.count, b.dtype, rop, root, options);
                 });
}

Plan broadcast_plan(PyCommunicator& self, py::object buffer, int root, OptString algorithm,
                    OptString dtype, OptCount count) {
  const CollectiveOptions options = collective_options(self, algorithm, std::nullopt);
  return plan_of(broadcast_operands(self, buffer, root, dtype, count),
                 [=](Communicator& c, const Buffers& b, auto blocking) {
                   if constexpr (blocking)
                     return c.broadcast(b.recv, b.count, b.dtype, root, options);
                   else
                     return c.ibroadcast(b.recv, b.count, b.dtype, root, options);
                 });
}

Plan barrier_plan(PyCommunicator& self, OptString algorithm) {
  const CollectiveOptions options = collective_options(self, algorithm, std::nullopt);
  return plan_of(Operands{}, [=](Communicator& c, const Buffers&, auto blocking) {
    if constexpr (blocking)
      return c.barrier(options);
    else
      return c.ibarrier(options);
  });
}

Plan reduce_scatter_plan(PyCommunicator& self, py::object send, py::object recv, std::string op,
                         OptString algorithm, std::optional<bool> reproducible, OptString dtype,
                         OptCount count) {
  const ReduceOp rop = parse_op_name(op);
  const CollectiveOptions options = collective_options(self, algorithm, reproducible);
  return plan_of(prepare(self, {"reduce_scatter", Layout::scatter}, send, recv, dtype, count),
                 [=](Communicator& c, const Buffers& b, auto blocking) {
                   if constexpr (blocking)
                     return c.reduce_scatter(b.send, b.recv, b.count, b.dtype, rop, options);
                   else
                     return c.ireduce_scatter(b.send, b.recv, b.count, b.dtype, rop, options);
                 });
}

Plan allgather_plan(PyCommunicator& self, py::object send, py::object recv, OptString algorithm,
                    OptString dtype, OptCount count) {
  const CollectiveOptions options = collective_options(self, algorithm, std::nullopt);
  return plan_of(prepare(self, {"allgather", Layout::gather}, send, recv, dtype, count),
                 [=](Communicator& c, const Buffers& b, auto blocking) {
                   if constexpr (blocking)
                     return c.allgather(b.send, b.recv, b.count, b.dtype, options);
                   else
                     return c.iallgather(b.send, b.recv, b.count, b.dtype, options);
                 });
}

// Defines the blocking method `name` and its non-blocking twin "i" + name,
// with the same arguments.
template <typename... Args, typename... Extra>
void def_collective(py::class_<PyCommunicator>& cls, const char* name, const char* iname,
                    Plan (*plan)(PyCommunicator&, Args...), const char* doc, const char* idoc,
                    const Extra&... extra) {
  cls.def(
      name,
      [plan, name](PyCommunicator& self, Args... args) {
        Plan p = plan(self, std::move(args)...);
        self.run(name, p.run);
        return p.operands.result;
      },
      doc, extra...);
  cls.def(
      iname,
      [plan, iname](py::object self, Args... args) {
        auto& comm = self.cast<PyCommunicator&>();
        Plan p = plan(comm, std::move(args)...);
        return comm.start(self, iname, p.start, std::move(p.operands));
      },
      idoc, extra...);
}

constexpr const char* kAllreduceDoc =
    R"doc(recv[i] = op over ranks of send[i], on every rank. Returns recv.

send: a numpy array (any C-contiguous buffer) of an inca dtype. recv: an
array of as many elements and the same dtype, written in place (it may be
send itself: in place); None allocates one shaped like send.
op: "sum", "prod", "min", "max", "band", "bor", "bxor", "land", "lor",
"lxor" (bitwise ops need an integer dtype).
algorithm: "auto" picks the one the cost model predicts fastest among those
this communicator can run; "innet", "ring", "recursive_doubling",
"rabenseifner", "binomial_tree", "hierarchical", or any registered name
(inca.register_allreduce). None: the world's default.
reproducible: reduce in a fixed order, so results are bit-identical across
runs. dtype: only to name "bf16" for a uint16 array of its bits.
count: only with send=None, on a payload-free world (timing_only=True).
last_algorithm and last_note say what ran, and why when it was not what
was asked for. Raises inca.InvalidArgument (bad buffers), inca.NotSupported
(a pair the dtype lacks), inca.Timeout, inca.Mismatch.)doc";

constexpr const char* kReduceDoc =
    R"doc(recv[i] = op over ranks of send[i], on `root` only. Returns recv on the root, None elsewhere (unless a recv is passed).

Buffers, op, algorithm ("auto", "innet", "binomial"), reproducible, dtype
and count as for allreduce.)doc";

constexpr const char* kBroadcastDoc = R"doc(buffer on every rank = buffer on `root`. Returns buffer.

buffer: written in place on every rank but the root (where it may be
read-only). algorithm: "auto", "innet", "binomial". dtype and count as for
allreduce.)doc";

constexpr const char* kBarrierDoc = R"doc(Returns once every rank has entered the barrier.

algorithm: "auto", "innet", "dissemination".)doc";

constexpr const char* kReduceScatterDoc =
    R"doc(recv = block rank() of the reduction of send. Returns recv.

send holds size() blocks of equal length; recv (None: allocated) one block.
op, algorithm ("auto", "innet", "ring"), reproducible, dtype and count as for
allreduce (count: send's elements).)doc";

constexpr const char* kAllgatherDoc = R"doc(Block i of recv = send of rank i. Returns recv.

recv holds size() blocks of send's length; None allocates one shaped
(size(), *send.shape), so recv[i] is rank i's send. send may be recv's own
block (in place). algorithm: "auto", "innet", "ring". dtype and count as for
allreduce.)doc";

constexpr const char* kNonblocking =
    " Non-blocking: starts the collective and returns an inca.Request whose wait() returns what "
    "the blocking call returns. The buffers belong to it until it completes; every rank starts "
    "a communicator's collectives in the same order.";

}  // namespace

void bind_collectives(py::class_<PyCommunicator>& cls) {
  // The non-blocking docstrings: the blocking one's first line, then kNonblocking.
  static std::vector<std::string> idocs;
  const auto idoc = [](const char* doc) {
    const std::string_view d(doc);
    idocs.push_back(std::string(d.substr(0, d.find('\n'))) + kNonblocking);
    return idocs.back().c_str();
  };
  idocs.reserve(6);
  const py::arg_v recv("recv", py::none());
  const py::arg_v algorithm("algorithm", py::none());
  const py::arg_v reproducible("reproducible", py::none());
  const py::arg_v dtype("dtype", py::none());
  const py::arg_v count("count", py::none());
  const py::arg_v sum("op", "sum");
  const py::arg_v root("root", 0);
  def_collective(cls, "allreduce", "iallreduce", allreduce_plan, kAllreduceDoc, idoc(kAllreduceDoc),
                 py::arg("send"), recv, sum, algorithm, reproducible, dtype, count);
  def_collective(cls, "reduce", "ireduce", reduce_plan, kReduceDoc, idoc(kReduceDoc),
                 py::arg("send"), recv, sum, root, algorithm, reproducible, dtype, count);
  def_collective(cls, "broadcast", "ibroadcast", broadcast_plan, kBroadcastDoc, idoc(kBroadcastDoc),
                 py::arg("buffer"), root, algorithm, dtype, count);
  def_collective(cls, "barrier", "ibarrier", barrier_plan, kBarrierDoc, idoc(kBarrierDoc),
                 algorithm);
  def_collective(cls, "reduce_scatter", "ireduce_scatter", reduce_scatter_plan, kReduceScatterDoc,
                 idoc(kReduceScatterDoc), py::arg("send"), recv, sum, algorithm, reproducible,
                 dtype, count);
  def_collective(cls, "allgather", "iallgather", allgather_plan, kAllgatherDoc, idoc(kAllgatherDoc),
                 py::arg("send"), recv, algorithm, dtype, count);

  cls.def(
      "innet_allreduce",
      [](PyCommunicator& self, py::object send, py::object recv, const std::string& op,
         bool reproducible, const OptString& dtype, const OptCount& count,
         std::optional<std::pair<std::size_t, std::size_t>> held,
         std::optional<std::pair<std::size_t, std::size_t>> kept) {
        Operands o = prepare(self, {"innet_allreduce"}, send, recv, dtype, count);
        const ReduceOp rop = parse_op_name(op);
        auto range = [](const auto& r) {
          return r ? ElementRange{r->first, r->second} : ElementRange{};
        };
        self.run("innet_allreduce", [&](Communicator& c) {
          return c.innet_allreduce(o.send, o.recv, o.count, o.dtype, rop, reproducible, range(held),
                                   range(kept));
        });
        return o.result;
      },
      "The switch primitive: an in-network all-reduce over this communicator's tree, no "
      "fallback; returns recv. For algorithms (register with uses_switches=True). Raises "
      "inca.NotSupported when there is no tree (innet_status says why) or the switches cannot "
      "reduce the pair. held=(first, count): the elements of send this rank holds, zeros "
      "elsewhere; chunks wholly outside go up as header-only packets (bor, bxor and integer "
      "sum only; inca.InvalidArgument otherwise). kept=(first, count): the elements of recv "
      "this rank keeps; chunks wholly outside are answered header-only and not written.",
      py::arg("send"), recv, sum, py::arg("reproducible") = false, dtype, count,
      py::arg("held") = py::none(), py::arg("kept") = py::none());
  cls.def(
      "reduce_local",
      [](PyCommunicator& self, py::object acc, py::object in, const std::string& op,
         const OptString& dtype, const OptCount& count) {
        Operands o = prepare(self, {"reduce_local"}, in, acc, dtype, count);
        const ReduceOp rop = parse_op_name(op);
        self.run("reduce_local", [&](Communicator& c) {
          c.reduce_local(o.recv, o.send, o.count, o.dtype, rop);
          return Status();
        });
        return o.result;
      },
      "acc = acc op in on this host, in place; returns acc. Algorithms use it for local steps; "
      "the fabric's host model times it (in payload-free mode acc and in are None, with count= "
      "and dtype=). An invalid pair reduces nothing, and the enclosing collective returns the "
      "error.",
      py::arg("acc"), py::arg("in"), sum, dtype, count);
  cls.def(
      "allreduce_loc",
      [](PyCommunicator& self, py::object send, py::object recv, const std::string& op) {
        PinnedBuffer in(send, "allreduce_loc: send", false);
        const LocDtype dt = loc_dtype_of(in, "allreduce_loc: send");
        if (op != "minloc" && op != "maxloc")
          throw_invalid(fmt::format("allreduce_loc: op '{}' is neither minloc nor maxloc", op));
        const LocOp lop = op == "minloc" ? LocOp::minloc : LocOp::maxloc;
        if (recv.is_none()) recv = py::module_::import("numpy").attr("empty_like")(send);
        PinnedBuffer out(recv, "allreduce_loc: recv", true);
        if (loc_dtype_of(out, "allreduce_loc: recv") != dt || out.count() != in.count())
          throw_invalid("allreduce_loc: recv must hold as many pairs of the same dtype as send");
        self.run("allreduce_loc", [&](Communicator& c) {
          return c.allreduce_loc(in.data(), out.data(), in.count(), dt, lop);
        });
        return recv;
      },
      "MINLOC / MAXLOC all-reduce of (value, index) pairs: arrays of inca.loc_dtype(\"f32\" | "
      "\"f64\" | \"i32\" | \"i64\"). Keeps the smallest (largest) value and, on a tie, the "
      "smallest index, as MPI does; hosts only. Returns recv (None: allocated).",
      py::arg("send"), recv, py::arg("op") = "minloc");
}

}  // namespace inca::python
