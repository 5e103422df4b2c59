// `inca bench --plugin FILE.py`: all-reduce algorithms written in Python
// (inca.register_allreduce) live in a Python interpreter, so the command
// hands such a run to `python3 -m inca bench` with the same flags, the
// build's Python module on its path (docs/python.md).
#pragma once

namespace inca::cli {

/// When argv is `inca bench ...` with a --plugin ending in .py, replaces
/// this process with `PYTHON -m inca bench ...` (PYTHON: $INCA_PYTHON, else
/// the interpreter the module was built for) and does not return; returns
/// an exit status (2) when that cannot be done, and -1 when argv names no
/// Python plugin.
int exec_python_bench(int argc, char** argv);

}  // namespace inca::cli
