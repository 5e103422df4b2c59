// Network namespaces and veths for integration tests: the helpers `inca
// launch` uses (switch_emu/udp/netns.hpp), seen from the test namespace.
#pragma once

#include "udp/netns.hpp"

namespace inca::test {
using namespace inca::udp;  // NOLINT(google-build-using-namespace): one set of helpers
}  // namespace inca::test
