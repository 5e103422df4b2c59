#include "rc_ring.hpp"

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "inca/reduce.hpp"

namespace inca::verbs {
namespace {

// A descriptor: the sender's buffer and staging area for this call.
struct Descriptor {
  std::uint64_t data_va = 0;
  std::uint64_t staging_va = 0;
  std::uint64_t data_bytes = 0;
  std::uint32_t data_rkey = 0;
  std::uint32_t staging_rkey = 0;
};
constexpr std::size_t kSlot = 64;        // mailbox entry (a descriptor, padded)
constexpr std::uint32_t kReceives = 16;  // receive requests kept posted per neighbour

Time now_ps() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
             .count() *
         kPicosPerNano;
}

std::uint64_t address_of(const void* p) {
  return reinterpret_cast<std::uint64_t>(p);
}

}  // namespace

RcRing::RcRing(VerbsQueues& queues, RegistrationCache& cache, std::uint32_t rank,
               std::uint32_t ranks)
    : queues_(queues),
      cache_(cache),
      rank_(rank),
      ranks_(ranks),
      left_((rank + ranks - 1) % ranks),
      right_((rank + 1) % ranks),
      mailbox_(3 * kSlot),  // two incoming (calls alternate), one outgoing
      batch_(32) {}

RcRing::~RcRing() {
  if (mailbox_mr_.handle != 0) cache_.release(mailbox_mr_);
}

Result<RemoteRing> RcRing::mailbox() {
  if (mailbox_mr_.handle == 0) {
    auto mr = cache_.acquire(mailbox_.data(), mailbox_.size(), true);
    if (!mr) return mr.status();
    mailbox_mr_ = *mr;
  }
  return RemoteRing{address_of(mailbox_.data()), mailbox_mr_.rkey};
}

Status RcRing::start(RemoteRing left_mailbox) {
  if (mailbox_mr_.handle == 0) INCA_RETURN_IF_ERROR(mailbox().status());
  left_mailbox_ = left_mailbox;
  if (ranks_ == 1) return {};
  for (std::uint32_t i = 0; i < kReceives; ++i) {
    INCA_RETURN_IF_ERROR(queues_.post_receive(left_));
    INCA_RETURN_IF_ERROR(queues_.post_receive(right_));
  }
  return {};
}

std::uint32_t RcRing::immediate(Message m, std::uint32_t step) const {
  return (static_cast<std::uint32_t>(m) << 28) | ((call_ & 1u) << 27) | (step & 0x7ffffff);
}

Status RcRing::send(std::uint32_t channel, LocalBuffer src, std::uint64_t va, std::uint32_t rkey,
                    Message m, std::uint32_t step) {
  INCA_RETURN_IF_ERROR(queues_.write_imm(channel, src, va, rkey, immediate(m, step), 0));
  ++writes_in_flight_;
  return {};
}

Status RcRing::pump() {
  const std::size_t n = queues_.poll(batch_);
  for (std::size_t i = 0; i < n; ++i) {
    Completion& c = batch_[i];
    switch (c.kind) {
      case Completion::Kind::received:
        arrived_.push_back(c);
        INCA_RETURN_IF_ERROR(queues_.post_receive(c.channel));
        break;
      case Completion::Kind::sent:
        --writes_in_flight_;
        break;
      case Completion::Kind::failed:
        failure_ = make_error(StatusCode::io_error, "RC ring: a work request failed: " + c.error);
        break;
    }
  }
  if (!failure_.ok()) return failure_;
  if (n == 0) {
    const Time now = now_ps();
    if (now >= deadline_)
      return make_error(StatusCode::timeout, fmt::format("RC ring: rank {} heard nothing for {} ms",
                                                         rank_, timeout_ / kPicosPerMilli));
    queues_.wait(deadline_ - now);
  }
  return {};
}

Status RcRing::await(std::uint32_t channel, Message m, std::uint32_t step) {
  const std::uint32_t want = immediate(m, step);
  deadline_ = now_ps() + timeout_;
  while (true) {
    for (auto it = arrived_.begin(); it != arrived_.end(); ++it)
      if (it->channel == channel && it->immediate == want) {
        arrived_.erase(it);
        return {};
      }
    INCA_RETURN_IF_ERROR(pump());
  }
}

Status RcRing::await_writes() {
  deadline_ = now_ps() + timeout_;
  while (writes_in_flight_ > 0) INCA_RETURN_IF_ERROR(pump());
  return {};
}

