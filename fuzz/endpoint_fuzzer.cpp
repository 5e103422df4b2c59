// Arbitrary packets and timer ticks into a host endpoint that runs an
// in-network all-reduce, reliable point-to-point sends and receives, and a
// retired tag: results, errors, fragments and acknowledgements with fuzzed
// fields and payloads, for its operations and for none. It must never touch
// memory outside the buffers it was given, and every operation ends exactly
// once.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "protocol/host_endpoint.hpp"
#include "wire/error_payload.hpp"

using namespace inca;
using namespace inca::protocol;

namespace {

using Reader = FuzzReader;

EndpointConfig config() {
  EndpointConfig c;
  c.rank = 0;
  c.address = 0;
  c.rank_address = {0, 1, 2};
  c.job = 3;
  c.key_tag = 0xabc;
  c.p2p_payload_bytes = 16;
  c.retransmit_timeout = 1000;
  c.max_retransmits = 4;
  c.reliable_p2p = true;
  c.eager_send_bytes = 8;
  c.adaptive_timeout = true;
  c.min_retransmit_timeout = 10;
  c.nic_gbps = 100;
  return c;
}

wire::Packet packet(Reader& r) {
  wire::Packet p;
  wire::Header& h = p.header;
  const std::uint8_t type = r.byte() % 5;
  h.type = type == 0   ? wire::PacketType::result
           : type == 1 ? wire::PacketType::error
           : type == 2 ? wire::PacketType::p2p
           : type == 3 ? wire::PacketType::ack
                       : wire::PacketType::contribution;
  h.job = r.byte() % 8 == 0 ? 4 : 3;
  h.key_tag = r.byte() % 8 == 0 ? 0xabd : 0xabc;
  h.tree = r.byte() % 4 == 0 ? 0x8001 + r.byte() % 3 : r.byte() % 3;
  h.slot = r.byte() % 6;
  h.child = r.byte() % 4;
  h.flags = r.byte() & wire::kFlagLast;
  h.dtype = r.byte() % 2 ? Dtype::f32 : Dtype::u8;
  h.op = ReduceOp::sum;
  h.attempt_tag = static_cast<std::uint8_t>(r.byte() % 2);
  h.sequence = r.byte() % 4 == 0 ? 0xffffff00u + r.byte() : r.byte() % 40;
  if (h.type == wire::PacketType::p2p) h.sequence *= 16;
  std::uint32_t bytes = r.byte() % 48;
  if (h.type == wire::PacketType::error) {
    p.payload = wire::make_error_payload(r.byte() % 12, "fuzz");
    h.count = static_cast<std::uint32_t>(p.payload->size());
    if (r.byte() % 4 == 0) h.sequence = r.byte();
    return p;
  }
  h.count = h.type == wire::PacketType::result || h.type == wire::PacketType::contribution
                ? bytes / 4
                : bytes;
  if (r.byte() % 8 != 0) {
    std::vector<std::byte> payload(p.payload_bytes());
    for (auto& b : payload) b = static_cast<std::byte>(r.byte());
    p.payload = wire::make_payload(payload);
  }
  p.src = 1;
  p.dst = 0;
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{data, size};
  HostEndpoint ep(config());
  Outbox out;
  std::vector<float> send(40, 1.0f), recv(40, 0.0f);
  InnetAllreduce spec;
  spec.tree = 1;
  spec.window = 4;
  spec.slot_payload_bytes = 16;  // 4 floats per chunk: 10 chunks
  spec.send = send.data();
  spec.recv = recv.data();
  spec.count = 40;
  spec.attempt_tag = 1;
  auto innet = ep.start_innet(spec, 0, out);
  FUZZ_CHECK(innet.ok());
  std::vector<std::byte> small(20), large(64), sent(40, std::byte{1});
  std::vector<OpId> ops{*innet};
  for (auto* buf : {&small, &large}) {
    auto id = ep.post_recv(1, static_cast<std::uint16_t>(buf->size() == 20 ? 1 : 2), buf->data(),
                           buf->size());
    FUZZ_CHECK(id.ok());
    ops.push_back(*id);
  }
  auto s = ep.post_send(1, 1, {}, sent.data(), sent.size(), 0, out);
  FUZZ_CHECK(s.ok());
  ops.push_back(*s);
  // An eager send completes at once; whatever arrives later (acks, timeouts,
  // the abort) must never finish it again.
  auto eager = ep.post_send(2, 5, {}, sent.data(), 8, 0, out);
  FUZZ_CHECK(eager.ok() && ep.done(*eager));
  ep.release(*eager);
  ep.retire_tag(0x8002);

  Time now = 0;
  for (int steps = 0; !r.empty() && steps < 1000; ++steps) {
    out.clear();
    if (r.byte() % 5 == 0) {
      now = std::max(now, ep.next_deadline() == kNever ? now : ep.next_deadline());
      ep.on_timer(now, out);
    } else {
      now += r.byte();
      ep.on_packet(packet(r), now, out);
    }
    for (const wire::Packet& p : out)
      FUZZ_CHECK(!p.payload || p.payload->size() == p.payload_bytes());
  }
  for (OpId id : ops) {
    if (!ep.done(id)) continue;
    (void)ep.status(id).to_string();
    ep.release(id);
    FUZZ_CHECK(!ep.done(id));
  }
  ep.abort_all(make_error(StatusCode::timeout, "end of input"));
  for (OpId id : ops) FUZZ_CHECK(!ep.pending(id));
  FUZZ_CHECK(!ep.done(*eager) && !ep.pending(*eager));
  return 0;
}
