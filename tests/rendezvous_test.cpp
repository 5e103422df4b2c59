// The launcher's out-of-band all-gather over TCP: every rank gets every
// rank's blob in rank order, rounds keep apart, a bad request is refused
// without disturbing the others, and a missing rank is a timeout.
#include "verbs_transport/rendezvous.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "udp/bootstrap.hpp"

namespace inca::verbs {
namespace {

Blob blob_of(std::uint32_t rank, std::uint32_t round) {
  Blob b(rank * 3 + round);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>(rank * 16 + i);
  return b;
}

TEST(Rendezvous, EveryRankGetsEveryBlobInRankOrderRoundAfterRound) {
  constexpr std::uint32_t kRanks = 5;
  auto server = RendezvousServer::start(kRanks);
  ASSERT_TRUE(server.ok()) << server.status().to_string();
  std::vector<std::thread> ranks;
  std::vector<int> failures(kRanks, 0);
  for (std::uint32_t r = 0; r < kRanks; ++r)
    ranks.emplace_back([&, r] {
      OobAllgather exchange = rendezvous((*server)->address(), r, kRanks, 5 * kPicosPerSecond);
      for (std::uint32_t round = 0; round < 3; ++round) {
        auto all = exchange(blob_of(r, round));
        if (!all.ok() || all->size() != kRanks) {
          ++failures[r];
          continue;
        }
        for (std::uint32_t q = 0; q < kRanks; ++q) failures[r] += (*all)[q] != blob_of(q, round);
      }
    });
  for (auto& t : ranks) t.join();
  for (std::uint32_t r = 0; r < kRanks; ++r) EXPECT_EQ(failures[r], 0) << "rank " << r;
  EXPECT_EQ((*server)->refused(), 0u);
}

TEST(Rendezvous, BadRequestsAreRefusedAndAMissingRankTimesOut) {
  auto server = RendezvousServer::start(2);
  ASSERT_TRUE(server.ok());
  // Garbage, then a request for a rank out of range.
  auto target = udp::parse_ipv4_port((*server)->address());
  ASSERT_TRUE(target.ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&*target), sizeof(*target)), 0);
    const char garbage[20] = "not a rendezvous!!!";
    ASSERT_EQ(::send(fd, garbage, sizeof(garbage), 0), static_cast<ssize_t>(sizeof(garbage)));
    char reply;
    EXPECT_EQ(::recv(fd, &reply, 1, 0), 0);  // closed without a reply
    ::close(fd);
  }
  auto out_of_range = rendezvous_allgather((*server)->address(), 0, 7, 2, {}, kPicosPerSecond);
  EXPECT_EQ(out_of_range.status().code(), StatusCode::invalid_argument);
  EXPECT_EQ((*server)->refused(), 2u);
  // Rank 1 never comes.
  auto alone =
      rendezvous_allgather((*server)->address(), 0, 0, 2, blob_of(0, 0), 300 * kPicosPerMilli);
  EXPECT_EQ(alone.status().code(), StatusCode::timeout) << alone.status().to_string();
}

}  // namespace
}  // namespace inca::verbs
