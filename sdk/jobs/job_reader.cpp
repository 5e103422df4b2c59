// Job files, version 1 (docs/job-files.md), read with the fabric files'
// YamlReader: unknown keys with the closest one as a hint, values with their
// units, every problem located. What a job needs from a particular fabric
// (its hosts exist, its trees fit) is checked later, by job_checks.
#include <set>

#include <fmt/format.h>

#include "fabric/yaml_reader.hpp"
#include "inca/job_description.hpp"

namespace inca {

std::string_view to_string(PlacementPolicy policy) {
  switch (policy) {
    case PlacementPolicy::hosts:
      return "hosts";
    case PlacementPolicy::packed:
      return "packed";
    case PlacementPolicy::spread:
      return "spread";
    case PlacementPolicy::random:
      return "random";
  }
  return "?";
}

namespace {

using fabric_file::YamlReader;

constexpr std::uint64_t kMaxCollectiveBytes = std::uint64_t{1} << 40;

class JobReader {
 public:
  explicit JobReader(YamlReader& r) : r_(r) {}

  std::optional<JobSet> read(const YAML::Node& root) {
    if (!r_.expect_map(root, "a job file")) return std::nullopt;
    r_.check_keys(root,
                  {"inca_jobs", "description", "quotas", "jobs_per_nic", "min_group_ranks", "jobs"},
                  "the job file");
    if (!root["inca_jobs"]) {
      r_.error(SourceLocation{r_.file(), 1, 1}, "not an inca job file: 'inca_jobs: 1' is missing",
               "the first key of a job file is its format version, inca_jobs: 1");
    } else if (auto v = r_.count(root, "inca_jobs", "the job file", 0, 1000); v && *v != 1) {
      r_.error(root["inca_jobs"], fmt::format("job format version {} is not supported", *v),
               "this inca reads version 1");
    }
    (void)r_.text(root, "description", "the job file");
    if (auto v = r_.count(root, "jobs_per_nic", "the job file", 1, 1024)) out_.jobs_per_nic = *v;
    if (auto v = r_.count(root, "min_group_ranks", "the job file", 1, 1 << 20))
      out_.min_group_ranks = *v;
    if (const YAML::Node q = root["quotas"]) read_quotas(q);
    const YAML::Node jobs = root["jobs"];
    if (!jobs) {
      r_.error(root, "the job file needs 'jobs'", "a list of jobs, each with a name and placement");
    } else if (r_.expect_list(jobs, "'jobs'")) {
      for (const YAML::Node& j : jobs) read_job(j);
    }
    if (r_.failed()) return std::nullopt;
    return std::move(out_);
  }

 private:
  void read_quotas(const YAML::Node& q) {
    if (!r_.expect_map(q, "'quotas'")) return;
    for (const auto& kv : q) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const bool digit = key.size() == 1 && key[0] >= '0' && key[0] <= '9';
      if (!digit) {
        r_.error(kv.first, fmt::format("'quotas' takes priorities 0 to 9, not '{}'", key),
                 "e.g. quotas: {0: 20, 9: 50} (percent of each switch)");
        continue;
      }
      if (auto v = r_.count(q, key, "'quotas'", 1, 100)) out_.quota_percent[key[0] - '0'] = *v;
    }
  }

  void read_job(const YAML::Node& j) {
    const std::string what0 = "a job";
    if (!r_.expect_map(j, what0)) return;
    JobDescription job;
    job.where = r_.at(j);
    job.name = r_.text(j, "name", what0).value_or("");
    const std::string what = job.name.empty() ? what0 : fmt::format("job '{}'", job.name);
    r_.check_keys(j, {"name", "tenant", "priority", "placement", "requests", "workload"}, what);
    r_.require(j, {"name", "placement"}, what);
    if (!job.name.empty() && !names_.insert(job.name).second)
      r_.error(j["name"], fmt::format("two jobs are named '{}'", job.name));
    job.tenant = r_.text(j, "tenant", what).value_or(job.name);
    if (auto p = r_.count(j, "priority", what, 0, 9)) job.priority = *p;
    if (const YAML::Node p = j["placement"]) read_placement(p, what, job.placement);
    if (const YAML::Node q = j["requests"]) read_requests(q, what, job.requests);
    job.requests.where = j["requests"] ? r_.at(j["requests"]) : job.where;
    if (const YAML::Node w = j["workload"];
        w && r_.expect_list(w, fmt::format("'workload' of {}", what)))
      for (const YAML::Node& step : w) read_step(step, what, job.workload);
    out_.jobs.push_back(std::move(job));
  }

