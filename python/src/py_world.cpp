// inca.World (N ranks on the simulator or the live fabric, in this process)
// and inca.ProcessWorld (this process is one rank of a job started by
// `inca launch`), running Python rank programs.
#include <pybind11/stl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "buffers.hpp"
#include "errors.hpp"
#include "fabric_flags.hpp"
#include "inca/knobs.hpp"
#include "inca/process_world.hpp"
#include "inca/world.hpp"
#include "rank_programs.hpp"

namespace inca::python {
namespace {

constexpr double kSecondsPerPico = 1e-12;

// "link_gbps" -> "INCA_LINK_GBPS", and back.
std::string knob_env(const std::string& option) {
  std::string env = "INCA_";
  for (char c : option) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}
std::string option_name(const std::string& env) {
  std::string name = env.substr(5);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}
// "--link-gbps" -> "link_gbps".
std::string option_of(const std::string& flag) {
  std::string name = flag.substr(2);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::string knob_text(py::handle value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>() ? "1" : "0";
  return py::str(value);
}

// The options of a World (and of inca.describe): the fabric flags of the
// commands (`inca bench`, `inca describe`: fabric_flags.hpp), parsed as the
// commands parse them, and every other knob by its INCA_ name.
struct WorldOptions {
  FabricOptions fabric;
  AllreduceOptions call;
};

std::string flag_text(py::handle value) {
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    std::string out;
    for (py::handle item : value) out += (out.empty() ? "" : ",") + std::string(py::str(item));
    return out;
  }
  return knob_text(value);
}

WorldOptions world_options(py::object preset, py::object fabric_file, py::object ranks,
                           const py::kwargs& options) {
  WorldOptions w;
  FabricOptions& o = w.fabric;
  // INCA_* variables replace the defaults; arguments override both (as `inca bench`).
  check(apply_env_overrides(o, &w.call));
  CLI::App app{"inca.World"};
  cli::FabricFlags flags;
  cli::add_fabric_flags(app, o, flags);
  std::vector<std::string> args;  // the fabric flags, as a command line
  const auto flag = [&](const std::string& name, py::handle value) {
    args.push_back("--" + name);
    args.push_back(flag_text(value));
  };
  if (!preset.is_none()) flag("preset", preset);
  if (!fabric_file.is_none()) flag("fabric-file", fabric_file);
  if (!ranks.is_none()) flag("ranks", ranks);
  std::vector<std::pair<std::string, py::handle>> knobs;
  for (auto [key, value] : options) {
    const std::string name = py::str(key);
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    if (app.get_option_no_throw("--" + dashed) != nullptr) {
      flag(dashed, value);
      if (name == "topology") std::replace(args.back().begin(), args.back().end(), '_', '-');
    } else {
      knobs.emplace_back(name, value);
    }
  }
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
  } catch (const CLI::ParseError& e) {
    throw_invalid(fmt::format("World: {}", e.what()));
  }
  check(cli::finish_fabric_flags(flags, o));
  for (const auto& [name, value] : knobs) {
    const std::string text = knob_text(value);
    if (name == "fabric" && (text == "udp" || text == "memif"))
      throw_invalid(fmt::format(
          "World: fabric='{}' runs rank processes: start them with `inca launch --fabric {}` "
          "and join with inca.ProcessWorld()",
          text, text));
    const Status s = apply_knob(o, &w.call, knob_env(name), text);
    if (s.code() == StatusCode::invalid_argument && s.message().starts_with("no knob")) {
      std::vector<std::string> known;
      const auto add = [&known](std::string n) {
        if (n != "help" && std::find(known.begin(), known.end(), n) == known.end())
          known.push_back(std::move(n));
      };
      for (const CLI::Option* opt : app.get_options())
        if (opt->get_name().starts_with("--")) add(option_of(opt->get_name()));
      for (const KnobInfo& k : describe_knobs(o, w.call)) add(option_name(k.env));
      throw_invalid(fmt::format("World: unknown option '{}' ({})", name, fmt::join(known, ", ")));
    }
    check(s);
  }
  return w;
}

class PyWorld {
 public:
  PyWorld(py::object preset, py::object fabric_file, py::object ranks, py::kwargs options) {
    WorldOptions o = world_options(preset, fabric_file, ranks, options);
    auto world = World::create(o.fabric);
    check(world.status());
    world_ = std::move(*world);
    call_ = o.call;
  }

  py::list run(py::object rank_fn) {
    if (!PyCallable_Check(rank_fn.ptr()))
      throw_invalid("World.run: the rank program is not callable (def rank(comm): ...)");
    check_runnable();
    const bool sim = world_->options().fabric == FabricKind::sim;
    RunResults results(rank_fn, world_->size(), {call_.algorithm, call_.reproducible});
    Status status;
    running_ = true;
    broken_ = true;  // until every rank program has returned (a Ctrl-C raises below)
    struct Ended {
      bool& running;
      ~Ended() { running = false; }
    } ended{running_};
    status = run_interruptibly(results, [&] {
      return world_->run([&](Communicator& comm) {
        const auto slot = static_cast<std::size_t>(comm.rank());
        if (sim)
          results.run_on_worker(slot, comm);
        else
          results.run_here(slot, comm);
      });
    });
    broken_ = !results.all_returned();
    return results.finish(status);
  }