Status RcRing::allreduce(void* data, std::size_t count, Dtype dtype, ReduceOp op, Time timeout) {
  if (ranks_ == 1 || count == 0) return {};
  if (!op_supported(op, dtype))
    return make_error(StatusCode::not_supported, "RC ring: this dtype/op pair does not reduce");
  timeout_ = timeout;
  const std::size_t size = dtype_size(dtype);
  const std::size_t p = ranks_;
  auto begin = [&](std::size_t b) { return b * count / p; };
  auto length = [&](std::size_t b) { return begin(b + 1) - begin(b); };
  const std::size_t max_block = ((count + p - 1) / p) * size;
  if (staging_.size() < 2 * max_block) {
    cache_.invalidate(staging_.data(), staging_.size());  // the old allocation goes
    staging_.assign(2 * max_block, std::byte{0});
  }
  auto* bytes = static_cast<std::byte*>(data);
  auto data_mr = cache_.acquire(bytes, count * size, true);
  if (!data_mr) return data_mr.status();
  auto staging_mr = cache_.acquire(staging_.data(), staging_.size(), true);
  if (!staging_mr) {
    cache_.release(*data_mr);
    return staging_mr.status();
  }
  const auto run = [&]() -> Status {
    // Where the right neighbour takes this call's blocks, and where this rank does.
    Descriptor mine{address_of(bytes), address_of(staging_.data()), count * size, data_mr->rkey,
                    staging_mr->rkey};
    std::byte* out = mailbox_.data() + 2 * kSlot;
    std::memcpy(out, &mine, sizeof(mine));
    INCA_RETURN_IF_ERROR(send(left_, {out, sizeof(mine), mailbox_mr_.lkey},
                              left_mailbox_.va + (call_ & 1u) * kSlot, left_mailbox_.rkey,
                              Message::descriptor, 0));
    INCA_RETURN_IF_ERROR(await(right_, Message::descriptor, 0));
    Descriptor right;
    std::memcpy(&right, mailbox_.data() + (call_ & 1u) * kSlot, sizeof(right));
    if (right.data_bytes != count * size)
      return make_error(StatusCode::mismatch,
                        fmt::format("RC ring: rank {} reduces {} bytes, rank {} {}", rank_,
                                    count * size, right_, right.data_bytes));
    const LocalBuffer none{nullptr, 0, 0};
    for (std::uint32_t s = 0; s + 1 < p; ++s) {
      if (s >= 2) INCA_RETURN_IF_ERROR(await(right_, Message::credit, s - 2));
      const std::size_t sb = (rank_ + p - s) % p;
      INCA_RETURN_IF_ERROR(
          send(right_, {bytes + begin(sb) * size, length(sb) * size, data_mr->lkey},
               right.staging_va + (s & 1u) * max_block, right.staging_rkey, Message::block, s));
      INCA_RETURN_IF_ERROR(await(left_, Message::block, s));
      const std::size_t rb = (rank_ + 2 * p - s - 1) % p;
      reduce_into(bytes + begin(rb) * size, staging_.data() + (s & 1u) * max_block, length(rb),
                  dtype, op);
      INCA_RETURN_IF_ERROR(
          send(left_, none, left_mailbox_.va, left_mailbox_.rkey, Message::credit, s));
    }
    for (std::uint32_t s = p >= 3 ? static_cast<std::uint32_t>(p) - 3 : 0; s + 1 < p; ++s)
      INCA_RETURN_IF_ERROR(await(right_, Message::credit, s));
    // The NIC has read every block this rank sent: its buffer may now be
    // overwritten by the all-gather.
    INCA_RETURN_IF_ERROR(await_writes());
    INCA_RETURN_IF_ERROR(
        send(left_, none, left_mailbox_.va, left_mailbox_.rkey, Message::ready, 0));
    INCA_RETURN_IF_ERROR(await(right_, Message::ready, 0));
    for (std::uint32_t s = 0; s + 1 < p; ++s) {
      const std::size_t sb = (rank_ + 1 + p - s) % p;
      INCA_RETURN_IF_ERROR(
          send(right_, {bytes + begin(sb) * size, length(sb) * size, data_mr->lkey},
               right.data_va + begin(sb) * size, right.data_rkey, Message::gather, s));
      INCA_RETURN_IF_ERROR(await(left_, Message::gather, s));
    }
    return await_writes();
  };
  const Status s = run();
  cache_.release(*staging_mr);
  cache_.release(*data_mr);
  ++call_;
  return s;
}

}  // namespace inca::verbs
