#include "peer_info.hpp"

#include <fmt/format.h>

namespace inca::verbs {
namespace {

constexpr std::uint8_t kVersion = 1;

void put(std::vector<std::byte>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  bool take(std::uint64_t& v, std::size_t bytes) {
    if (in_.size() - at_ < bytes) return false;
    v = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      v = (v << 8) | std::to_integer<std::uint8_t>(in_[at_++]);
    return true;
  }
  std::size_t left() const { return in_.size() - at_; }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

}  // namespace

std::vector<std::byte> encode_peer_info(const PeerInfo& info) {
  std::vector<std::byte> out;
  put(out, kVersion, 1);
  for (std::uint8_t b : info.gid) put(out, b, 1);
  put(out, info.ipv4, 4);
  put(out, info.mtu, 2);
  put(out, info.rc_qpn.size(), 4);
  for (std::size_t r = 0; r < info.rc_qpn.size(); ++r) {
    put(out, info.rc_qpn[r], 4);
    put(out, r < info.rc_psn.size() ? info.rc_psn[r] : 0, 4);
    put(out, r < info.rings.size() ? info.rings[r].va : 0, 8);
    put(out, r < info.rings.size() ? info.rings[r].rkey : 0, 4);
  }
  put(out, info.mailbox.va, 8);
  put(out, info.mailbox.rkey, 4);
  return out;
}

Result<PeerInfo> decode_peer_info(std::span<const std::byte> bytes, std::uint32_t ranks) {
  const auto bad = [](const std::string& why) {
    return make_error(StatusCode::invalid_argument, "verbs peer info: " + why);
  };
  Reader r(bytes);
  PeerInfo info;
  std::uint64_t v = 0;
  if (!r.take(v, 1)) return bad("empty");
  if (v != kVersion) return bad(fmt::format("version {} (this side reads {})", v, kVersion));
  for (auto& b : info.gid) {
    if (!r.take(v, 1)) return bad("truncated in the GID");
    b = static_cast<std::uint8_t>(v);
  }
  std::uint64_t ipv4 = 0, mtu = 0, n = 0;
  if (!r.take(ipv4, 4) || !r.take(mtu, 2) || !r.take(n, 4)) return bad("truncated in the header");
  if (n != ranks) return bad(fmt::format("{} ranks listed in a job of {}", n, ranks));
  info.ipv4 = static_cast<std::uint32_t>(ipv4);
  info.mtu = static_cast<std::uint16_t>(mtu);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t qpn = 0, psn = 0, va = 0, rkey = 0;
    if (!r.take(qpn, 4) || !r.take(psn, 4) || !r.take(va, 8) || !r.take(rkey, 4))
      return bad(fmt::format("truncated at rank {}", i));
    info.rc_qpn.push_back(static_cast<std::uint32_t>(qpn));
    info.rc_psn.push_back(static_cast<std::uint32_t>(psn));
    info.rings.push_back({va, static_cast<std::uint32_t>(rkey)});
  }
  std::uint64_t mva = 0, mrkey = 0;
  if (!r.take(mva, 8) || !r.take(mrkey, 4)) return bad("truncated in the mailbox");
  info.mailbox = {mva, static_cast<std::uint32_t>(mrkey)};
  if (r.left() != 0) return bad(fmt::format("{} bytes after the end", r.left()));
  return info;
}

}  // namespace inca::verbs
