#include "registration_cache.hpp"

#include <cstdint>

namespace inca::verbs {
namespace {

std::uintptr_t address(const std::byte* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

bool overlaps(const MemoryRegion& r, std::uintptr_t begin, std::uintptr_t end) {
  return address(r.addr) < end && begin < address(r.addr) + r.bytes;
}

}  // namespace

RegistrationCache::~RegistrationCache() {
  for (auto& [handle, e] : entries_) queues_.deregister(e.region);
}

Result<MemoryRegion> RegistrationCache::acquire(std::byte* addr, std::size_t bytes,
                                                bool remote_write) {
  if (bytes == 0) bytes = 1;
  const std::uintptr_t begin = address(addr);
  const std::uintptr_t end = begin + bytes;
  for (auto& [handle, e] : entries_) {
    if (e.stale || (remote_write && !e.remote_write)) continue;
    if (address(e.region.addr) > begin || address(e.region.addr) + e.region.bytes < end) continue;
    ++hits_;
    if (e.leases++ == 0) unleased_.erase(e.lru);
    return e.region;
  }
  ++misses_;
  const std::uintptr_t first = begin & ~(std::uintptr_t{kPageBytes} - 1);
  const std::uintptr_t last = (end + kPageBytes - 1) & ~(std::uintptr_t{kPageBytes} - 1);
  auto region =
      queues_.register_memory(reinterpret_cast<std::byte*>(first), last - first, remote_write);
  if (!region) return region.status();
  Entry e;
  e.region = *region;
  e.remote_write = remote_write;
  e.leases = 1;
  e.lru = unleased_.end();
  registered_bytes_ += e.region.bytes;
  entries_.emplace(e.region.handle, e);
  evict_past_limit();
  return *region;
}

void RegistrationCache::release(const MemoryRegion& region) {
  const auto it = entries_.find(region.handle);
  if (it == entries_.end() || it->second.leases == 0) return;
  Entry& e = it->second;
  if (--e.leases > 0) return;
  if (e.stale) {
    drop(it);
    return;
  }
  e.lru = unleased_.insert(unleased_.end(), region.handle);
  evict_past_limit();
}

void RegistrationCache::invalidate(const std::byte* addr, std::size_t bytes) {
  const std::uintptr_t begin = address(addr);
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (overlaps(it->second.region, begin, begin + bytes)) {
      if (it->second.leases > 0) {
        it->second.stale = true;
      } else {
        unleased_.erase(it->second.lru);
        drop(it);
      }
    }
    it = next;
  }
}

void RegistrationCache::drop(std::map<std::uint64_t, Entry>::iterator it) {
  queues_.deregister(it->second.region);
  registered_bytes_ -= it->second.region.bytes;
  entries_.erase(it);
}

void RegistrationCache::evict_past_limit() {
  while (registered_bytes_ > max_bytes_ && !unleased_.empty()) {
    const auto it = entries_.find(unleased_.front());
    unleased_.pop_front();
    ++evictions_;
    drop(it);
  }
}

}  // namespace inca::verbs
