// Algorithms in shared libraries loaded at run time (`inca bench --plugin`).
// A plugin exports
//
//   extern "C" int inca_register_algorithms();
//
// which calls register_allreduce() for each of its algorithms and returns 0
// when all of them registered. The plugin does not link the inca library: it
// uses the symbols of the program that loads it, which must export them
// (CMake ENABLE_EXPORTS, -rdynamic), so that the plugin and the program share
// one registry. Plugins stay loaded until the process ends: the registry keeps
// pointers into their code.
#pragma once

#include <string>

#include "inca/status.hpp"

namespace inca {

/// The symbol load_plugin() calls after dlopen().
inline constexpr const char* kPluginEntry = "inca_register_algorithms";

/// The signature of kPluginEntry: 0 when every algorithm registered.
using PluginEntry = int (*)();

/// dlopen()s `path` and calls its entry once; loading the same library again
/// does nothing. Errors: io_error with dlopen()'s message when the library
/// cannot be loaded (no file, not a shared library, undefined symbols);
/// invalid_argument when it lacks the entry or its entry returns non-zero.
Status load_plugin(const std::string& path);

}  // namespace inca
