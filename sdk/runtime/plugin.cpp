#include "inca/plugin.hpp"

#include <dlfcn.h>

#include <mutex>
#include <set>

#include <fmt/format.h>

namespace inca {

Status load_plugin(const std::string& path) {
  // dlopen() of a loaded library returns its handle again; its entry must
  // not run twice, or every registration would fail as a duplicate.
  static std::mutex mutex;
  static std::set<void*> loaded;
  std::lock_guard lock(mutex);
  // A name without a slash would be searched on the library path; a plugin
  // is a file the user names.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error(StatusCode::io_error,
                      fmt::format("cannot load plugin {}: {}", path, why ? why : "dlopen failed"));
  }
  if (loaded.count(handle)) {
    dlclose(handle);  // drops the reference this call added
    return {};
  }
  void* entry = dlsym(handle, kPluginEntry);
  if (entry == nullptr) {
    dlclose(handle);
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("plugin {} does not export extern \"C\" int {}()", path, kPluginEntry));
  }
  loaded.insert(handle);
  if (const int rc = reinterpret_cast<PluginEntry>(entry)(); rc != 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{}() of plugin {} returned {}", kPluginEntry, path, rc));
  return {};
}

}  // namespace inca
