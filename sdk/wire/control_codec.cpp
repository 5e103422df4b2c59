// Encoding and validation of control-channel frames (docs/protocol.md,
// "Control channel"). Fields are big-endian and assembled byte by byte; the
// reader checks the remaining length before every field, so a short or
// hostile frame yields a message, never an out-of-bounds read.
#include "wire/control_codec.hpp"

#include <charconv>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

namespace inca::wire {
namespace {

constexpr auto kLastStatusCode = static_cast<std::uint8_t>(StatusCode::internal);

bool is_request_kind(std::uint8_t code) {
  return code >= static_cast<std::uint8_t>(ControlKind::ping) &&
         code <= static_cast<std::uint8_t>(kLastControlKind);
}

// Strings are printable ASCII so that a switch can log whatever a peer sent.
bool printable(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void mac(const MacAddress& m) {
    for (std::uint8_t b : m) u8(b);
  }
  // The caller has checked the length and the characters.
  void str(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    for (char c : s) u8(static_cast<std::uint8_t>(c));
  }

  // Starts a frame: room for the length prefix, then the common fields.
  void begin(std::uint8_t kind, std::uint32_t id) {
    out_.assign(kControlLengthBytes, std::byte{0});
    u8(kControlVersion);
    u8(kind);
    u32(id);
  }
  Result<std::vector<std::byte>> finish() {
    const std::size_t body = out_.size() - kControlLengthBytes;
    if (body > kControlMaxBodyBytes)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("control frame of {} bytes exceeds the limit of {}", body,
                                    kControlMaxBodyBytes));
    for (std::size_t i = 0; i < kControlLengthBytes; ++i)
      out_[i] = static_cast<std::byte>(body >> (8 * (kControlLengthBytes - 1 - i)));
    return std::move(out_);
  }

 private:
  std::vector<std::byte> out_;
};

// Reads fields in order; the first failure sticks and names the field.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}

  bool failed() const { return !status_.ok(); }
  const Status& status() const { return status_; }
  std::size_t left() const { return in_.size() - at_; }

  std::uint64_t uint(std::size_t bytes, const char* field) {
    if (!need(bytes, field)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      v = (v << 8) | std::to_integer<std::uint8_t>(in_[at_ + i]);
    at_ += bytes;
    return v;
  }
  std::uint8_t u8(const char* field) { return static_cast<std::uint8_t>(uint(1, field)); }
  std::uint16_t u16(const char* field) { return static_cast<std::uint16_t>(uint(2, field)); }
  std::uint32_t u32(const char* field) { return static_cast<std::uint32_t>(uint(4, field)); }
  std::uint64_t u64(const char* field) { return uint(8, field); }
  MacAddress mac(const char* field) {
    MacAddress m{};
    if (!need(m.size(), field)) return m;
    for (auto& b : m) b = std::to_integer<std::uint8_t>(in_[at_++]);
    return m;
  }
  std::string str(const char* field) {
    const std::uint16_t n = u16(field);
    if (failed()) return {};
    if (n > kControlMaxStringBytes) {
      fail(fmt::format("{} is {} bytes long; the limit is {}", field, n, kControlMaxStringBytes));
      return {};
    }
    if (!need(n, field)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + at_), n);
    at_ += n;
    if (!printable(s)) fail(fmt::format("{} holds a byte that is not printable ASCII", field));
    return s;
  }
  // A count that bounds a following list.
  std::size_t count(std::size_t bytes, std::size_t limit, const char* field) {
    const std::uint64_t n = uint(bytes, field);
    if (!failed() && n > limit) fail(fmt::format("{} is {}; the limit is {}", field, n, limit));
    return failed() ? 0 : static_cast<std::size_t>(n);
  }
  void end(const char* what) {
    if (!failed() && left() != 0)
      fail(fmt::format("{} bytes after the end of the {}", left(), what));
  }
  void fail(std::string message) {
    if (!failed()) status_ = make_error(StatusCode::malformed_packet, "control frame: " + message);
  }

 private:
  bool need(std::size_t bytes, const char* field) {
    if (failed()) return false;
    if (left() < bytes) {
      fail(fmt::format("truncated at {} (needs {} bytes, {} left)", field, bytes, left()));
      return false;
    }
    return true;
  }

  std::span<const std::byte> in_;
  std::size_t at_ = 0;
  Status status_;
};

Status check_string(std::string_view s, const char* field) {
  if (s.size() > kControlMaxStringBytes)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} is {} bytes long; the limit is {}", field, s.size(),
                                  kControlMaxStringBytes));
  if (!printable(s))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} holds a byte that is not printable ASCII", field));
  return {};
}

