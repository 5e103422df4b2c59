#include "udp/mpi/mpi_bootstrap.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "manager/switch_control_client.hpp"
#include "udp/bootstrap.hpp"
#include "udp/netns.hpp"
#include "udp/star_job.hpp"

namespace inca::udp {
namespace {

template <typename T>
bool parse_uint(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// This rank's address toward the switch: the source address the kernel
// picks for it, and a free port on it. The driver binds the same pair later.
Result<sockaddr_in> local_address(const sockaddr_in& to_switch, const std::string& netns) {
  const int fd = netns.empty() ? ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
                               : socket_in_netns(netns, AF_INET, SOCK_DGRAM, 0);
  if (fd < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("no UDP socket{}: {}", netns.empty() ? "" : " in " + netns,
                                  std::strerror(errno)));
  sockaddr_in self{};
  socklen_t len = sizeof(self);
  // connect() on a datagram socket only picks the route and source address.
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to_switch), sizeof(to_switch)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0;
  ::close(fd);
  if (ok) {
    const int probe = netns.empty() ? ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
                                    : socket_in_netns(netns, AF_INET, SOCK_DGRAM, 0);
    self.sin_port = 0;
    len = sizeof(self);
    ok = probe >= 0 && ::bind(probe, reinterpret_cast<const sockaddr*>(&self), sizeof(self)) == 0 &&
         ::getsockname(probe, reinterpret_cast<sockaddr*>(&self), &len) == 0;
    if (probe >= 0) ::close(probe);
  }
  if (!ok)
    return make_error(StatusCode::io_error,
                      fmt::format("no route or port toward the switch: {}", std::strerror(errno)));
  return self;
}

// What rank 0 tells everyone, in one broadcast.
struct JobWire {
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint32_t has_tree = 0;
  std::uint32_t tree = 0;
  std::uint32_t slots = 0;
  std::uint32_t slot_bytes = 0;
};

}  // namespace

Result<MpiBootstrapOptions> parse_mpi_bootstrap_args(int argc, char** argv) {
  MpiBootstrapOptions o;
  bool fabric = false;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    bool used = true;
    bool valid = true;
    if (flag == "--fabric") {
      fabric = value == "udp" || value == "verbs";
      o.fabric = value;
    } else if (flag == "--switch")
      o.switch_address = value;
    else if (flag == "--control")
      o.control_address = value;
    else if (flag == "--netns-prefix")
      o.netns_prefix = value;
    else if (flag == "--window")
      valid = parse_uint(value, o.slots) && o.slots > 0;
    else if (flag == "--slot-bytes")
      valid = parse_uint(value, o.slot_bytes) && o.slot_bytes > 0;
    else if (flag == "--switch-slots")
      valid = parse_uint(value, o.switch_slots) && o.switch_slots > 0;
    else if (flag == "--timeout-ms")
      valid = parse_uint(value, o.timeout_ms) && o.timeout_ms > 0;
    else if (flag == "--ports") {
      std::string_view rest = value;
      while (valid) {
        const auto comma = rest.find(',');
        valid = parse_uint(rest.substr(0, comma), o.ports.emplace_back());
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else
      used = false;
    if (!valid)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("{} {}: not a valid value", flag, value));
    if (used) ++i;
  }
  if (!fabric) return make_error(StatusCode::invalid_argument, "--fabric udp|verbs is required");
  if (!parse_ipv4_port(o.switch_address).ok())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("--switch '{}' is not ip:port", o.switch_address));
  return o;
}

