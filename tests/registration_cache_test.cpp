// The registration cache against a NIC that counts registrations: requests
// inside a registered region are hits, regions are page-aligned, leased
// regions are never evicted, the least recently used ones go past the byte
// limit, invalidation forgets freed memory, and a failed registration is
// the caller's error.
#include "verbs_transport/registration_cache.hpp"

#include <gtest/gtest.h>

#include <map>

namespace inca::verbs {
namespace {

class CountingNic final : public VerbsQueues {
 public:
  Result<MemoryRegion> register_memory(std::byte* addr, std::size_t bytes,
                                       bool remote_write) override {
    if (fail) return make_error(StatusCode::io_error, "ibv_reg_mr: Cannot allocate memory");
    ++registrations;
    live[++next] = {addr, bytes, remote_write};
    return MemoryRegion{addr, bytes, next, next + 1000, next};
  }
  void deregister(const MemoryRegion& r) override {
    ++deregistrations;
    live.erase(r.handle);
  }
  Status write_imm(std::uint32_t, LocalBuffer, std::uint64_t, std::uint32_t, std::uint32_t,
                   std::uint64_t) override {
    return {};
  }
  Status post_receive(std::uint32_t) override { return {}; }
  std::size_t poll(std::span<Completion>) override { return 0; }
  void wait(Time) override {}

  struct Live {
    std::byte* addr;
    std::size_t bytes;
    bool remote_write;
  };
  std::map<std::uint64_t, Live> live;
  std::uint32_t next = 0;
  int registrations = 0;
  int deregistrations = 0;
  bool fail = false;
};

constexpr std::size_t kPage = RegistrationCache::kPageBytes;

// Page-aligned scratch memory for the tests.
struct Pages {
  explicit Pages(std::size_t n) : bytes(n * kPage + kPage) {}
  std::byte* page(std::size_t i) {
    auto base = reinterpret_cast<std::uintptr_t>(bytes.data());
    base = (base + kPage - 1) & ~(std::uintptr_t{kPage} - 1);
    return reinterpret_cast<std::byte*>(base) + i * kPage;
  }
  std::vector<std::byte> bytes;
};

TEST(RegistrationCache, RequestsInsideARegisteredRegionAreHits) {
  CountingNic nic;
  Pages pages(8);
  {
    RegistrationCache cache(nic);
    auto a = cache.acquire(pages.page(1) + 100, 3 * kPage, true);
    ASSERT_TRUE(a.ok());
    // Page-aligned: pages 1..4 cover [page1 + 100, page4 + 100).
    EXPECT_EQ(a->addr, pages.page(1));
    EXPECT_EQ(a->bytes, 4 * kPage);
    EXPECT_TRUE(nic.live.begin()->second.remote_write);
    cache.release(*a);
    auto b = cache.acquire(pages.page(2), kPage, false);  // inside, local access is enough
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->handle, a->handle);
    EXPECT_EQ(cache.hits(), 1u);
    EXPECT_EQ(nic.registrations, 1);
    cache.release(*b);
    // Partly outside: a new registration.
    auto c = cache.acquire(pages.page(4), 2 * kPage, false);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(nic.registrations, 2);
    cache.release(*c);
    // A local-only region does not serve a remote-write request.
    auto d = cache.acquire(pages.page(5), 10, true);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(nic.registrations, 3);
    cache.release(*d);
  }
  EXPECT_EQ(nic.deregistrations, 3);  // everything goes with the cache
  EXPECT_TRUE(nic.live.empty());
}

TEST(RegistrationCache, EvictsLeastRecentlyUsedButNeverALeasedRegion) {
  CountingNic nic;
  Pages pages(8);
  RegistrationCache cache(nic, 2 * kPage);  // room for two one-page regions
  auto a = cache.acquire(pages.page(0), 1, false);
  auto b = cache.acquire(pages.page(2), 1, false);
  ASSERT_TRUE(a.ok() && b.ok());
  cache.release(*b);  // a stays leased
  auto c = cache.acquire(pages.page(4), 1, false);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(cache.evictions(), 1u);  // b went, not the leased a
  EXPECT_EQ(nic.live.count(a->handle), 1u);
  EXPECT_EQ(nic.live.count(b->handle), 0u);
  cache.release(*a);
  cache.release(*c);
  EXPECT_LE(cache.registered_bytes(), 2 * kPage);
}

TEST(RegistrationCache, InvalidationForgetsFreedMemory) {
  CountingNic nic;
  Pages pages(4);
  RegistrationCache cache(nic);
  auto a = cache.acquire(pages.page(0), kPage, true);
  ASSERT_TRUE(a.ok());
  cache.invalidate(pages.page(0), 16);  // still leased: it goes on release
  EXPECT_EQ(nic.deregistrations, 0);
  auto again = cache.acquire(pages.page(0), kPage, true);  // not served the stale region
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->handle, a->handle);
  cache.release(*a);
  EXPECT_EQ(nic.deregistrations, 1);
  cache.release(*again);
  cache.invalidate(pages.page(0), kPage);
  EXPECT_EQ(nic.deregistrations, 2);
  EXPECT_EQ(cache.regions(), 0u);
}

TEST(RegistrationCache, AFailedRegistrationIsReturned) {
  CountingNic nic;
  nic.fail = true;
  Pages pages(1);
  RegistrationCache cache(nic);
  const auto r = cache.acquire(pages.page(0), 64, true);
  EXPECT_EQ(r.status().code(), StatusCode::io_error);
  EXPECT_EQ(cache.regions(), 0u);
}

}  // namespace
}  // namespace inca::verbs
