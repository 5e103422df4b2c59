// splitmix64's finaliser: a cheap bijective mix whose neighbouring inputs get
// unrelated outputs. Seeds per-link fault streams and the bench's inputs.
#pragma once

#include <cstdint>

namespace inca::core {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace inca::core