  // The same rank program as bench/python_overhead.py's Python one, in C++:
  // fill its `count` f32 (allocated before the run, as the Python arrays are)
  // with 1 and all-reduce them in place `iterations` times. Returns the wall
  // seconds of the run.
  double run_native_allreduce(std::size_t count, int iterations, const std::string& algorithm) {
    check_runnable();
    Status status, failed;
    std::chrono::duration<double> wall{};
    {
      py::gil_scoped_release release;
      // Every page touched before the clock starts, as the Python side's.
      std::vector<std::vector<float>> buffers(world_->size(), std::vector<float>(count));
      const auto start = std::chrono::steady_clock::now();
      status = world_->run([&](Communicator& comm) {
        std::vector<float>& data = buffers[static_cast<std::size_t>(comm.rank())];
        std::fill(data.begin(), data.end(), 1.0f);
        for (int i = 0; i < iterations; ++i) {
          Status s = comm.allreduce(data.data(), data.data(), count, Dtype::f32, ReduceOp::sum,
                                    {algorithm, false});
          if (!s.ok() && failed.ok()) failed = s;
        }
      });
      wall = std::chrono::steady_clock::now() - start;
    }
    check(status);
    check(failed);
    return wall.count();
  }

  World& world() { return *world_; }
  const AllreduceOptions& call() const { return call_; }

 private:
  void check_runnable() const {
    if (running_) throw_invalid("World.run: this world is running already");
    // The ranks of a world count the collectives they start, across runs; a
    // rank program that raised left its rank behind the others.
    if (broken_)
      throw_invalid(
          "World.run: a rank program raised in an earlier run, so the ranks disagree on the "
          "collectives they ran; make a new inca.World");
  }

  std::unique_ptr<World> world_;
  AllreduceOptions call_;
  bool running_ = false;
  bool broken_ = false;
};

class PyProcessWorld {
 public:
  PyProcessWorld() {
    auto world = ProcessWorld::from_env();
    check(world.status());
    world_ = std::move(*world);
  }

  py::object run(py::object rank_fn) {
    if (!PyCallable_Check(rank_fn.ptr()))
      throw_invalid("ProcessWorld.run: the rank program is not callable");
    RunResults results(rank_fn, 1, {});
    Status status;
    {
      py::gil_scoped_release release;
      status = world_->run([&](Communicator& comm) { results.run_here(0, comm); });
    }
    return results.finish(status)[0];
  }

  ProcessWorld& world() { return *world_; }

 private:
  std::unique_ptr<ProcessWorld> world_;
};

py::dict stats_dict(const WorldStats& stats) {
  py::dict out;
  for (const auto& [name, value] : stats_fields(stats)) out[py::str(std::string(name))] = value;
  return out;
}

}  // namespace

