// The MAC learning table of inca-switch's layer-2 path: source addresses are
// learned per ingress port and age out, so hosts can move between ports.
// Bounded, so a flood of forged source addresses cannot exhaust memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "dpdk/frame.hpp"

namespace inca::dpdk_switch {

class L2Table {
 public:
  static constexpr std::uint64_t kDefaultAgeNs = 300'000'000'000ull;  // 300 s, as 802.1D
  static constexpr std::size_t kDefaultCapacity = 65536;

  explicit L2Table(std::uint64_t age_ns = kDefaultAgeNs, std::size_t capacity = kDefaultCapacity)
      : age_ns_(age_ns), capacity_(capacity) {}

  /// Records that `mac` was seen on `port`. Multicast sources are ignored.
  /// Returns false when the table is full and `mac` is new.
  bool learn(const MacAddress& mac, std::uint16_t port, std::uint64_t now_ns);
  /// The port `mac` was last seen on, unless it aged out.
  std::optional<std::uint16_t> lookup(const MacAddress& mac, std::uint64_t now_ns) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint16_t port;
    std::uint64_t seen_ns;
  };
  static std::uint64_t key(const MacAddress& mac);
  void evict_aged(std::uint64_t now_ns);

  std::uint64_t age_ns_;
  std::size_t capacity_;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

}  // namespace inca::dpdk_switch
