#include "live/backoff.hpp"

#include <thread>

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace inca::live {

void pause_briefly(IdleStep step) {
  if (step == IdleStep::yield) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

void tune_fabric_thread(const BackoffConfig& config) {
#ifdef __linux__
  // The default 50 us slack would round every short sleep (a packet due in
  // 10 us at 1 Gb/s) up to 50 us and make links bursty.
  if (config.precise_sleeps) prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
#else
  (void)config;
#endif
}

}  // namespace inca::live