Status mpi_bootstrap(MPI_Comm comm, const MpiBootstrapOptions& o) {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  auto to_switch = parse_ipv4_port(o.switch_address);
  if (!to_switch.ok()) return to_switch.status();
  if (!o.ports.empty() && o.ports.size() != static_cast<std::size_t>(size))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("--ports names {} ports for {} ranks", o.ports.size(), size));
  const std::string netns = o.netns_prefix.empty() ? "" : o.netns_prefix + std::to_string(rank);
  auto self = local_address(*to_switch, netns);

  // Every rank's address (0 where a rank found none), then the verdict.
  const std::uint64_t mine =
      self.ok() ? (std::uint64_t{ntohl(self->sin_addr.s_addr)} << 16) | ntohs(self->sin_port) : 0;
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size));
  auto blobs = mpi_allgather(comm)(std::as_bytes(std::span(&mine, 1)));
  if (!blobs.ok()) return blobs.status();
  for (int r = 0; r < size; ++r)
    if ((*blobs)[r].size() == sizeof(std::uint64_t))
      std::memcpy(&all[r], (*blobs)[r].data(), sizeof(std::uint64_t));
  for (int r = 0; r < size; ++r)
    if (all[r] == 0)
      return make_error(StatusCode::io_error,
                        fmt::format("rank {} found no address toward {}{}", r, o.switch_address,
                                    r == rank ? ": " + self.status().to_string() : ""));
  Bootstrap b;
  b.fabric = o.fabric;
  if (o.fabric == "verbs") {
    b.control = o.control_address;
    if (!o.ports.empty()) b.switch_port = o.ports[static_cast<std::size_t>(rank)];
  }
  b.rank = static_cast<std::uint32_t>(rank);
  b.size = static_cast<std::uint32_t>(size);
  b.switch_address = o.switch_address;
  b.timeout_ms = o.timeout_ms;
  for (std::uint64_t a : all) {
    in_addr ip{htonl(static_cast<std::uint32_t>(a >> 16))};
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &ip, text, sizeof(text));
    b.peers.push_back(fmt::format("{}:{}", text, a & 0xffff));
  }

  JobWire job;
  if (rank == 0) {
    std::random_device random;
    job.job = random() & 0xffffff;
    job.key_tag = random();
    Status why = make_error(StatusCode::no_tree, "no --control address given");
    if (!o.control_address.empty()) {
      auto client = manager::SwitchControlClient::connect(o.control_address);
      JobSpec star{.ranks = b.size,
                   .job = job.job,
                   .key_tag = job.key_tag,
                   .slots = o.slots,
                   .slot_bytes = o.slot_bytes,
                   .switch_slots = o.switch_slots};
      auto plan = client.ok() ? install_star_tree(*client, star, o.ports)
                              : Result<manager::TreePlan>(client.status());
      if (plan.ok()) {
        job.has_tree = 1;
        job.tree = plan->tree;
        job.slots = plan->slots;
        job.slot_bytes = plan->slot_payload_bytes;
        b.tree = *plan;
      } else {
        why = plan.status();
      }
    }
    if (!job.has_tree)
      std::fprintf(stderr, "inca: no aggregation tree (%s); in-network collectives fall back\n",
                   why.to_string().c_str());
  }
  MPI_Bcast(&job, sizeof(job), MPI_BYTE, 0, comm);
  b.job = job.job;
  b.key_tag = job.key_tag;
  if (job.has_tree && rank != 0) {
    // Child indices follow the ranks' order at the one switch (star_job).
    std::vector<std::uint16_t> children(b.size);
    MPI_Bcast(children.data(), static_cast<int>(b.size), MPI_UINT16_T, 0, comm);
    manager::TreePlan t;
    t.job = b.job;
    t.key_tag = b.key_tag;
    t.tree = static_cast<std::uint16_t>(job.tree);
    t.slots = job.slots;
    t.slot_payload_bytes = job.slot_bytes;
    for (std::uint32_t r = 0; r < b.size; ++r)
      t.members.push_back({.host = r, .leaf_node = 0, .child_index = children[r]});
    b.tree = std::move(t);
  } else if (job.has_tree) {
    std::vector<std::uint16_t> children;
    for (const auto& m : b.tree->members) children.push_back(m.child_index);
    MPI_Bcast(children.data(), static_cast<int>(b.size), MPI_UINT16_T, 0, comm);
  }
  b.netns = netns;
  for (const auto& [name, value] : to_env(b)) ::setenv(name.c_str(), value.c_str(), 1);
  return {};
}

OutOfBandAllgather mpi_allgather(MPI_Comm comm) {
  return [comm](std::span<const std::byte> mine) -> Result<std::vector<std::vector<std::byte>>> {
    int size = 0;
    MPI_Comm_size(comm, &size);
    int bytes = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(size)), offsets(counts.size());
    if (MPI_Allgather(&bytes, 1, MPI_INT, counts.data(), 1, MPI_INT, comm) != MPI_SUCCESS)
      return make_error(StatusCode::io_error, "MPI_Allgather of the exchange's sizes failed");
    int total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      offsets[r] = total;
      total += counts[r];
    }
    std::vector<std::byte> all(static_cast<std::size_t>(total));
    if (MPI_Allgatherv(mine.data(), bytes, MPI_BYTE, all.data(), counts.data(), offsets.data(),
                       MPI_BYTE, comm) != MPI_SUCCESS)
      return make_error(StatusCode::io_error, "MPI_Allgatherv of the exchange failed");
    std::vector<std::vector<std::byte>> out;
    for (std::size_t r = 0; r < counts.size(); ++r)
      out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + counts[r]);
    return out;
  };
}

Status mpi_release(MPI_Comm comm, const MpiBootstrapOptions& o) {
  MPI_Barrier(comm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0 || o.control_address.empty()) return {};
  auto b = bootstrap_from_env();
  if (!b.ok()) return b.status();
  if (!b->tree) return {};
  auto client = manager::SwitchControlClient::connect(o.control_address);
  if (!client.ok()) return client.status();
  return client->remove({b->job, b->tree->tree});
}

}  // namespace inca::udp
