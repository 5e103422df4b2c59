// The control channel end to end in one process: SwitchControlClient against
// the switch's ControlServer (no DPDK involved), plus the client's timeouts
// and the server's handling of peers that break the protocol.
#include "manager/switch_control_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "dpdk/control_server.hpp"

namespace inca {
namespace {

using manager::SwitchControlClient;

// A control server on a free loopback port, polled by a background thread,
// answering like a switch with one port and a slot pool of 8.
class ServerThread {
 public:
  ServerThread() {
    auto s = dpdk_switch::ControlServer::listen("127.0.0.1:0");
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    server_.emplace(std::move(*s));
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    thread_ = std::thread([this] {
      while (!stop_) {
        server_->poll([this](const wire::ControlRequest& r) { return answer(r); });
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  ~ServerThread() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& address() const { return address_; }
  /// Only after stop(): the server belongs to its thread until then.
  std::uint64_t malformed() const { return server_->malformed(); }

 private:
  wire::ControlReply answer(const wire::ControlRequest& r) {
    wire::ControlReply reply{r.id, r.kind(), {}, {}};
    if (r.kind() == wire::ControlKind::ping) {
      wire::SwitchInfo info;
      info.name = "fake";
      info.slots = 8;
      info.ports = {{"net_memif0", {2, 0, 0, 0, 0, 1}}};
      reply.body = info;
    } else if (r.kind() == wire::ControlKind::get_counters) {
      reply.body = std::vector<wire::Counter>{{"port0.rx_packets", 3}};
    } else if (const auto* t = std::get_if<wire::TreeInstall>(&r.body); t && t->slot_count > 8) {
      reply.status = make_error(StatusCode::no_resource, "8 slots");
    }
    return reply;
  }

  std::optional<dpdk_switch::ControlServer> server_;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST(SwitchControlClient, TalksToTheSwitchServer) {
  ServerThread server;
  auto client = SwitchControlClient::connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  auto info = client->ping();
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->name, "fake");
  ASSERT_EQ(info->ports.size(), 1u);

  wire::TreeInstall tree;
  tree.slot_count = 4;
  EXPECT_TRUE(client->install(tree).ok());
  tree.slot_count = 64;
  const Status refused = client->install(tree);
  EXPECT_EQ(refused.code(), StatusCode::no_resource);
  EXPECT_EQ(refused.message(), "8 slots");
  EXPECT_TRUE(client->remove({1, 2}).ok());
  EXPECT_TRUE(client->set_neighbor({}).ok());
  auto counters = client->counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(manager::find_counter(*counters, "port0.rx_packets"), 3u);
  EXPECT_FALSE(manager::find_counter(*counters, "nope").has_value());
}

TEST(SwitchControlClient, ServerAnswersGarbageAndCloses) {
  ServerThread server;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = manager::parse_control_address(server.address());
  ASSERT_TRUE(addr.ok());
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(addr->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  // A well-framed request with an unknown kind: an error reply, and the
  // connection stays usable.
  const unsigned char unknown[] = {0, 0, 0, 6, 1, 42, 0, 0, 0, 7};
  ASSERT_EQ(::send(fd, unknown, sizeof(unknown), 0), static_cast<ssize_t>(sizeof(unknown)));
  std::vector<std::byte> in(4096);
  ssize_t got = ::recv(fd, in.data(), in.size(), 0);
  ASSERT_GT(got, 0);
  auto reply = wire::decode_control_reply(std::span(in.data(), static_cast<std::size_t>(got)));
  ASSERT_TRUE(reply.ok()) << reply.status().to_string();
  EXPECT_EQ(reply->id, 7u);
  EXPECT_EQ(reply->status.code(), StatusCode::malformed_packet);

  // A broken length prefix: an error reply, then the server hangs up.
  const unsigned char broken[] = {0xff, 0xff, 0xff, 0xff, 0, 0};
  ASSERT_EQ(::send(fd, broken, sizeof(broken), 0), static_cast<ssize_t>(sizeof(broken)));
  got = ::recv(fd, in.data(), in.size(), 0);
  ASSERT_GT(got, 0);
  reply = wire::decode_control_reply(std::span(in.data(), static_cast<std::size_t>(got)));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status.code(), StatusCode::malformed_packet);
  EXPECT_EQ(::recv(fd, in.data(), in.size(), 0), 0);  // closed
  ::close(fd);
  server.stop();
  EXPECT_EQ(server.malformed(), 2u);
}

TEST(SwitchControlClient, TimesOutOnASilentPeer) {
  // A listener nobody serves: connect succeeds (backlog), the reply never comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  auto client = SwitchControlClient::connect(address, std::chrono::milliseconds(200));
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  auto info = client->ping();
  EXPECT_EQ(info.status().code(), StatusCode::timeout);
  // The stream is at an unknown boundary now: later calls fail fast.
  EXPECT_EQ(client->ping().status().code(), StatusCode::io_error);
  ::close(fd);
}

TEST(SwitchControlClient, RejectsBadAddressesAndRefusals) {
  EXPECT_EQ(SwitchControlClient::connect("nocolon").status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(SwitchControlClient::connect("127.0.0.1:99999").status().code(),
            StatusCode::invalid_argument);
  EXPECT_EQ(SwitchControlClient::connect("127.0.0.1:0").status().code(),
            StatusCode::invalid_argument);
  // Port 1 on loopback: nothing listens there in a test environment.
  EXPECT_EQ(SwitchControlClient::connect("127.0.0.1:1").status().code(), StatusCode::io_error);
  EXPECT_FALSE(dpdk_switch::ControlServer::listen("300.0.0.1:5").ok());
}

}  // namespace
}  // namespace inca
