#include "python_plugin.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace inca::cli {
namespace {

bool names_python_plugin(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view path;
    if (arg == "--plugin" && i + 1 < argc)
      path = argv[i + 1];
    else if (arg.starts_with("--plugin="))
      path = arg.substr(9);
    if (path.ends_with(".py")) return true;
  }
  return false;
}

}  // namespace

int exec_python_bench(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != "bench" || !names_python_plugin(argc, argv))
    return -1;
  // build/bin/inca -> build/python, where the module is assembled.
  const std::filesystem::path modules =
      std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "python";
  if (!std::filesystem::exists(modules / "inca" / "__init__.py")) {
    std::fprintf(stderr,
                 "inca bench: a .py plugin needs the Python module, which this build lacks (%s; "
                 "configure with INCA_BUILD_PYTHON=ON)\n",
                 modules.c_str());
    return 2;
  }
  const char* env = std::getenv("INCA_PYTHON");
  const std::string python = env && *env ? env : INCA_PYTHON_EXECUTABLE;
  std::string path = modules.string();
  if (const char* old = std::getenv("PYTHONPATH"); old && *old) path += std::string(":") + old;
  ::setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<char*> args = {const_cast<char*>(python.c_str()), const_cast<char*>("-m"),
                             const_cast<char*>("inca")};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(python.c_str(), args.data());
  std::fprintf(stderr, "inca bench: cannot run %s for a .py plugin: %s\n", python.c_str(),
               std::strerror(errno));
  return 2;
}

}  // namespace inca::cli
