#include "dpdk/l2_table.hpp"

namespace inca::dpdk_switch {

std::uint64_t L2Table::key(const MacAddress& mac) {
  std::uint64_t k = 0;
  for (std::uint8_t b : mac) k = (k << 8) | b;
  return k;
}

bool L2Table::learn(const MacAddress& mac, std::uint16_t port, std::uint64_t now_ns) {
  if (is_multicast(mac)) return true;
  const std::uint64_t k = key(mac);
  auto it = entries_.find(k);
  if (it != entries_.end()) {
    it->second = {port, now_ns};
    return true;
  }
  if (entries_.size() >= capacity_) evict_aged(now_ns);
  if (entries_.size() >= capacity_) return false;
  entries_.emplace(k, Entry{port, now_ns});
  return true;
}

std::optional<std::uint16_t> L2Table::lookup(const MacAddress& mac, std::uint64_t now_ns) const {
  auto it = entries_.find(key(mac));
  if (it == entries_.end() || now_ns - it->second.seen_ns > age_ns_) return std::nullopt;
  return it->second.port;
}

void L2Table::evict_aged(std::uint64_t now_ns) {
  std::erase_if(entries_, [&](const auto& e) { return now_ns - e.second.seen_ns > age_ns_; });
}

}  // namespace inca::dpdk_switch