// Checks the length prefix and the common fields; leaves the reader at the
// first kind-specific field.
Result<std::pair<std::uint8_t, std::uint32_t>> read_common(Reader& r,
                                                           std::span<const std::byte> frame) {
  auto size = control_frame_size(frame);
  if (!size) return size.status();
  if (*size == 0)
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: truncated ({} bytes, fewer than its length "
                                  "prefix announces)",
                                  frame.size()));
  if (*size != frame.size())
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: {} bytes after the frame its length prefix "
                                  "announces",
                                  frame.size() - *size));
  r.u32("length");
  const std::uint8_t version = r.u8("version");
  const std::uint8_t kind = r.u8("kind");
  const std::uint32_t id = r.u32("request id");
  if (r.failed()) return r.status();
  if (version != kControlVersion)
    return make_error(
        StatusCode::malformed_packet,
        fmt::format("control frame: version {} (this side speaks {})", version, kControlVersion));
  return std::make_pair(kind, id);
}

void write_tree_install(Writer& w, const TreeInstall& t) {
  w.u32(t.job);
  w.u32(t.key_tag);
  w.u16(t.tree);
  w.u16(t.slot_base);
  w.u16(t.slot_count);
  w.u32(t.slot_payload_bytes);
  w.u16(t.parent_port);
  w.u16(t.index_at_parent);
  w.u16(static_cast<std::uint16_t>(t.child_ports.size()));
  for (std::uint16_t p : t.child_ports) w.u16(p);
}

TreeInstall read_tree_install(Reader& r) {
  TreeInstall t;
  t.job = r.u32("job");
  t.key_tag = r.u32("key tag");
  t.tree = r.u16("tree");
  t.slot_base = r.u16("slot base");
  t.slot_count = r.u16("slot count");
  t.slot_payload_bytes = r.u32("slot payload bytes");
  t.parent_port = r.u16("parent port");
  t.index_at_parent = r.u16("index at parent");
  const std::size_t n = r.count(2, kControlMaxChildren, "child count");
  if (r.left() < n * 2) {
    r.fail(fmt::format("truncated at child ports (needs {} bytes, {} left)", n * 2, r.left()));
    return t;
  }
  t.child_ports.resize(n);
  for (auto& p : t.child_ports) p = r.u16("child port");
  return t;
}

void write_qp_connect(Writer& w, const QpConnect& q) {
  w.u32(q.job);
  w.u16(q.port);
  w.mac(q.mac);
  w.u32(q.ipv4);
  w.u32(q.qpn);
  w.u32(q.psn);
  w.u16(q.mtu);
  w.u64(q.ring_va);
  w.u32(q.ring_rkey);
  w.u32(q.ring_entries);
  w.u32(q.ring_entry_bytes);
}

QpConnect read_qp_connect(Reader& r) {
  QpConnect q;
  q.job = r.u32("job");
  q.port = r.u16("port");
  q.mac = r.mac("mac");
  q.ipv4 = r.u32("ipv4");
  q.qpn = r.u32("qpn");
  q.psn = r.u32("psn");
  q.mtu = r.u16("mtu");
  q.ring_va = r.u64("ring va");
  q.ring_rkey = r.u32("ring rkey");
  q.ring_entries = r.u32("ring entries");
  q.ring_entry_bytes = r.u32("ring entry bytes");
  return q;
}

void write_switch_info(Writer& w, const SwitchInfo& info) {
  w.str(info.name);
  w.u32(info.ipv4);
  w.u16(info.udp_port);
  w.u32(info.slots);
  w.u32(info.slot_payload_bytes);
  w.u32(info.free_slots);
  w.u32(info.trees);
  w.u16(static_cast<std::uint16_t>(info.ports.size()));
  for (const SwitchPortInfo& p : info.ports) {
    w.str(p.name);
    w.mac(p.mac);
  }
}

SwitchInfo read_switch_info(Reader& r) {
  SwitchInfo info;
  info.name = r.str("switch name");
  info.ipv4 = r.u32("switch ipv4");
  info.udp_port = r.u16("udp port");
  info.slots = r.u32("slots");
  info.slot_payload_bytes = r.u32("slot payload bytes");
  info.free_slots = r.u32("free slots");
  info.trees = r.u32("trees");
  const std::size_t n = r.count(2, kControlMaxPorts, "port count");
  for (std::size_t i = 0; i < n && !r.failed(); ++i) {
    SwitchPortInfo p;
    p.name = r.str("port name");
    p.mac = r.mac("port mac");
    info.ports.push_back(std::move(p));
  }
  return info;
}

}  // namespace

