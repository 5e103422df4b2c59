// First-fit allocator of contiguous slot ranges in one switch's pool.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace inca::manager {

/// The manager's book of one switch's slots (the switch itself only checks
/// that installed ranges fit and do not overlap).
class SlotPool {
 public:
  explicit SlotPool(std::uint32_t size = 0) : size_(size) {}

  /// Reserves `count` contiguous slots; the base, or nullopt when no gap fits.
  std::optional<std::uint32_t> allocate(std::uint32_t count);
  /// Frees the range starting at `base`; false when nothing starts there.
  bool release(std::uint32_t base);
  std::uint32_t size() const { return size_; }
  std::uint32_t used() const { return used_; }
  std::uint32_t free() const { return size_ - used_; }
  /// The largest contiguous free range.
  std::uint32_t largest_free_range() const;

 private:
  std::uint32_t size_;
  std::uint32_t used_ = 0;
  std::map<std::uint32_t, std::uint32_t> ranges_;  // base -> count
};

}  // namespace inca::manager
