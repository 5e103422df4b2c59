// A memory registration cache in the manner of UCX's ucs_rcache: registering
// memory with an RDMA NIC pins its pages and costs tens of microseconds, and
// collectives hand the same buffers over and over, so a region stays
// registered after use and the next request inside it is a lookup. Regions
// are registered page-aligned (a neighbouring request often falls in the same
// pages), evicted least recently used once the registered bytes pass a
// limit, and never while a lease on them is held. A caller that frees
// memory it used calls invalidate() first, so a later allocation at the same
// address is not served a region of the old pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <unordered_map>

#include "inca/status.hpp"
#include "verbs_queues.hpp"

namespace inca::verbs {

class RegistrationCache {
 public:
  static constexpr std::size_t kPageBytes = 4096;

  explicit RegistrationCache(VerbsQueues& queues, std::size_t max_bytes = std::size_t{1} << 30)
      : queues_(queues), max_bytes_(max_bytes) {}
  /// Deregisters every region.
  ~RegistrationCache();
  RegistrationCache(const RegistrationCache&) = delete;
  RegistrationCache& operator=(const RegistrationCache&) = delete;

  /// A registered region that covers [addr, addr + bytes) (for RDMA WRITEs
  /// from peers too, with `remote_write`), held until release(). Its addr is
  /// the region's start: the caller's buffer lies at addr + (its address -
  /// region.addr). Errors: those of the registration.
  Result<MemoryRegion> acquire(std::byte* addr, std::size_t bytes, bool remote_write);
  /// Gives back a lease acquire() returned.
  void release(const MemoryRegion& region);
  /// Deregisters the regions that overlap [addr, addr + bytes); those still
  /// leased go when their last lease is released.
  void invalidate(const std::byte* addr, std::size_t bytes);

  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }
  std::uint64_t evictions() const { return evictions_; }
  std::size_t registered_bytes() const { return registered_bytes_; }
  std::size_t regions() const { return entries_.size(); }

 private:
  struct Entry {
    MemoryRegion region;
    bool remote_write = false;
    std::uint32_t leases = 0;
    bool stale = false;                      // invalidated while leased
    std::list<std::uint64_t>::iterator lru;  // position among unleased regions
  };
  void drop(std::map<std::uint64_t, Entry>::iterator it);
  void evict_past_limit();

  VerbsQueues& queues_;
  std::size_t max_bytes_;
  std::map<std::uint64_t, Entry> entries_;  // by handle
  std::list<std::uint64_t> unleased_;       // least recently used first
  std::size_t registered_bytes_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace inca::verbs