std::string_view to_string(ControlKind kind) {
  switch (kind) {
    case ControlKind::ping:
      return "ping";
    case ControlKind::install_tree:
      return "install_tree";
    case ControlKind::remove_tree:
      return "remove_tree";
    case ControlKind::set_neighbor:
      return "set_neighbor";
    case ControlKind::get_counters:
      return "get_counters";
    case ControlKind::connect_qp:
      return "connect_qp";
    case ControlKind::disconnect_qp:
      return "disconnect_qp";
  }
  return "unknown_control_kind";
}

ControlKind ControlRequest::kind() const {
  // The variant's alternatives are declared in wire-code order.
  return static_cast<ControlKind>(body.index() + 1);
}

Result<std::vector<std::byte>> encode_control(const ControlRequest& request) {
  Writer w;
  w.begin(static_cast<std::uint8_t>(request.kind()), request.id);
  if (const auto* t = std::get_if<TreeInstall>(&request.body)) {
    if (t->child_ports.size() > kControlMaxChildren)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("tree {} has {} children; the control channel carries at "
                                    "most {}",
                                    t->tree, t->child_ports.size(), kControlMaxChildren));
    write_tree_install(w, *t);
  } else if (const auto* r = std::get_if<TreeRemove>(&request.body)) {
    w.u32(r->job);
    w.u16(r->tree);
  } else if (const auto* n = std::get_if<NeighborAddress>(&request.body)) {
    w.u16(n->port);
    w.mac(n->mac);
    w.u32(n->ipv4);
    w.u16(n->udp_port);
  } else if (const auto* q = std::get_if<QpConnect>(&request.body)) {
    write_qp_connect(w, *q);
  } else if (const auto* d = std::get_if<QpDisconnect>(&request.body)) {
    w.u32(d->qpn);
  }
  return w.finish();
}

Result<std::vector<std::byte>> encode_control(const ControlReply& reply) {
  const auto kind = static_cast<std::uint8_t>(reply.kind);
  if (!is_request_kind(kind))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("control reply of unknown kind {}", kind));
  INCA_RETURN_IF_ERROR(check_string(reply.status.message(), "status message"));
  const bool ok = reply.status.ok();
  const bool wants_info = ok && reply.kind == ControlKind::ping;
  const bool wants_counters = ok && reply.kind == ControlKind::get_counters;
  const bool wants_qp = ok && reply.kind == ControlKind::connect_qp;
  if (wants_info != std::holds_alternative<SwitchInfo>(reply.body) ||
      wants_counters != std::holds_alternative<std::vector<Counter>>(reply.body) ||
      wants_qp != std::holds_alternative<QpInfo>(reply.body))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("a {} {} reply cannot carry this body", to_string(reply.kind),
                                  ok ? "ok" : "error"));
  Writer w;
  w.begin(static_cast<std::uint8_t>(kind | kControlReplyBit), reply.id);
  w.u8(static_cast<std::uint8_t>(reply.status.code()));
  w.str(reply.status.message());
  if (const auto* info = std::get_if<SwitchInfo>(&reply.body)) {
    INCA_RETURN_IF_ERROR(check_string(info->name, "switch name"));
    if (info->ports.size() > kControlMaxPorts)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("{} ports; the control channel carries at most {}",
                                    info->ports.size(), kControlMaxPorts));
    for (const auto& p : info->ports) INCA_RETURN_IF_ERROR(check_string(p.name, "port name"));
    write_switch_info(w, *info);
  } else if (const auto* counters = std::get_if<std::vector<Counter>>(&reply.body)) {
    if (counters->size() > kControlMaxCounters)
      return make_error(StatusCode::invalid_argument,
                        fmt::format("{} counters; the control channel carries at most {}",
                                    counters->size(), kControlMaxCounters));
    w.u32(static_cast<std::uint32_t>(counters->size()));
    for (const Counter& c : *counters) {
      INCA_RETURN_IF_ERROR(check_string(c.name, "counter name"));
      w.str(c.name);
      w.u64(c.value);
    }
  } else if (const auto* qp = std::get_if<QpInfo>(&reply.body)) {
    w.u32(qp->qpn);
    w.u32(qp->psn);
  }
  return w.finish();
}

Result<std::size_t> control_frame_size(std::span<const std::byte> stream) {
  if (stream.size() < kControlLengthBytes) return std::size_t{0};
  std::uint64_t body = 0;
  for (std::size_t i = 0; i < kControlLengthBytes; ++i)
    body = (body << 8) | std::to_integer<std::uint8_t>(stream[i]);
  if (body < kControlMinBodyBytes || body > kControlMaxBodyBytes)
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: length prefix {} outside [{}, {}]", body,
                                  kControlMinBodyBytes, kControlMaxBodyBytes));
  const std::size_t total = kControlLengthBytes + static_cast<std::size_t>(body);
  return stream.size() < total ? std::size_t{0} : total;
}

