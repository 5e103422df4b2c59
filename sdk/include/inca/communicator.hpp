// The rank-facing API: a communicator of ranks with blocking collectives,
// point-to-point messages and the switch primitive that algorithms are built
// from. Calls block the calling rank only (a fiber in the simulator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inca/algorithm.hpp"
#include "inca/caps.hpp"
#include "inca/collective.hpp"
#include "inca/cost_model.hpp"
#include "inca/dtype.hpp"
#include "inca/job_identity.hpp"
#include "inca/loc.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"
#include "inca/trace.hpp"

namespace inca {

namespace protocol {
class HostDriver;
struct MessageKind;
}  // namespace protocol
namespace manager {
struct TreePlan;
}
namespace runtime {
class TreeService;
class CollectiveFibers;
class ModelAnswers;
class TraceSpan;
}  // namespace runtime
namespace trace {
struct Arg;
}
struct AllreduceAlgorithm;
struct AllreduceArgs;

/// Options of one all-reduce.
struct AllreduceOptions {
  /// "auto", "innet", "ring", "recursive_doubling", "rabenseifner",
  /// "binomial_tree", "hierarchical", or any registered algorithm. "auto"
  /// picks the one the cost model predicts fastest among those this
  /// communicator can run (never "hierarchical": docs/model.md).
  std::string algorithm = "auto";
  /// Reduce in a fixed order so results are bit-identical across runs.
  bool reproducible = false;
};

/// Where split() builds a sub-communicator's reduction tree, and its window.
struct SplitOptions {
  /// The switches the tree may use. On a fabric with scale-up domains (hosts
  /// with an NVLink port to their domain's switch beside a NIC to the leaf),
  /// a group inside one domain reaches its domain switch and its leaf alike:
  /// `scale_up` roots it on the domain switch, `scale_out` keeps a group off
  /// the domain switches (over InfiniBand). `any`: the nearest switch.
  enum class Tree : std::uint8_t { any, scale_up, scale_out } tree = Tree::any;
  /// Slots per switch the tree takes (chunks in flight per host); 0: the
  /// parent communicator's.
  std::uint32_t window = 0;
};

/// A pending operation: a point-to-point message (isend, irecv) or a
/// non-blocking collective (iallreduce, ...). Complete it with wait(), or
/// poll it with test().
struct Request {
  std::uint64_t id = 0;
};

/// User tags must stay below this; tags above are reserved for collectives.
inline constexpr int kMaxUserTag = 0x7fff;

class alignas(64) Communicator {
 public:
  /// Built by the runtime for each rank; users receive it in their rank program.
  /// `model` (optional) lets `auto` pick the algorithm the cost model rates fastest.
  Communicator(std::uint32_t rank, std::uint32_t size, protocol::HostDriver& driver,
               const manager::TreePlan* tree, Status innet_status, bool timing_only,
               const ModelFabric* model = nullptr);
  /// Built by a World: the tree comes from `trees`, which re-forms it after
  /// failures, and failed collectives are recovered (docs/reliability.md).
  /// `answers` (optional) keeps the model's answers for all the World's ranks.
  Communicator(std::uint32_t rank, std::uint32_t size, protocol::HostDriver& driver,
               runtime::TreeService& trees, bool timing_only, const ModelFabric* model = nullptr,
               runtime::ModelAnswers* answers = nullptr);

  /// Gives the sub-communicator's tag context back (split()).
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return static_cast<int>(rank_); }
  int size() const { return static_cast<int>(size_); }
  /// The fabric's clock (virtual in the simulator).
  Time now() const;
  /// True in payload-free mode: buffers may be null and hold no results.
  bool timing_only() const { return timing_only_; }

