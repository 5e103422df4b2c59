#include "algorithms/ring_allreduce.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "inca/communicator.hpp"
#include "protocol/host_driver.hpp"

namespace inca::algorithms {
namespace {

struct Segment {
  std::size_t first;  // element offset
  std::size_t count;
};

// Segment i of p near-equal segments; the first count % p get one element
// more. Computed, not tabled: a table per rank is O(p^2) memory at scale.
Segment segment(std::size_t count, std::size_t p, std::size_t i) {
  const std::size_t base = count / p, extra = count % p;
  return {i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

}  // namespace

std::size_t ring_chunk_bytes(std::size_t segment_bytes, std::size_t packet_payload,
                             std::size_t elem_size) {
  constexpr std::size_t kMaxChunk = 256 * 1024;
  // A quarter rounded up to whole elements: rounding down would leave a fifth
  // chunk of a few elements that costs a whole message.
  std::size_t quarter = (segment_bytes + 3) / 4;
  quarter += (elem_size - quarter % elem_size) % elem_size;
  std::size_t chunk = std::min(kMaxChunk, std::max(packet_payload, quarter));
  chunk -= chunk % elem_size;
  return std::max(chunk, elem_size);
}

Status ring_allreduce(Communicator& comm, const AllreduceArgs& a) {
  const std::size_t p = static_cast<std::size_t>(comm.size());
  const std::size_t r = static_cast<std::size_t>(comm.rank());
  const std::size_t esize = dtype_size(a.dtype);
  auto* buf = static_cast<std::byte*>(a.recv);
  if (!comm.timing_only() && a.send != a.recv && a.count > 0)
    std::memcpy(buf, a.send, a.count * esize);
  if (p == 1 || a.count == 0) return {};

  const int right = static_cast<int>((r + 1) % p);
  const int left = static_cast<int>((r + p - 1) % p);
  const int tag = Communicator::kCollectiveTag;
  const std::size_t max_seg = segment(a.count, p, 0).count;
  const std::size_t chunk_elems =
      ring_chunk_bytes(max_seg * esize, comm.driver().endpoint().config().p2p_payload_bytes,
                       esize) /
      esize;
  auto chunks_of = [&](const Segment& s) { return (s.count + chunk_elems - 1) / chunk_elems; };
  auto chunk_span = [&](const Segment& s, std::size_t j) {
    const std::size_t first = s.first + j * chunk_elems;
    return Segment{first, std::min(chunk_elems, s.first + s.count - first)};
  };
  auto at = [&](std::size_t elem) { return comm.timing_only() ? nullptr : buf + elem * esize; };

  std::vector<std::byte> scratch(comm.timing_only() ? 0 : max_seg * esize);
  std::vector<Request> recvs;

  // Step 0 of reduce-scatter: send our own segment r whole.
  const Segment own = segment(a.count, p, r);
  for (std::size_t j = 0; j < chunks_of(own); ++j) {
    const Segment c = chunk_span(own, j);
    auto sent = comm.post_send(at(c.first), c.count * esize, right, tag);
    if (!sent.ok()) return sent.status();
  }
  // 2(p-1) steps; in step s we receive segment (r - s - 1) (reduce-scatter)
  // or (r - s') (all-gather) chunk by chunk and forward each chunk onward as
  // soon as it is ready, so consecutive steps overlap.
  const std::size_t steps = 2 * (p - 1);
  // With fewer elements than ranks most segments are empty and their steps
  // move nothing: visit only the steps of the count non-empty segments
  // (segment i is received in steps s = r - 1 - i mod p, and s + p), so that
  // a small message costs O(count) per rank rather than O(p).
  std::vector<std::size_t> sparse_steps;
  if (a.count < p) {
    for (std::size_t i = 0; i < a.count; ++i)
      for (std::size_t s = (r + 2 * p - 1 - i) % p; s < steps; s += p) sparse_steps.push_back(s);
    std::sort(sparse_steps.begin(), sparse_steps.end());
  }
  const std::size_t visits = a.count < p ? sparse_steps.size() : steps;
  for (std::size_t v = 0; v < visits; ++v) {
    const std::size_t s = a.count < p ? sparse_steps[v] : v;
    const bool reducing = s < p - 1;
    const std::size_t seg_index = (r + 2 * p - s - 1) % p;
    const Segment seg = segment(a.count, p, seg_index);
    const std::size_t n = chunks_of(seg);
    recvs.assign(n, Request{});
    for (std::size_t j = 0; j < n; ++j) {
      const Segment c = chunk_span(seg, j);
      std::byte* into = comm.timing_only() ? nullptr
                        : reducing         ? scratch.data() + (c.first - seg.first) * esize
                                           : at(c.first);
      auto posted = comm.post_recv(into, c.count * esize, left, tag);
      if (!posted.ok()) return posted.status();
      recvs[j] = *posted;
    }
    for (std::size_t j = 0; j < n; ++j) {
      INCA_RETURN_IF_ERROR(comm.wait(recvs[j]));
      const Segment c = chunk_span(seg, j);
      if (reducing)
        comm.reduce_local(
            at(c.first),
            comm.timing_only() ? nullptr : scratch.data() + (c.first - seg.first) * esize, c.count,
            a.dtype, a.op);
      if (s + 1 < steps) {
        auto sent = comm.post_send(at(c.first), c.count * esize, right, tag);
        if (!sent.ok()) return sent.status();
      }
    }
  }
  return {};
}

}  // namespace inca::algorithms
