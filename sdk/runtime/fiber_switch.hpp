// Stack switches between a scheduler and its fibers (the simulator's rank
// fibers, a rank's non-blocking collectives), annotated for the
// sanitizers. Boost.Context switches stacks in assembly that ASan and TSan
// cannot see, so without these calls they would report false errors (ASan)
// or mix up happens-before state (TSan). Debian's Boost.Context is built with
// fcontext, so the annotations are made here rather than by Boost's ucontext
// variant.
#pragma once

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <cstddef>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define INCA_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INCA_ASAN_FIBERS 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define INCA_TSAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INCA_TSAN_FIBERS 1
#endif
#endif

#ifdef INCA_ASAN_FIBERS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef INCA_TSAN_FIBERS
#include <sanitizer/tsan_interface.h>
#endif

namespace inca::runtime {

/// Fiber stacks that finished, kept per thread for the next fibers of the
/// same size: a simulation starts thousands of rank fibers per run, and
/// mapping, guarding and unmapping each stack anew (a TLB flush per unmap)
/// was a large part of setting up a run of thousands of ranks.
class FiberStackPool {
 public:
  static FiberStackPool& local() {
    thread_local FiberStackPool pool;
    return pool;
  }
  FiberStackPool() = default;
  FiberStackPool(const FiberStackPool&) = delete;
  FiberStackPool& operator=(const FiberStackPool&) = delete;
  ~FiberStackPool() {
    for (auto& sc : free_) boost::context::protected_fixedsize_stack(size_).deallocate(sc);
  }
  boost::context::stack_context allocate(std::size_t size) {
    if (size != size_ || free_.empty())
      return boost::context::protected_fixedsize_stack(size).allocate();
    boost::context::stack_context sc = free_.back();
    free_.pop_back();
#ifdef INCA_ASAN_FIBERS
    // The frames of the fiber that used it last are gone.
    __asan_unpoison_memory_region(static_cast<char*>(sc.sp) - sc.size, sc.size);
#endif
    return sc;
  }
  void deallocate(std::size_t size, boost::context::stack_context& sc) {
    if (size != size_) {
      // Keep stacks of one size only: the latest one asked for.
      for (auto& old : free_) boost::context::protected_fixedsize_stack(size_).deallocate(old);
      free_.clear();
      size_ = size;
    }
    if (free_.size() < kMaxKept)
      free_.push_back(sc);
    else
      boost::context::protected_fixedsize_stack(size).deallocate(sc);
  }

  /// Stacks kept for reuse.
  std::size_t kept() const {
    return free_.size();
  }

 private:
  static constexpr std::size_t kMaxKept = 16384;
  std::size_t size_ = 0;
  std::vector<boost::context::stack_context> free_;
};

/// One fiber plus what the sanitizers need to follow it.
class FiberSwitch {
 public:
  /// Allocator that remembers the stack it handed out (for ASan's bounds).
  class Stack {
   public:
    Stack(std::size_t size, boost::context::stack_context* out) : size_(size), out_(out) {}
    boost::context::stack_context allocate() {
      *out_ = FiberStackPool::local().allocate(size_);
      return *out_;
    }
    void deallocate(boost::context::stack_context& sc) {
      FiberStackPool::local().deallocate(size_, sc);
    }

   private:
    std::size_t size_;
    boost::context::stack_context* out_;
  };

  FiberSwitch() = default;
  FiberSwitch(const FiberSwitch&) = delete;
  FiberSwitch& operator=(const FiberSwitch&) = delete;
  ~FiberSwitch() { release_tsan_fiber(); }

  /// Creates the fiber; `body` runs on it and must end with finish_fiber().
  template <typename Fn>
  void create(std::size_t stack_bytes, Fn&& body) {
    release_tsan_fiber();
#ifdef INCA_TSAN_FIBERS
    tsan_fiber_ = __tsan_create_fiber(0);
#endif
    fiber_ = boost::context::fiber(std::allocator_arg, Stack(stack_bytes, &stack_),
                                   std::forward<Fn>(body));
  }

  /// Scheduler side: run the fiber until it yields or finishes.
  void resume() {
#ifdef INCA_TSAN_FIBERS
    scheduler_tsan_ = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(tsan_fiber_, 0);
#endif
#ifdef INCA_ASAN_FIBERS
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
    fiber_ = std::move(fiber_).resume();
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    fiber_ = std::move(fiber_).resume();
#endif
  }

  /// Fiber side, first thing in the body: take the scheduler's continuation.
  void enter_fiber(boost::context::fiber&& scheduler) {
#ifdef INCA_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(nullptr, &scheduler_bottom_, &scheduler_size_);
#endif
    scheduler_ = std::move(scheduler);
  }

  /// Fiber side: hand control back to the scheduler until resumed.
  void yield() {
#ifdef INCA_TSAN_FIBERS
    __tsan_switch_to_fiber(scheduler_tsan_, 0);
#endif
#ifdef INCA_ASAN_FIBERS
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, scheduler_bottom_, scheduler_size_);
    scheduler_ = std::move(scheduler_).resume();
    __sanitizer_finish_switch_fiber(fake, &scheduler_bottom_, &scheduler_size_);
#else
    scheduler_ = std::move(scheduler_).resume();
#endif
  }

  /// Fiber side, last thing in the body: the continuation to return.
  boost::context::fiber finish_fiber() {
#ifdef INCA_TSAN_FIBERS
    __tsan_switch_to_fiber(scheduler_tsan_, 0);
#endif
#ifdef INCA_ASAN_FIBERS
    __sanitizer_start_switch_fiber(nullptr, scheduler_bottom_, scheduler_size_);
#endif
    return std::move(scheduler_);
  }

 private:
  void release_tsan_fiber() {
#ifdef INCA_TSAN_FIBERS
    if (tsan_fiber_) __tsan_destroy_fiber(tsan_fiber_);
    tsan_fiber_ = nullptr;
#endif
  }

  boost::context::fiber fiber_;
  boost::context::fiber scheduler_;
  boost::context::stack_context stack_{};
  [[maybe_unused]] const void* scheduler_bottom_ = nullptr;
  [[maybe_unused]] std::size_t scheduler_size_ = 0;
  [[maybe_unused]] void* tsan_fiber_ = nullptr;
  [[maybe_unused]] void* scheduler_tsan_ = nullptr;
};

}  // namespace inca::runtime
