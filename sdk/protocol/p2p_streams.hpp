// The per-(peer, tag) state of a P2pChannel (reliable_p2p.hpp), laid out for
// the hot path of large simulations: every fragment and acknowledgement looks
// up its stream, and a rank's traffic goes to few peers at a time, so a stream
// is found through a one-entry cache before a hash map, and a stream's
// messages sit in a ring indexed by message number rather than in a map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include <boost/circular_buffer.hpp>
#include <boost/container/flat_map.hpp>
#include <boost/container/small_vector.hpp>

#include "inca/time.hpp"
#include "protocol/endpoint_types.hpp"
#include "wire/header.hpp"
#include "wire/packet.hpp"

namespace inca::protocol::p2p {

inline constexpr std::uint16_t kNumberMask = wire::kMaxSlot;  // message numbers are 15 bits

/// The key of a (peer, tag) stream.
inline std::uint32_t stream_key(std::uint32_t peer, std::uint16_t tag) {
  return (peer << 16) | tag;
}
/// The key of one message of a stream (what retransmission timers carry).
inline std::uint64_t message_key(std::uint32_t peer, std::uint16_t tag, std::uint16_t number) {
  return (std::uint64_t{peer} << 32) | (std::uint64_t{tag} << 16) | number;
}
/// Serial order of message numbers (they wrap at 2^15).
inline bool before(std::uint16_t a, std::uint16_t b) {
  const auto d = static_cast<std::uint16_t>((b - a) & kNumberMask);
  return d != 0 && d < 0x4000;
}

/// A sent message until it is acknowledged, given up or superseded.
struct OutMessage {
  bool live = true;  // false once it left the channel (a hole in its stream's ring)
  OpId id = 0;       // 0 once an eager send completed: nobody waits for the rest
  std::uint32_t dst = 0;
  std::uint16_t tag = 0;
  std::uint16_t number = 0;
  std::size_t bytes = 0;
  std::uint64_t wire_bytes = 0;  // of all fragments, framing included
  Time drain = 0;                // allowance for what was outstanding ahead of it
  // Kept for retransmission (payloads are shared); most messages are one fragment.
  boost::container::small_vector<wire::Packet, 1> fragments;
  boost::container::small_vector<std::uint8_t, 8> acked;
  std::size_t unacked = 0;
  Time first_sent = 0;
  Time deadline = kNever;
  std::uint32_t retries = 0;
  std::uint32_t resent_in_round = 0;  // the retry round whose probe answer was acted on
};

/// The messages sent to one (destination, tag), numbered in sending order.
/// Acknowledgements mostly come oldest first: the ring holds the messages
/// from the oldest live one on, and finished ones stay as holes until they
/// reach its front.
struct SendStream {
  std::uint32_t dst = 0;
  std::uint16_t tag = 0;
  std::uint16_t next_number = 0;   // unmasked: the counter of messages posted
  std::uint16_t first_number = 0;  // the number of sent.front()
  // A growing ring: the messages a stream carries recycle its memory.
  boost::circular_buffer<OutMessage> sent{4};

  /// The live message numbered `number`, or nullptr.
  OutMessage* find(std::uint16_t number) {
    const std::size_t i = static_cast<std::uint16_t>(number - first_number) & kNumberMask;
    if (i >= sent.size() || !sent[i].live) return nullptr;
    return &sent[i];
  }
  /// Appends a message; its number must be first_number + sent.size().
  OutMessage& push(OutMessage&& m) {
    if (sent.empty()) first_number = m.number;
    if (sent.full()) sent.set_capacity(2 * sent.capacity());
    sent.push_back(std::move(m));
    return sent.back();
  }
  /// Drops the holes at the front after a message left.
  void trim() {
    while (!sent.empty() && !sent.front().live) {
      sent.pop_front();
      first_number = (first_number + 1) & kNumberMask;
    }
  }
};

/// A receive posted for a message.
struct RecvOp {
  OpId id = 0;
  std::byte* data = nullptr;
  std::size_t bytes = 0;
  MessageKind kind;
};

// One incoming message: which fragments arrived (what acknowledgements
// report), and either the receive it is written into or, before that receive
// is posted, the fragments themselves.
struct Incoming {
  boost::container::small_vector<std::uint8_t, 8> have;  // per fragment index
  std::size_t received = 0;                              // bytes
  std::size_t total = SIZE_MAX;                          // known once the last fragment arrived
  std::optional<RecvOp> recv;
  std::vector<wire::Packet> early;
  bool complete() const { return total != SIZE_MAX && received == total; }
};

// The messages from one (source, tag): numbered in sending order; receives
// take numbers in posting order. A consumed message (delivered or failed) is
// remembered so that its late duplicates are recognised.
struct RecvStream {
  std::uint32_t src = 0;
  std::uint16_t tag = 0;
  std::uint16_t next_post = 0;
  std::uint16_t floor = 0;           // every number before it is consumed
  std::set<std::uint16_t> consumed;  // consumed numbers at or after floor
  // Open messages are the few receives posted ahead plus early arrivals: a
  // sorted vector beats a hash map at that size.
  boost::container::flat_map<std::uint16_t, Incoming> open;
  // Whether the tag is retired, as of the channel's retire_generation.
  std::uint64_t retired_checked = ~std::uint64_t{0};
  bool retired = false;
  bool is_consumed(std::uint16_t n) const { return before(n, floor) || consumed.count(n) != 0; }
};

/// Streams by (peer, tag), with the last one found cached: a rank's
/// consecutive packets mostly belong to one stream.
template <typename Stream>
class StreamTable {
 public:
  Stream* find(std::uint32_t peer, std::uint16_t tag) {
    const std::uint32_t key = stream_key(peer, tag);
    if (last_ && last_key_ == key) return last_;
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    last_key_ = key;
    return last_ = it->second.get();
  }
  Stream& get(std::uint32_t peer, std::uint16_t tag) {
    if (Stream* s = find(peer, tag)) return *s;
    auto& slot = map_[stream_key(peer, tag)];
    slot = std::make_unique<Stream>();
    last_key_ = stream_key(peer, tag);
    return *(last_ = slot.get());
  }
  /// Calls f(stream) for every stream.
  template <typename F>
  void for_each(F&& f) {
    for (auto& [key, s] : map_) f(*s);
  }
  /// Whether pred(stream) holds for some stream.
  template <typename P>
  bool any_of(P&& pred) const {
    for (const auto& [key, s] : map_)
      if (pred(*s)) return true;
    return false;
  }
  /// Erases the streams of `tag`, each after before_erase(stream).
  template <typename F>
  void erase_tag(std::uint16_t tag, F&& before_erase) {
    last_ = nullptr;
    for (auto it = map_.begin(); it != map_.end();) {
      if ((it->first & 0xffff) != tag) {
        ++it;
        continue;
      }
      before_erase(*it->second);
      it = map_.erase(it);
    }
  }

 private:
  std::unordered_map<std::uint32_t, std::unique_ptr<Stream>> map_;
  Stream* last_ = nullptr;
  std::uint32_t last_key_ = 0;
};

}  // namespace inca::protocol::p2p
