// inca.Communicator's methods besides the collectives: identity and clock,
// point-to-point, requests, split, the switch primitive and host reduction
// that algorithms are built from, MINLOC/MAXLOC.
#include <pybind11/stl.h>

#include <fmt/format.h>

#include "errors.hpp"
#include "py_communicator.hpp"

namespace inca::python {
namespace {

using OptString = std::optional<std::string>;

constexpr double kSecondsPerPico = 1e-12;

void check_tag(int tag, const char* what) {
  if (tag < 0 || tag > kMaxUserTag)
    throw_invalid(fmt::format("{}: tag {} is outside 0..{}", what, tag, kMaxUserTag));
}

std::vector<std::string> names(std::uint32_t mask, auto all) {
  std::vector<std::string> out;
  for (auto v : all)
    if (mask & (1u << static_cast<unsigned>(v))) out.emplace_back(to_string(v));
  return out;
}

py::object split(py::object self_obj, int color, std::optional<int> key) {
  auto& self = self_obj.cast<PyCommunicator&>();
  Communicator& c = self.comm("split");
  std::optional<Result<std::unique_ptr<Communicator>>> made;
  const int k = key.value_or(c.rank());
  self.session().native([&] { made.emplace(c.split(color, k)); });
  check(made->status());
  if (!made->value()) return py::none();
  return py::cast(
      new PyCommunicator(self.session_ptr(), nullptr, std::move(made->value()), self.defaults()),
      py::return_value_policy::take_ownership);
}

// The buffer of a point-to-point message: pinned, or (payload-free) only
// its size.
struct Message {
  Operands operands;
  void* data = nullptr;
  std::size_t bytes = 0;
};

Message message_of(PyCommunicator& self, py::object buffer, std::optional<std::size_t> nbytes,
                   int tag, const char* what, bool receiving) {
  check_tag(tag, what);
  Message m;
  if (buffer.is_none()) {
    if (!self.peek(what).timing_only() || !nbytes)
      throw_invalid(
          fmt::format("{}: buffer is None; only a payload-free world takes None, with "
                      "nbytes=",
                      what));
    m.bytes = *nbytes;
    return m;
  }
  auto pin = std::make_unique<PinnedBuffer>(buffer, what, receiving);
  if (nbytes && *nbytes != pin->bytes())
    throw_invalid(
        fmt::format("{}: nbytes={} but the buffer has {} bytes (nbytes is for "
                    "payload-free calls)",
                    what, *nbytes, pin->bytes()));
  m.data = pin->data();
  m.bytes = pin->bytes();
  m.operands.pins.push_back(std::move(pin));
  if (receiving) m.operands.result = buffer;
  return m;
}

py::object message(py::object self_obj, py::object buffer, int peer, int tag,
                   std::optional<std::size_t> nbytes, bool receiving, bool blocking) {
  auto& self = self_obj.cast<PyCommunicator&>();
  const char* what = receiving ? (blocking ? "recv" : "irecv") : (blocking ? "send" : "isend");
  Message m = message_of(self, buffer, nbytes, tag, what, receiving);
  if (blocking) {
    self.run(what, [&](Communicator& c) {
      return receiving ? c.recv(m.data, m.bytes, peer, tag) : c.send(m.data, m.bytes, peer, tag);
    });
    return m.operands.result;
  }
  return self.start(
      self_obj, what,
      [&](Communicator& c) {
        return receiving ? c.irecv(m.data, m.bytes, peer, tag)
                         : c.isend(m.data, m.bytes, peer, tag);
      },
      std::move(m.operands));
}

py::object wait_all(PyCommunicator& self, py::list requests) {
  self.comm("wait_all");
  py::list results;
  std::optional<py::error_already_set> first;
  for (py::handle r : requests) {
    try {
      results.append(r.cast<PyRequest&>().wait());
    } catch (py::error_already_set& e) {
      // Every request completes; the first error is raised after.
      if (!first) first.emplace(std::move(e));
      results.append(py::none());
    }
  }
  if (first) throw std::move(*first);
  return results;
}

}  // namespace

void bind_communicator(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<PyRequest>(m, "Request",
                        "A pending operation: a point-to-point message (isend, irecv) or a "
                        "non-blocking collective (iallreduce, ...). Complete it with wait(), or "
                        "poll it with test().")
      .def("wait", &PyRequest::wait,
           "Completes the operation; returns its result (the receive buffer; None for "
           "barrier and sends) and raises its error. Again the same once complete.")
      .def("test", &PyRequest::test,
           "Progresses the rank's outstanding operations without blocking; True when this one "
           "is complete (wait() then returns at once).")
      .def_property_readonly("done", &PyRequest::done, "True once wait() or test() completed it.");

  py::class_<PyCommunicator> cls(
      m, "Communicator",
      "The rank-facing API: a communicator of ranks with blocking and non-blocking collectives, "
      "point-to-point messages and the switch primitive algorithms are built from. A rank "
      "program receives one (World.run); calls block the calling rank only. Buffers are numpy "
      "arrays (any C-contiguous buffer), used in place without copies.");
  cls.def_property_readonly(
         "rank", [](const PyCommunicator& s) { return s.peek("rank").rank(); },
         "This rank's number, 0 .. size-1.")
      .def_property_readonly(
          "size", [](const PyCommunicator& s) { return s.peek("size").size(); },
          "Ranks in this communicator.")
      .def(
          "now",
          [](PyCommunicator& s) {
            return static_cast<double>(s.comm("now").now()) * kSecondsPerPico;
          },
          "The fabric's clock in seconds (virtual time in the simulator).")
      .def(
          "now_ps", [](PyCommunicator& s) { return s.comm("now_ps").now(); },
          "The fabric's clock in integer picoseconds (exact).")
      .def_property_readonly(
          "timing_only",
          [](const PyCommunicator& s) { return s.peek("timing_only").timing_only(); },
          "True in payload-free mode: buffers are None and calls take count= and dtype=.")
      .def_property_readonly(
          "last_algorithm",
          [](PyCommunicator& s) { return s.comm("last_algorithm").last_algorithm(); },
          "The algorithm the last collective ran (for a non-blocking one: set by the wait() "
          "that completes it).")
      .def_property_readonly(
          "last_note", [](PyCommunicator& s) { return s.comm("last_note").last_note(); },
          "Why the last collective did not run what was asked for (a fallback), or ''.")
      .def_property_readonly(
          "innet_available",
          [](const PyCommunicator& s) { return s.peek("innet_available").innet_available(); },
          "True when this communicator has an aggregation tree.")
      .def_property_readonly(
          "innet_status",
          [](const PyCommunicator& s) { return s.peek("innet_status").innet_status().to_string(); },
          "'ok', or why in-network collectives are unavailable ('no_resource: ...').")
      .def_property_readonly(
          "innet_payload_bytes",
          [](const PyCommunicator& s) {
            return s.peek("innet_payload_bytes").innet_payload_bytes();
          },
          "Payload bytes of one switch slot of this communicator's tree (0 without a tree).")
      .def_property_readonly(
          "caps",
          [](const PyCommunicator& s) {
            const SwitchCaps caps = s.peek("caps").caps();
            py::dict out;
            out["dtypes"] = names(caps.dtypes, all_dtypes());
            out["ops"] = names(caps.ops, all_ops());
            return out;
          },
          "What every switch of this communicator's tree aggregates: {'dtypes': [...], "
          "'ops': [...]}. Other pairs never reach the switches.")
      .def(
          "world_rank",
          [](const PyCommunicator& s, int rank) { return s.peek("world_rank").world_rank(rank); },
          "World rank of this communicator's rank `rank` (the host it runs on).", "rank"_a)
      .def(
          "progress_for",
          [](PyCommunicator& s, double seconds) {
            if (!(seconds >= 0)) throw_invalid("progress_for: seconds must be >= 0");
            const auto t = static_cast<Time>(seconds / kSecondsPerPico);
            s.run("progress_for", [t](Communicator& c) {
              c.progress_for(t);
              return Status();
            });
          },
          "Lets the fabric run for `seconds` while outstanding operations progress: the rank's "
          "own computation in the simulator (where time moves only while ranks block); on real "
          "fabrics it sleeps.",
          "seconds"_a);

  // Point-to-point: one binding per call, over message().
  const auto def_message = [&cls](const char* name, bool receiving, bool blocking,
                                  const char* doc) {
    cls.def(
        name,
        [receiving, blocking](py::object self, py::object buffer, int peer, int tag,
                              std::optional<std::size_t> nbytes) {
          return message(self, buffer, peer, tag, nbytes, receiving, blocking);
        },
        doc, "buffer"_a, receiving ? "src"_a : "dst"_a, "tag"_a = 0, "nbytes"_a = py::none());
  };
  def_message("send", false, true,
              "Blocking send of the whole buffer to rank `dst` with `tag` (0 .. 32767). nbytes: "
              "only with buffer=None, on a payload-free world.");
  def_message("recv", true, true,
              "Blocking receive of exactly the buffer's size in bytes from rank `src` with "
              "`tag`, into buffer; returns it. nbytes: only with buffer=None (payload-free).");
  def_message("isend", false, false,
              "Non-blocking send; returns an inca.Request. The buffer must stay untouched until "
              "it completes.");
  def_message("irecv", true, false,
              "Non-blocking receive into buffer; returns an inca.Request whose wait() returns "
              "buffer.");
  cls.def(
         "wait", [](PyCommunicator&, PyRequest& r) { return r.wait(); },
         "Completes `request` (as request.wait()) and returns its result.", "request"_a)
      .def("wait_all", &wait_all,
           "Completes every request; returns their results in order. Raises the first error "
           "after all completed.",
           "requests"_a)
      .def(
          "test", [](PyCommunicator&, PyRequest& r) { return r.test(); },
          "True when `request` is complete (as request.test()).", "request"_a)
      .def("split", &split,
           "Splits this communicator, as MPI_Comm_split: every rank calls it; the ranks that "
           "pass the same color (>= 0) form a sub-communicator ranked by key (default: the rank "
           "here), then by rank. A negative color joins none and gets None. Each "
           "sub-communicator has its own reduction tree and slots (when they do not fit, its "
           "innet_status says no_resource and 'auto' uses host algorithms). A rank holds at "
           "most 3 at once; one is freed when it is garbage-collected, or at the end of the "
           "rank program. Raises inca.NotSupported in payload-free mode, inca.NoResource when a "
           "member holds 3 already.",
           "color"_a, "key"_a = py::none());
  bind_collectives(cls);
}

}  // namespace inca::python
