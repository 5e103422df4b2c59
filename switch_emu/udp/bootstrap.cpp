#include "udp/bootstrap.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "wire/control_codec.hpp"

namespace inca::udp {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

template <typename T>
bool parse_number(std::string_view text, T& out, int base = 10) {
  if (base == 16 && (text.starts_with("0x") || text.starts_with("0X"))) text.remove_prefix(2);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

Status bad(std::string_view var, std::string_view value, std::string_view want) {
  return make_error(StatusCode::invalid_argument,
                    fmt::format("{}='{}' is not {}", var, value, want));
}

}  // namespace

Result<sockaddr_in> parse_ipv4_port(std::string_view text) {
  const auto colon = text.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::uint16_t port = 0;
  const std::string ip(text.substr(0, colon == std::string_view::npos ? 0 : colon));
  if (colon == std::string_view::npos || ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1 ||
      !parse_number(text.substr(colon + 1), port))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("'{}' is not an IPv4 address and UDP port (a.b.c.d:port)", text));
  sa.sin_port = htons(port);
  return sa;
}

std::vector<EnvVar> to_env(const Bootstrap& b) {
  std::vector<EnvVar> env = {
      {"INCA_FABRIC", b.fabric},
      {"INCA_RANK", std::to_string(b.rank)},
      {"INCA_SIZE", std::to_string(b.size)},
      {"INCA_JOB", std::to_string(b.job)},
      {"INCA_KEY", fmt::format("{:#x}", b.key_tag)},
      {"INCA_SWITCH", b.switch_address},
      {"INCA_PEERS", fmt::format("{}", fmt::join(b.peers, ","))},
      {"INCA_TIMEOUT_MS", std::to_string(b.timeout_ms)},
  };
  if (b.fixed_timeout_ms > 0)
    env.emplace_back("INCA_FIXED_TIMEOUT_MS", std::to_string(b.fixed_timeout_ms));
  if (!b.netns.empty()) env.emplace_back("INCA_NETNS", b.netns);
  if (b.fabric == "memif") {
    env.emplace_back("INCA_MEMIF_SOCKET", b.memif_socket);
    env.emplace_back("INCA_MACS", fmt::format("{}", fmt::join(b.macs, ",")));
  }
  if (b.fabric == "verbs") {
    if (!b.control.empty()) env.emplace_back("INCA_CONTROL", b.control);
    if (!b.rendezvous.empty()) env.emplace_back("INCA_RENDEZVOUS", b.rendezvous);
    if (!b.verbs_device.empty()) env.emplace_back("INCA_VERBS_DEVICE", b.verbs_device);
    if (b.switch_port != 0xffff)
      env.emplace_back("INCA_SWITCH_PORT", std::to_string(b.switch_port));
  }
  if (b.link_gbps > 0) env.emplace_back("INCA_LINK_GBPS", fmt::format("{}", b.link_gbps));
  if (b.tree) {
    env.emplace_back("INCA_TREE", fmt::format("{}:{}:{}", b.tree->tree, b.tree->slots,
                                              b.tree->slot_payload_bytes));
    std::vector<std::uint16_t> children;
    for (const auto& m : b.tree->members) children.push_back(m.child_index);
    env.emplace_back("INCA_CHILDREN", fmt::format("{}", fmt::join(children, ",")));
  }
  return env;
}

bool launched_on_udp() {
  const char* fabric = std::getenv("INCA_FABRIC");
  return fabric != nullptr &&
         (std::string_view(fabric) == "udp" || std::string_view(fabric) == "memif" ||
          std::string_view(fabric) == "verbs");
}