void bind_worlds(py::module_& m) {
  using namespace pybind11::literals;
  py::class_<PyWorld>(
      m, "World",
      "N ranks on one fabric in this process: the topology, the switches with their "
      "aggregation engines, the aggregation manager and the rank programs. fabric='sim' (the "
      "default) is the discrete-event simulator in virtual time; 'live' runs a thread per rank "
      "on the wall clock.")
      .def(py::init<py::object, py::object, py::object, py::kwargs>(),
           "Builds the fabric and asks the manager for the world communicator's tree (a tree "
           "that does not fit is no error: in-network algorithms then say why they are "
           "unavailable and 'auto' falls back).\n\n"
           "preset (presets/NAME.yaml) or fabric_file (a YAML fabric file): the fabric of a "
           "file; the timing options below then override its values, ranks resizes a "
           "generated file, and shape options are refused.\n"
           "options: the fabric flags of `inca bench` with underscores (topology, "
           "hosts_per_leaf, spines, link_gbps, latency_ns, mtu, slot_bytes, switch_slots, "
           "switch_dtypes and switch_ops as lists, host_reduce_gbps, send_overhead_ns, "
           "recv_overhead_ns, gap_ns, switch_latency_ns, aggregation_latency_ns, "
           "aggregation_gbps), and every other knob of `inca config --dump` by its name "
           "without INCA_ (fabric: 'sim' or 'live', window, timing_only, "
           "retransmit_timeout_us, ..., and algorithm, reproducible: the defaults of "
           "collective calls). INCA_* variables set the defaults. Raises "
           "inca.InvalidArgument for an unknown option, inca.ConfigError for a bad value or "
           "a bad fabric file (with its diagnostics).",
           "preset"_a = py::none(), "fabric_file"_a = py::none(), "ranks"_a = py::none())
      .def("run", &PyWorld::run,
           "Runs rank_fn(comm) on every rank until all return; returns their return values "
           "by rank. On the simulator each rank program runs on a thread of its own that "
           "takes turns with the simulator (one runs at a time, so runs are deterministic); "
           "on the live fabric each rank is a thread and waits release the GIL. When a rank "
           "program raises, the others' operations with it time out, and run raises "
           "inca.RankError naming the rank (its exception is the __cause__). Ctrl-C (a notebook's "
           "interrupt) raises KeyboardInterrupt in every rank program and then here.",
           "rank_fn"_a)
      .def("_run_native_allreduce", &PyWorld::run_native_allreduce,
           "For benchmarks: the C++ twin of a Python rank program that fills its count f32 "
           "(allocated before the run) with 1 and all-reduces them in place `iterations` times; "
           "returns the run's wall seconds.",
           "count"_a, "iterations"_a, "algorithm"_a)
      .def_property_readonly(
          "size", [](PyWorld& w) { return w.world().size(); }, "Ranks.")
      .def(
          "now", [](PyWorld& w) { return static_cast<double>(w.world().now()) * kSecondsPerPico; },
          "The fabric's clock in seconds (virtual in the simulator; it carries over between "
          "runs).")
      .def(
          "describe", [](PyWorld& w) { return w.world().describe(); },
          "Topology and tree, one line each.")
      .def_property_readonly(
          "innet_status", [](PyWorld& w) { return w.world().innet_status().to_string(); },
          "'ok', or why in-network collectives are unavailable.")
      .def_property_readonly(
          "tree_levels", [](PyWorld& w) { return w.world().tree_levels(); },
          "Tree height in switch levels (0 without a tree).")
      .def(
          "nic_tx_bytes",
          [](PyWorld& w, std::uint32_t rank) { return w.world().nic_tx_bytes(rank); },
          "Wire bytes host `rank`'s NIC has sent so far.", "rank"_a)
      .def(
          "stats", [](PyWorld& w) { return stats_dict(w.world().stats()); },
          "The world's counters (switches, hosts, faults, recovery), cumulative since it was "
          "made: subtract two snapshots for one run.")
      .def_property_readonly(
          "options",
          [](PyWorld& w) {
            py::dict out;
            for (const KnobInfo& k : describe_knobs(w.world().options(), w.call()))
              out[py::str(option_name(k.env))] = k.value;
            return out;
          },
          "Every option with its value, as text in the knob's units.")
      .def("__repr__", [](PyWorld& w) {
        const FabricOptions& o = w.world().options();
        return fmt::format("inca.World(ranks={}, fabric='{}', topology='{}')", o.ranks,
                           to_string(o.fabric), to_string(o.topology));
      });

  py::class_<PyProcessWorld>(
      m, "ProcessWorld",
      "This process as one rank of a job whose ranks are processes started by `inca launch -n "
      "N --fabric udp|memif -- PROGRAM`, reaching an inca-switch. The rank code is the same as "
      "on a World.")
      .def(py::init<>(),
           "Joins the job the launcher described in the environment (INCA_RANK, INCA_SIZE, "
           "INCA_SWITCH, INCA_PEERS, ...). Raises inca.InvalidArgument naming a missing "
           "variable, inca.IoError when the socket or memif port cannot be opened.")
      .def("run", &PyProcessWorld::run,
           "Runs rank_fn(comm) on this process's rank and returns its value. Afterwards the "
           "ranks meet in a barrier so that none exits while another still needs it. Raises "
           "inca.RankError when rank_fn raised.",
           "rank_fn"_a)
      .def_property_readonly(
          "rank", [](PyProcessWorld& w) { return w.world().rank(); }, "This process's rank.")
      .def_property_readonly(
          "size", [](PyProcessWorld& w) { return w.world().size(); }, "Ranks in the job.")
      .def(
          "describe", [](PyProcessWorld& w) { return w.world().describe(); },
          "The rank, the switch and the tree in one line.");

  m.def(
      "describe",
      [](py::object preset, py::object fabric_file, py::object ranks, bool expand,
         py::kwargs options) {
        const WorldOptions o = world_options(preset, fabric_file, ranks, options);
        auto fabric = World::describe_fabric(o.fabric);
        check(fabric.status());
        return expand ? fabric->to_yaml() : fabric->summary();
      },
      "What `inca describe` prints for the fabric a World with these arguments would run on: "
      "counts, links per rate, bisection bandwidth and oversubscription per tier, timing, the "
      "defaults that filled missing fields; with expand=True the same fabric written element by "
      "element as a fabric file (YAML). Raises inca.ConfigError with every diagnostic of a bad "
      "file.",
      "preset"_a = py::none(), "fabric_file"_a = py::none(), "ranks"_a = py::none(),
      "expand"_a = false);
  m.def("launched", &ProcessWorld::launched,
        "True when `inca launch` started this process as a rank (INCA_FABRIC=udp or memif).");
}

}  // namespace inca::python