  void read_placement(const YAML::Node& p, const std::string& job, JobPlacement& out) {
    const std::string what = fmt::format("the placement of {}", job);
    out.where = r_.at(p);
    if (!r_.expect_map(p, what)) return;
    r_.check_keys(p, {"hosts", "policy", "ranks", "seed"}, what);
    if (const YAML::Node h = p["hosts"]) {
      if (p["policy"] || p["ranks"])
        r_.error(p, fmt::format("{} gives hosts and a policy", what),
                 "give either a host list or a policy with ranks");
      out.policy = PlacementPolicy::hosts;
      if (!r_.expect_list(h, fmt::format("'hosts' of {}", what))) return;
      for (const YAML::Node& item : h) {
        if (!item.IsScalar()) {
          r_.error(item, fmt::format("a host of {} is not a name", what));
          continue;
        }
        out.hosts.push_back(item.Scalar());
        out.host_where.push_back(r_.at(item));
      }
      if (out.hosts.empty()) r_.error(h, fmt::format("{} lists no hosts", what));
      out.ranks = static_cast<std::uint32_t>(out.hosts.size());
      return;
    }
    const auto policy = r_.text(p, "policy", what);
    if (!policy) {
      r_.error(p, fmt::format("{} needs 'hosts' or 'policy'", what),
               "policy: packed, spread or random (with ranks: N)");
      return;
    }
    const std::vector<std::string> names = {"packed", "spread", "random"};
    if (*policy == "packed")
      out.policy = PlacementPolicy::packed;
    else if (*policy == "spread")
      out.policy = PlacementPolicy::spread;
    else if (*policy == "random")
      out.policy = PlacementPolicy::random;
    else {
      const auto near = YamlReader::closest(*policy, names);
      r_.error(p["policy"], fmt::format("'{}' is no placement policy", *policy),
               near ? fmt::format("did you mean '{}'?", *near) : "one of packed, spread, random");
    }
    if (auto n = r_.count(p, "ranks", what, 1, 1 << 20))
      out.ranks = *n;
    else if (!p["ranks"])
      r_.error(p, fmt::format("{} needs 'ranks'", what));
    if (auto s = r_.count(p, "seed", what, 0, ~std::uint64_t{0})) out.seed = *s;
    if (p["seed"] && out.policy != PlacementPolicy::random)
      r_.warning(r_.at(p["seed"]), fmt::format("'seed' of {} is used only by policy random", what));
  }

  void read_requests(const YAML::Node& q, const std::string& job, JobRequests& out) {
    const std::string what = fmt::format("the requests of {}", job);
    if (!r_.expect_map(q, what)) return;
    r_.check_keys(q, {"slots", "payload", "trees", "streaming", "streaming_threshold"}, what);
    if (auto v = r_.count(q, "slots", what, 1, 1 << 20)) out.slots = *v;
    if (auto v = r_.bytes(q, "payload", what, 4, 1 << 20)) out.payload_bytes = *v;
    if (auto v = r_.count(q, "trees", what, 1, 64)) out.trees = *v;
    if (auto v = r_.flag(q, "streaming", what)) out.streaming = *v;
    if (auto v = r_.bytes(q, "streaming_threshold", what, 0, kMaxCollectiveBytes))
      out.streaming_threshold = *v;
  }

  void read_step(const YAML::Node& s, const std::string& job, std::vector<WorkloadStep>& out) {
    const std::string what = fmt::format("a workload step of {}", job);
    if (!r_.expect_map(s, what)) return;
    r_.check_keys(s, {"collective", "size", "dtype", "op", "repeat", "start"}, what);
    r_.require(s, {"collective", "size"}, what);
    WorkloadStep step;
    step.where = r_.at(s);
    if (auto c = r_.text(s, "collective", what)) {
      if (auto parsed = parse_collective(*c)) {
        step.collective = *parsed;
      } else {
        const std::vector<std::string> names = {"allreduce", "reduce",         "bcast",
                                                "barrier",   "reduce_scatter", "allgather"};
        const auto near = YamlReader::closest(*c, names);
        r_.error(s["collective"], fmt::format("'{}' is no collective", *c),
                 near ? fmt::format("did you mean '{}'?", *near)
                      : fmt::format("one of {}", fmt::join(names, ", ")));
      }
    }
    if (auto b = r_.bytes(s, "size", what, 0, kMaxCollectiveBytes)) step.bytes = *b;
    if (auto d = r_.dtype_set(s, "dtype", what))
      step.dtype = single<Dtype>(s["dtype"], *d, "dtype");
    if (auto o = r_.op_set(s, "op", what)) step.op = single<ReduceOp>(s["op"], *o, "op");
    if (auto n = r_.count(s, "repeat", what, 1, 1 << 24)) step.repeat = *n;
    if (auto t = r_.time(s, "start", what)) step.start = *t;
    out.push_back(step);
  }

  // dtype_set / op_set read lists; a step names exactly one.
  template <typename T>
  T single(const YAML::Node& node, std::uint32_t mask, const char* kind) {
    if (mask != 0 && mask != ~0u && (mask & (mask - 1)) == 0)
      return static_cast<T>(__builtin_ctz(mask));
    r_.error(node, fmt::format("a workload step takes one {}", kind),
             fmt::format("e.g. {}: [f32]", kind));
    return T{};
  }

  YamlReader& r_;
  JobSet out_;
  std::set<std::string> names_;
};

}  // namespace

JobLoad JobSet::parse(const std::string& yaml, const std::string& file) {
  YamlReader reader(file);
  JobLoad load;
  if (auto root = reader.parse(yaml)) {
    JobReader jobs(reader);
    load.jobs = jobs.read(*root);
    if (load.jobs) load.jobs->source = file;
  }
  load.diagnostics = std::move(reader.diagnostics());
  return load;
}

JobLoad JobSet::load(const std::string& path) {
  JobLoad load;
  const auto text = fabric_file::read_text_file(path, "job", load.diagnostics);
  return text ? parse(*text, path) : load;
}

}  // namespace inca