Result<Bootstrap> bootstrap_from_env(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::string_view {
    const char* v = getenv ? getenv(name) : std::getenv(name);
    return v ? std::string_view(v) : std::string_view();
  };
  auto need = [&](const char* name, std::string_view& out) -> Status {
    out = get(name);
    if (out.empty())
      return make_error(StatusCode::invalid_argument,
                        fmt::format("{} is not set: start rank programs with `inca launch "
                                    "--fabric udp` (docs/fabrics.md)",
                                    name));
    return {};
  };
  Bootstrap b;
  std::string_view v;
  if (v = get("INCA_FABRIC"); !v.empty()) {
    if (v != "udp" && v != "memif" && v != "verbs")
      return bad("INCA_FABRIC", v, "udp, memif or verbs");
    b.fabric = v;
  }
  INCA_RETURN_IF_ERROR(need("INCA_SIZE", v));
  if (!parse_number(v, b.size) || b.size == 0 || b.size > 65535)
    return bad("INCA_SIZE", v, "a rank count in 1..65535");
  INCA_RETURN_IF_ERROR(need("INCA_RANK", v));
  if (!parse_number(v, b.rank) || b.rank >= b.size)
    return bad("INCA_RANK", v, fmt::format("a rank in 0..{}", b.size - 1));
  INCA_RETURN_IF_ERROR(need("INCA_JOB", v));
  if (!parse_number(v, b.job)) return bad("INCA_JOB", v, "a job id");
  INCA_RETURN_IF_ERROR(need("INCA_KEY", v));
  if (!parse_number(v, b.key_tag, 16)) return bad("INCA_KEY", v, "a hexadecimal key tag");
  INCA_RETURN_IF_ERROR(need("INCA_SWITCH", v));
  if (!parse_ipv4_port(v).ok()) return bad("INCA_SWITCH", v, "ip:port");
  b.switch_address = v;
  INCA_RETURN_IF_ERROR(need("INCA_PEERS", v));
  for (std::string_view peer : split(v, ',')) {
    if (!parse_ipv4_port(peer).ok()) return bad("INCA_PEERS", v, "a list of ip:port");
    b.peers.emplace_back(peer);
  }
  if (b.peers.size() != b.size)
    return bad("INCA_PEERS", v, fmt::format("{} addresses (INCA_SIZE)", b.size));
  if (v = get("INCA_TIMEOUT_MS");
      !v.empty() && (!parse_number(v, b.timeout_ms) || b.timeout_ms == 0))
    return bad("INCA_TIMEOUT_MS", v, "a positive number of milliseconds");
  if (v = get("INCA_FIXED_TIMEOUT_MS");
      !v.empty() && (!parse_number(v, b.fixed_timeout_ms) || b.fixed_timeout_ms == 0))
    return bad("INCA_FIXED_TIMEOUT_MS", v, "a positive number of milliseconds");
  if (v = get("INCA_LINK_GBPS"); !v.empty()) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), b.link_gbps);
    if (ec != std::errc() || end != v.data() + v.size() || !(b.link_gbps > 0))
      return bad("INCA_LINK_GBPS", v, "a positive rate in Gb/s");
  }
  b.netns = get("INCA_NETNS");
  if (b.fabric == "memif") {
    INCA_RETURN_IF_ERROR(need("INCA_MEMIF_SOCKET", v));
    b.memif_socket = v;
    INCA_RETURN_IF_ERROR(need("INCA_MACS", v));
    for (std::string_view mac : split(v, ',')) {
      if (!wire::parse_mac(mac).ok()) return bad("INCA_MACS", v, "a list of MAC addresses");
      b.macs.emplace_back(mac);
    }
    if (b.macs.size() != b.size)
      return bad("INCA_MACS", v, fmt::format("{} addresses (INCA_SIZE)", b.size));
  }
  if (b.fabric == "verbs") {
    b.control = get("INCA_CONTROL");
    b.rendezvous = get("INCA_RENDEZVOUS");
    b.verbs_device = get("INCA_VERBS_DEVICE");
    if (!b.control.empty() && !parse_ipv4_port(b.control).ok())
      return bad("INCA_CONTROL", b.control, "ip:port");
    if (!b.rendezvous.empty() && !parse_ipv4_port(b.rendezvous).ok())
      return bad("INCA_RENDEZVOUS", b.rendezvous, "ip:port");
    if (v = get("INCA_SWITCH_PORT");
        !v.empty() && (!parse_number(v, b.switch_port) || b.switch_port == 0xffff))
      return bad("INCA_SWITCH_PORT", v, "a switch port number");
  }
  if (v = get("INCA_TREE"); !v.empty()) {
    const auto parts = split(v, ':');
    manager::TreePlan t;
    t.job = b.job;
    t.key_tag = b.key_tag;
    if (parts.size() != 3 || !parse_number(parts[0], t.tree) || !parse_number(parts[1], t.slots) ||
        !parse_number(parts[2], t.slot_payload_bytes) || t.slots == 0 || t.slot_payload_bytes == 0)
      return bad("INCA_TREE", v, "tree:slots:slot_bytes");
    std::string_view children;
    INCA_RETURN_IF_ERROR(need("INCA_CHILDREN", children));
    const auto list = split(children, ',');
    if (list.size() != b.size) return bad("INCA_CHILDREN", children, "a child index per rank");
    for (std::uint32_t r = 0; r < b.size; ++r) {
      manager::HostAttachment m;
      m.host = r;
      if (!parse_number(list[r], m.child_index))
        return bad("INCA_CHILDREN", children, "a list of child indices");
      t.members.push_back(m);
    }
    b.tree = std::move(t);
    if (b.fabric == "verbs" && b.control.empty())
      return make_error(StatusCode::invalid_argument,
                        "INCA_CONTROL is not set: a verbs rank connects its queue pair through "
                        "its switch's control channel (docs/verbs.md)");
  }
  return b;
}

}  // namespace inca::udp
