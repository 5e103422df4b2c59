#include "manager/slot_pool.hpp"

#include <algorithm>

namespace inca::manager {

std::optional<std::uint32_t> SlotPool::allocate(std::uint32_t count) {
  if (count == 0) return std::nullopt;
  std::uint32_t cursor = 0;
  for (const auto& [base, n] : ranges_) {
    if (base - cursor >= count) break;
    cursor = base + n;
  }
  if (cursor + std::uint64_t{count} > size_) return std::nullopt;
  ranges_.emplace(cursor, count);
  used_ += count;
  return cursor;
}

bool SlotPool::release(std::uint32_t base) {
  auto it = ranges_.find(base);
  if (it == ranges_.end()) return false;
  used_ -= it->second;
  ranges_.erase(it);
  return true;
}

std::uint32_t SlotPool::largest_free_range() const {
  std::uint32_t cursor = 0;
  std::uint32_t best = 0;
  for (const auto& [base, n] : ranges_) {
    best = std::max(best, base - cursor);
    cursor = base + n;
  }
  return std::max(best, size_ - cursor);
}

}  // namespace inca::manager
