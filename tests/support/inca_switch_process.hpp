// inca-switch and inca-loadgen processes for integration tests: the helpers
// `inca launch` uses (switch_emu/udp/switch_process.hpp), seen from the test
// namespace.
#pragma once

#include "udp/child_process.hpp"
#include "udp/switch_process.hpp"

namespace inca::test {
using namespace inca::udp;  // NOLINT(google-build-using-namespace): one set of helpers
}  // namespace inca::test