Result<ControlRequest> decode_control_request(std::span<const std::byte> frame) {
  Reader r(frame);
  auto common = read_common(r, frame);
  if (!common) return common.status();
  const auto [kind, id] = *common;
  if (!is_request_kind(kind))
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: unknown request kind {}", kind));
  ControlRequest req;
  req.id = id;
  switch (static_cast<ControlKind>(kind)) {
    case ControlKind::ping:
      req.body = PingRequest{};
      break;
    case ControlKind::install_tree:
      req.body = read_tree_install(r);
      break;
    case ControlKind::remove_tree: {
      TreeRemove t;
      t.job = r.u32("job");
      t.tree = r.u16("tree");
      req.body = t;
      break;
    }
    case ControlKind::set_neighbor: {
      NeighborAddress n;
      n.port = r.u16("port");
      n.mac = r.mac("mac");
      n.ipv4 = r.u32("ipv4");
      n.udp_port = r.u16("udp port");
      req.body = n;
      break;
    }
    case ControlKind::get_counters:
      req.body = CountersRequest{};
      break;
    case ControlKind::connect_qp:
      req.body = read_qp_connect(r);
      break;
    case ControlKind::disconnect_qp:
      req.body = QpDisconnect{r.u32("qpn")};
      break;
  }
  r.end(std::string(to_string(req.kind())).append(" request").c_str());
  if (r.failed()) return r.status();
  return req;
}

Result<ControlReply> decode_control_reply(std::span<const std::byte> frame) {
  Reader r(frame);
  auto common = read_common(r, frame);
  if (!common) return common.status();
  const auto [kind, id] = *common;
  if ((kind & kControlReplyBit) == 0 || !is_request_kind(kind & ~kControlReplyBit))
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: kind {:#04x} is not a reply", kind));
  ControlReply reply;
  reply.id = id;
  reply.kind = static_cast<ControlKind>(kind & ~kControlReplyBit);
  const std::uint8_t code = r.u8("status code");
  std::string message = r.str("status message");
  if (r.failed()) return r.status();
  if (code > kLastStatusCode)
    return make_error(StatusCode::malformed_packet,
                      fmt::format("control frame: unknown status code {}", code));
  reply.status = code == 0 ? Status() : Status(static_cast<StatusCode>(code), std::move(message));
  if (reply.status.ok() && reply.kind == ControlKind::ping) {
    reply.body = read_switch_info(r);
  } else if (reply.status.ok() && reply.kind == ControlKind::get_counters) {
    const std::size_t n = r.count(4, kControlMaxCounters, "counter count");
    std::vector<Counter> counters;
    for (std::size_t i = 0; i < n && !r.failed(); ++i) {
      Counter c;
      c.name = r.str("counter name");
      c.value = r.u64("counter value");
      counters.push_back(std::move(c));
    }
    reply.body = std::move(counters);
  } else if (reply.status.ok() && reply.kind == ControlKind::connect_qp) {
    QpInfo qp;
    qp.qpn = r.u32("qpn");
    qp.psn = r.u32("psn");
    reply.body = qp;
  }
  r.end(std::string(to_string(reply.kind)).append(" reply").c_str());
  if (r.failed()) return r.status();
  return reply;
}

std::string format_mac(const MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::string format_ipv4(std::uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

Result<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t ip = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (p == end || *p != '.') break;
      ++p;
    }
    unsigned v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p || next - p > 3 || v > 255) {
      p = nullptr;
      break;
    }
    ip = (ip << 8) | v;
    p = next;
    if (part == 3 && p == end) return ip;
  }
  return make_error(StatusCode::invalid_argument,
                    fmt::format("'{}' is not a dotted-quad IPv4 address", text));
}

Result<MacAddress> parse_mac(std::string_view text) {
  MacAddress mac{};
  // Six two-digit hexadecimal bytes joined by ':' is exactly 17 characters.
  bool ok = text.size() == 17;
  for (std::size_t i = 0; ok && i < mac.size(); ++i) {
    const char* p = text.data() + 3 * i;
    auto [next, ec] = std::from_chars(p, p + 2, mac[i], 16);
    ok = ec == std::errc() && next == p + 2 && (i == 5 || p[2] == ':');
  }
  if (ok) return mac;
  return make_error(StatusCode::invalid_argument,
                    fmt::format("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text));
}

}  // namespace inca::wire