  /// recv[i] = op over ranks of send[i]. send may equal recv (in place).
  Status allreduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op,
                   const AllreduceOptions& options = {});
  /// The algorithm the last allreduce ran, and why when it was not the one
  /// asked for. For a non-blocking collective: set by the wait() that
  /// completes it.
  const std::string& last_algorithm() const;
  const std::string& last_note() const;

  // The other collectives (sdk/runtime/collectives.cpp). Every rank calls
  // them with the same arguments; each validates its arguments and returns
  // invalid_argument / not_supported before anything is sent. last_algorithm()
  // and last_note() report the choice as for allreduce.

  /// recv[i] = op over ranks of send[i], on `root` only (recv may be null elsewhere).
  Status reduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op, int root,
                const CollectiveOptions& options = {});
  /// buf on every rank = buf on `root`.
  Status broadcast(void* buf, std::size_t count, Dtype dtype, int root,
                   const CollectiveOptions& options = {});
  /// Returns once every rank has entered the barrier.
  Status barrier(const CollectiveOptions& options = {});
  /// recv (recvcount elements) = block rank() of the reduction of send
  /// (size() x recvcount elements).
  Status reduce_scatter(const void* send, void* recv, std::size_t recvcount, Dtype dtype,
                        ReduceOp op, const CollectiveOptions& options = {});
  /// Block i of recv (size() x sendcount elements) = send of rank i. send may
  /// be recv's own block (in place).
  Status allgather(const void* send, void* recv, std::size_t sendcount, Dtype dtype,
                   const CollectiveOptions& options = {});

  /// Splits this communicator, as MPI_Comm_split: every rank calls it; the
  /// ranks that pass the same `color` (>= 0) form a sub-communicator, ranked
  /// by `key`, then by rank here. A negative color joins none and gets
  /// nullptr. Each sub-communicator has its own reduction tree and slots from
  /// the aggregation manager (when they do not fit, its in-network status
  /// says no_resource and `auto` uses host algorithms), so groups run
  /// collectives concurrently on one fabric; the tree is removed and its
  /// slots freed when every member has destroyed its sub-communicator.
  /// Collective tags are private to each communicator; user tags are not,
  /// so a rank's user messages to one peer on a communicator and its
  /// sub-communicator should use different tags. A sub-communicator must not
  /// outlive the World. Errors: not_supported on a communicator not made by
  /// a World; no_resource when a member already holds kMaxSubCommunicators
  /// sub-communicators; the parent's errors. In payload-free mode, whose
  /// messages carry no data, the colors travel out of band through the
  /// World (as SHARP's OOB gather), behind the same timed all-gather and a
  /// barrier.
  Result<std::unique_ptr<Communicator>> split(int color, int key);
  /// The same, with the sub-communicator's tree booked as job `job` instead
  /// of the World's FabricOptions::job_identity (on a described fabric; the
  /// members of one color pass the same job). invalid_argument for a
  /// priority above 9 or a quota above 100 %.
  Result<std::unique_ptr<Communicator>> split(int color, int key, const JobIdentity& job);
  /// split() with the sub-communicator's tree placed and sized by `options`.
  Result<std::unique_ptr<Communicator>> split(int color, int key, const SplitOptions& options);
  /// Every rank's `mine`, in rank order, exchanged out of band through the
  /// World (SHARP's OOB all-gather callback), then a host barrier: it
  /// carries data in payload-free mode too, where messages carry none.
  /// Every rank calls it. Errors: not_supported on a communicator not made
  /// by a World; the barrier's. Every rank gets the same entries, shared.
  Result<std::shared_ptr<const std::vector<std::string>>> out_of_band_allgather(std::string mine);
  /// Sub-communicators one rank may hold at once (point-to-point tag contexts).
  static constexpr int kMaxSubCommunicators = 3;
  /// World rank of this communicator's rank `rank` (the host it runs on).
  std::uint32_t world_rank(int rank) const;

  // Non-blocking collectives (nonblocking.cpp): the same collectives, started
  // now and completed by wait() or test() on the returned Request. Each runs
  // on a fiber of its own inside the rank, so several progress at once while
  // the rank program goes on, and they may complete in any order. As in MPI,
  // every rank starts a communicator's collectives (blocking or not) in the
  // same order. Argument errors are returned at once; failures on the fabric
  // at wait(). A non-blocking collective is not re-run after a timeout (its
  // error is returned). Collectives that use the switches take this
  // communicator's tree one at a time, in the order they were started (the
  // tree has one set of slots); host algorithms overlap freely. Buffers must
  // stay valid, and untouched, until the request completes. Started from
  // the rank program only (not_supported inside a collective).

  Result<Request> iallreduce(const void* send, void* recv, std::size_t count, Dtype dtype,
                             ReduceOp op, const AllreduceOptions& options = {});
  Result<Request> ireduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op,
                          int root, const CollectiveOptions& options = {});
  Result<Request> ibroadcast(void* buf, std::size_t count, Dtype dtype, int root,
                             const CollectiveOptions& options = {});
  Result<Request> ibarrier(const CollectiveOptions& options = {});
  Result<Request> ireduce_scatter(const void* send, void* recv, std::size_t recvcount, Dtype dtype,
                                  ReduceOp op, const CollectiveOptions& options = {});
  Result<Request> iallgather(const void* send, void* recv, std::size_t sendcount, Dtype dtype,
                             const CollectiveOptions& options = {});
  /// Progresses this rank's outstanding operations without blocking; true
  /// when `request` is complete, so that wait() returns at once (also for an
  /// unknown request: wait() reports it).
  bool test(Request request);
  /// Lets the fabric run for `duration` while outstanding operations
  /// progress: the rank's own computation, in the simulator (where time
  /// moves only while ranks block); on real fabrics it sleeps.
  void progress_for(Time duration);

  /// MINLOC / MAXLOC all-reduce of `count` (value, index) pairs (inca/loc.hpp).
  /// Hosts only (switches do not aggregate pairs): a binomial reduce to rank
  /// 0 with the pair reduction, then a binomial broadcast.
  Status allreduce_loc(const void* send, void* recv, std::size_t count, LocDtype dtype, LocOp op);

  /// Blocking point-to-point: exactly `bytes` from/to rank `peer` with `tag`.
  Status send(const void* data, std::size_t bytes, int dst, int tag = 0);
  Status recv(void* data, std::size_t bytes, int src, int tag = 0);
  /// Non-blocking forms; complete them with wait().
  Result<Request> isend(const void* data, std::size_t bytes, int dst, int tag = 0);
  Result<Request> irecv(void* data, std::size_t bytes, int src, int tag = 0);
  /// Completes a point-to-point or collective request started on this
  /// communicator; its status (invalid_argument for an unknown request).
  Status wait(Request request);
  Status wait_all(std::span<Request> requests);

  /// The switch primitive: an in-network all-reduce over this communicator's
  /// tree, no fallback. not_supported when there is no tree (innet_status()
  /// says why) or the switch cannot reduce the pair. `held` narrower than
  /// the buffer (the rest of `send` is zeros) sends the chunks outside it
  /// header-only (invalid_argument unless zero_is_identity(op, dtype));
  /// `kept` narrower than the buffer has the chunks outside it answered
  /// header-only, and leaves those elements of `recv` unwritten.
  Status innet_allreduce(const void* send, void* recv, std::size_t count, Dtype dtype, ReduceOp op,
                         bool reproducible = false, ElementRange held = {}, ElementRange kept = {});
  bool innet_available() const { return innet_status_.ok(); }
  /// Payload bytes of one switch slot of this communicator's tree (one
  /// in-network packet); 0 without a tree.
  std::size_t innet_payload_bytes() const;
  /// The dtypes and ops every switch of this communicator's tree aggregates
  /// (none without a tree). Pairs outside it never reach the switches: a
  /// pinned "innet" returns not_supported before anything is sent, and
  /// "auto" picks a host algorithm.
  SwitchCaps caps() const;
  const Status& innet_status() const { return innet_status_; }
  /// State an all-reduce algorithm keeps on this communicator between calls
  /// (e.g. the sub-communicators its prepare() split off), by algorithm
  /// name; empty until the algorithm sets it, destroyed with the communicator.
  std::shared_ptr<void>& algorithm_state(const std::string& name) { return algorithm_state_[name]; }
  /// The fabric as the cost model sees it; nullptr on a sub-communicator or
  /// one built without a model.
  const ModelFabric* model() const { return model_; }

  /// acc = acc op in, on this host (skipped in payload-free mode but still
  /// timed by the fabric's host model). Algorithms use this for local steps.
  /// Invalid arguments (null buffers, an unknown or unsupported pair) reduce
  /// nothing; the enclosing collective, or the next wait, returns the error.
  void reduce_local(void* acc, const void* in, std::size_t count, Dtype dtype, ReduceOp op);

  /// Tags reserved for library collectives (above kMaxUserTag). While a
  /// collective runs, kCollectiveTag + 0 .. kCollectiveTags - 1 are private
  /// to it: messages of an earlier, failed collective never match them, and
  /// they carry the collective's dtype and op so that ranks that called it
  /// with different arguments fail with `mismatch`.
  static constexpr int kCollectiveTag = 0x8000;
  static constexpr int kCollectiveTags = 8;
  /// Internal point-to-point without the user-tag check (collectives use it).
  Result<Request> post_send(const void* data, std::size_t bytes, int dst, int tag);
  Result<Request> post_recv(void* data, std::size_t bytes, int src, int tag);

  /// The rank's driver: the fabric's, behind the fibers of non-blocking collectives.
  protocol::HostDriver& driver();

 private:
  // What one collective in progress keeps: the main context's, or a
  // non-blocking collective's on its fiber (state()).
  struct CollectiveState {
    bool in_collective = false;
    std::uint64_t attempt = 0;  // the running (or last) attempt: selects private tags
    Dtype dtype = Dtype::u8;
    ReduceOp op = ReduceOp::sum;
    Status deferred_error;  // from reduce_local
    std::string last_algorithm;
    std::string last_note;
  };
  // A started non-blocking collective: its fiber and, once it ends, its status.
  struct PendingCollective {
    std::uint64_t fiber = 0;
    std::shared_ptr<Status> result;
  };
  CollectiveState& state();
  const CollectiveState& state() const;
  // Collective requests' ids have the top bit set; the endpoint's never do.
  static constexpr std::uint64_t kCollectiveRequestBit = std::uint64_t{1} << 63;
  static bool is_collective_request(Request r) { return (r.id & kCollectiveRequestBit) != 0; }
  Result<Request> start_nonblocking(const char* what, std::function<Status()> collective);
  Status wait_collective(std::uint64_t id);
  // Holds this communicator's tree for `attempt`, after every collective
  // that was started before it and uses the switches.
  void hold_tree(std::uint64_t attempt);
  void release_tree(std::uint64_t attempt);

  Communicator(std::uint32_t rank, std::vector<std::uint32_t> hosts, protocol::HostDriver& driver,
               std::shared_ptr<runtime::TreeService> trees, std::uint32_t context,
               bool timing_only);
  Status wait_op(std::uint64_t id, const char* what);
  // The model's time of `algorithm` for `collective` (model_ must be set),
  // from the World's answers when there are some.
  std::optional<Time> modelled(Collective collective, const std::string& algorithm,
                               std::size_t bytes, std::size_t elem_size) const;
  Result<std::unique_ptr<Communicator>> split_as(int color, int key, const SplitOptions& options,
                                                 const JobIdentity* job);
  // Recovery (collective_recovery.cpp).
  void refresh_tree();
  // One collective, attempted and recovered; `holds_tree` queues it for the
  // tree as algorithm.uses_switches does, without that flag's ring fallback.
  Status run_collective(const AllreduceAlgorithm& algorithm, const AllreduceArgs& args,
                        bool may_rerun = true, bool holds_tree = false);
  std::uint64_t begin_attempt(Dtype dtype, ReduceOp op);
  void end_attempt();
  std::uint16_t wire_tag(int tag) const;
  protocol::MessageKind message_kind(int tag) const;
  std::string choose_allreduce(std::size_t bytes, Dtype dtype, ReduceOp op) const;
  /// ok, or not_supported naming the pair when the tree cannot aggregate it.
  Status check_caps(std::string_view what, Dtype dtype, ReduceOp op) const;
  /// ok unless a message of `bytes` needs the tree's streaming lock
  /// (JobIdentity::streaming) and the tree could not take it for this
  /// collective: then lock_failed, the same on every rank.
  Status streaming_lock(std::size_t bytes) const;
  /// Resolves options.algorithm for `collective` to "innet" or one of its
  /// host algorithms (recorded in last_algorithm_ / last_note_) and runs
  /// `body(algorithm)` as one collective attempt (collectives.cpp).
  Status run_other_collective(Collective collective, const CollectiveOptions& options,
                              std::size_t bytes, std::size_t elem_size, Dtype dtype, ReduceOp op,
                              const std::function<Status(std::string_view algorithm)>& body);
  // The timeline (docs/tracing.md; trace_span.hpp): a span on this rank's
  // lane when a trace records `level`, else an inactive one (and `args` is
  // never called).
  runtime::TraceSpan trace_span(TraceDetail level, std::string_view category, std::string_view name,
                                const std::function<std::vector<trace::Arg>()>& args = {});
  // The span of one collective call, named by `collective`.
  runtime::TraceSpan trace_collective(std::string_view collective, const std::string& algorithm,
                                      std::size_t bytes, Dtype dtype, ReduceOp op);
  // A blocking wait on something other than a message, named by `what`.
  runtime::TraceSpan trace_wait(const char* what);
  // What a traced point-to-point request moves, for its wait's span.
  struct TracedRequest {
    bool send = false;
    int peer = 0;
    std::size_t bytes = 0;
  };

  // First, what every point-to-point message of a collective reads, so that
  // a rank touches two cache lines of its communicator per message (the
  // class is aligned to them): a simulation of a thousand ranks and more
  // misses the cache on each line (one miss per message each for hosts_ and
  // context_ when they sat behind the maps and the deque below).
  std::uint32_t rank_;
  std::uint32_t size_;
  std::uint32_t context_ = 0;
  bool timing_only_;
  std::shared_ptr<runtime::CollectiveFibers> fibers_;  // shared with sub-communicators
  protocol::HostDriver& driver_;                       // *fibers_
  runtime::TreeService* trees_ = nullptr;
  std::vector<std::uint32_t> hosts_;
  CollectiveState main_state_;
  std::map<std::uint64_t, TracedRequest> traced_requests_;  // by Request id, while tracing steps
  const manager::TreePlan* tree_;
  Status innet_status_;
  const ModelFabric* model_;
  runtime::ModelAnswers* model_answers_ = nullptr;      // null: ask model_ every time
  std::shared_ptr<const manager::TreePlan> tree_hold_;  // keeps tree_ alive across re-forms
  std::uint64_t tree_generation_ = 0;
  std::uint64_t own_attempts_ = 0;
  std::uint64_t* attempts_ = &own_attempts_;
  std::map<std::uint64_t, PendingCollective> pending_;  // by Request id
  std::deque<std::uint64_t> tree_queue_;  // attempts that use the switches, in start order
  std::shared_ptr<runtime::TreeService> group_trees_;
  std::uint64_t out_of_band_rounds_ = 0;  // out_of_band_allgather calls: the same on every rank
  std::map<std::string, std::shared_ptr<void>> algorithm_state_;
};

}  // namespace inca
