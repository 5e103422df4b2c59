#include "algorithms/cost_model_timeline.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>

#include "algorithms/cost_model_queues.hpp"

namespace inca::algorithms {

double wire_bytes(std::size_t m, std::size_t payload, std::size_t overhead) {
  const std::size_t packets = std::max<std::size_t>(1, (m + payload - 1) / payload);
  return static_cast<double>(m + packets * overhead);
}

void ExchangeTimeline::step(const ExchangeStep& step, std::size_t bytes, bool reduces,
                            bool sender_waits, bool reverse) {
  steps_.push_back({&step, bytes, reduces, sender_waits, reverse});
}

namespace {

// Something that happens at a moment: a rank starts a step, or a message's
// last packet has entered its queue (then its departure is known).
struct Event {
  double time;
  bool starts;  // a rank starts step `step`; else message `id` is through
  std::uint32_t id;
  std::size_t step;
  // Earliest first; at one moment, steps start before messages close, so
  // that a message posted at that moment is in the queue it may share.
  bool operator>(const Event& o) const {
    return time != o.time ? time > o.time : (starts != o.starts ? !starts : id > o.id);
  }
};

// How a message of `bytes` is cut: its packets, the bytes of a full one on
// the wire (the first) and of the last one.
struct Cut {
  std::size_t packets;
  double full, last;
};
Cut cut(const ModelFabric& f, std::size_t bytes) {
  const std::size_t payload = f.p2p_payload;
  const std::size_t packets = std::max<std::size_t>(1, (bytes + payload - 1) / payload);
  return {packets, static_cast<double>(std::min(bytes, payload) + f.packet_overhead),
          static_cast<double>(bytes - (packets - 1) * payload + f.packet_overhead)};
}

struct Message {
  std::size_t step;
  std::uint32_t flow, from, to;
  std::size_t index;    // in its queue
  std::size_t hop = 0;  // the queue: its route's hop (when the flow has hops)
};

}  // namespace

double ExchangeTimeline::run() const {
  const ModelFabric& f = fabric_;
  const std::size_t ranks = f.ranks, n_steps = steps_.size();
  if (ranks == 0) return 0.0;
  // Per step and rank: the flows it sends (flows[first[at]..first[at + 1]),
  // at = step x ranks + rank), how many messages it waits for, and when it is
  // done with the step (once `got` reaches `expected`).
  const std::size_t slots = n_steps * ranks;
  std::vector<std::uint32_t> expected(slots, 0), got(slots, 0), first(slots + 1, 0), flows;
  std::vector<char> begun(slots, 0), received(slots, 0);
  std::vector<double> latest(slots, 0.0);
  auto each_flow = [&](auto visit) {
    for (std::size_t k = 0; k < n_steps; ++k) {
      const Step& st = steps_[k];
      for (std::uint32_t i = 0; i < st.step->flows.size(); ++i) {
        const ExchangeStep::Flow& flow = st.step->flows[i];
        const std::uint32_t from = st.reverse ? flow.to : flow.from;
        const std::uint32_t to = st.reverse ? flow.from : flow.to;
        if (from < ranks && to < ranks) visit(k, i, from, to);
      }
    }
  };
  each_flow([&](std::size_t k, std::uint32_t, std::uint32_t from, std::uint32_t to) {
    ++first[k * ranks + from + 1];
    ++expected[k * ranks + to];
    if (steps_[k].sender_waits && steps_[k].bytes > f.eager_bytes) ++expected[k * ranks + from];
  });
  for (std::size_t at = 0; at < slots; ++at) first[at + 1] += first[at];
  flows.resize(first[slots]);
  {
    std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
    each_flow([&](std::size_t k, std::uint32_t i, std::uint32_t from, std::uint32_t) {
      flows[fill[k * ranks + from]++] = i;
    });
  }
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::vector<Message> messages;
  messages.reserve(flows.size());
  // Per rank, the message to it that was taken in last: when, and when its
  // packets began to pass the rank's link in.
  std::vector<double> landed(ranks, 0.0), landing(ranks, 0.0);
  LinkQueues queues;
  double done = 0.0;

  // A rank is done with step k once its messages arrived and its sends
  // completed; then it reduces what it received and starts step k + 1.
  auto settle = [&](std::uint32_t r, std::size_t k) {
    const std::size_t at = k * ranks + r;
    if (!begun[at] || got[at] < expected[at]) return;
    begun[at] = 0;
    const double reduce = steps_[k].reduces && received[at] ? f.host.compute(steps_[k].bytes) : 0;
    events.push({latest[at] + reduce, true, r, k + 1});
  };
  auto part = [&](std::uint32_t r, std::size_t k, double t, bool receives) {
    const std::size_t at = k * ranks + r;
    ++got[at];
    latest[at] = std::max(latest[at], t);
    if (receives) received[at] = 1;
    settle(r, k);
  };
  auto queue_of = [&](const Message& m) -> const ModelQueue& {
    const ExchangeStep::Flow& flow = steps_[m.step].step->flows[m.flow];
    return steps_[m.step].reverse ? flow.reverse_queue : flow.queue;
  };  // A message taken in at `arrival` (before the receiver's link in passes it
  // after the previous message to that rank); a rendezvous sender waits for
  // its acknowledgement.
  auto deliver = [&](const Message& m, double arrival) {
    const Step& st = steps_[m.step];
    const ExchangeStep::Flow& flow = st.step->flows[m.flow];
    // Messages to one rank share its link in: one sent early (a binomial
    // child whose subtree finished first) lands only once the previous
    // message to that rank has, and then as fast as the link passes it. (With
    // hops that link is a queue of its own, which already says so.) Messages
    // are delivered in the order their last packets entered their first
    // queue, not the order they arrive, so one that arrives before the
    // previous one began to land (a short message of an earlier step behind
    // a long path's) passed the link before it and lands as it arrives.
    const ModelQueue& q = queue_of(m);
    const double link_in = q.link == 0              ? flow.path.flow_ps_per_byte
                           : q.last_ps_per_byte > 0 ? q.last_ps_per_byte
                                                    : q.ps_per_byte;
    const double serialise = link_in * wire_bytes(st.bytes, f.p2p_payload, f.packet_overhead);
    const double o_r = static_cast<double>(f.host.recv_overhead);
    double in = arrival;
    if (q.hops.empty() && arrival > landing[m.to])
      in = std::max(arrival, landed[m.to] + serialise + o_r);
    if (in >= landed[m.to]) {
      landed[m.to] = in;
      landing[m.to] = in - o_r - serialise;
    }
    part(m.to, m.step, in, true);
    if (st.sender_waits && st.bytes > f.eager_bytes)
      part(m.from, m.step, arrival + f.acknowledgement(flow.path, st.bytes), false);
  };

  auto start = [&](std::uint32_t r, std::size_t k, double t) {
    // Steps this rank has no part in pass at once.
    auto idle = [&](std::size_t s) {
      const std::size_t at = s * ranks + r;
      return !steps_[s].step->flows.empty() && first[at] == first[at + 1] && expected[at] == 0;
    };
    while (k < n_steps && idle(k)) ++k;
    if (k == n_steps) {
      done = std::max(done, t);
      return;
    }
    const Step& st = steps_[k];
    if (st.step->flows.empty()) {  // no per-flow paths: every rank pays `path`
      const double cost = f.message(st.step->path, st.bytes) +
                          (st.sender_waits ? f.acknowledgement(st.step->path, st.bytes) : 0.0) +
                          (st.reduces ? f.host.compute(st.bytes) : 0.0);
      events.push({t + cost, true, r, k + 1});
      return;
    }
    const std::size_t at = k * ranks + r;
    begun[at] = 1;
    latest[at] = std::max(latest[at], t);
    const auto [packets, pkt, last_pkt] = cut(f, st.bytes);
    const double posted = t + static_cast<double>(f.host.send_overhead);
    for (std::uint32_t n = first[at]; n < first[at + 1]; ++n) {
      const std::uint32_t i = flows[n];
      const ExchangeStep::Flow& flow = st.step->flows[i];
      Message m{k, i, r, st.reverse ? flow.from : flow.to, 0};
      if (!(st.sender_waits && st.bytes > f.eager_bytes)) latest[at] = std::max(latest[at], posted);
      const ModelQueue& q = queue_of(m);
      if (q.link == 0) {  // no queue known: the message pays its static share
        deliver(m, t + f.message(flow.path, st.bytes));
        continue;
      }
      // Into the bottleneck's queue (with hops, their first). With hops the
      // entries are absolute, as the later queues' are: the links before it
      // add their latencies here, not at the end.
      PacketTrain train;
      train.first =
          posted + q.upstream_ps_per_byte * pkt + (q.hops.empty() ? 0.0 : q.upstream_fixed_ps);
      train.pace = q.feed_ps_per_byte * pkt;
      train.packets = packets;
      train.full = q.ps_per_byte * pkt;
      train.last = q.ps_per_byte * last_pkt;
      train.last_feed = q.feed_ps_per_byte * last_pkt;
      m.index = queues.add(q.link, train);
      events.push(
          {train.entry(packets - 1), false, static_cast<std::uint32_t>(messages.size()), k});
      messages.push_back(m);
    }
    settle(r, k);
  };
  // The message's last packet entered a queue, so everything that can be
  // ahead of it there is known. On a route with hops it then enters the next
  // link's queue as it left this one, or, from the receiver's link, is taken
  // in. With a single queue (hand-made steps) its packets keep their spacing
  // over the links after it, and the receiver's link takes the last one in
  // once the one before it has gone through.
  auto through = [&](std::uint32_t id) {
    Message& m = messages[id];
    const Step& st = steps_[m.step];
    const ModelQueue& q = queue_of(m);
    const auto [packets, pkt, last_pkt] = cut(f, st.bytes);
    if (!q.hops.empty()) {
      // Every link is a queue in turn: the packets enter the next one as
      // they left this one (the first and the last two exactly, the ones
      // between evenly spaced).
      const ModelQueue::Hop& hop = q.hops[m.hop];
      const double first = queues.departure(hop.link, m.index, 0);
      const double before_last =
          packets > 1 ? queues.departure(hop.link, m.index, packets - 2) : first;
      const double last = packets > 1 ? queues.departure(hop.link, m.index, packets - 1) : first;
      if (m.hop + 1 == q.hops.size()) {
        deliver(m, last + hop.latency_ps + static_cast<double>(f.host.recv_overhead));
        return;
      }
      const ModelQueue::Hop& next = q.hops[++m.hop];
      PacketTrain train;
      train.first = first + hop.latency_ps;
      train.pace = packets > 2 ? (before_last - first) / static_cast<double>(packets - 2) : 0.0;
      train.packets = packets;
      train.full = next.ps_per_byte * pkt;
      train.last = next.ps_per_byte * last_pkt;
      train.last_feed = last - before_last;
      m.index = queues.add(next.link, train);
      events.push({train.entry(packets - 1), false, id, m.step});
      return;
    }
    double reached = queues.departure(q.link, m.index, packets - 1);
    if (q.last_ps_per_byte > 0) {
      if (packets > 1)
        reached = std::max(
            reached, queues.departure(q.link, m.index, packets - 2) + q.last_ps_per_byte * pkt);
      reached += q.between_ps_per_byte * pkt + q.last_ps_per_byte * last_pkt;
    }
    const ExchangeStep::Flow& flow = st.step->flows[m.flow];
    deliver(m, reached + flow.path.fixed_ps + static_cast<double>(f.host.recv_overhead));
  };

  for (std::uint32_t r = 0; r < ranks; ++r) events.push({0.0, true, r, 0});
  while (!events.empty()) {
    const Event e = events.top();
    events.pop();
    if (e.starts)
      start(e.id, e.step, e.time);
    else
      through(e.id);
  }
  return done;
}

}  // namespace inca::algorithms
