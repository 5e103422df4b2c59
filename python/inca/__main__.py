"""``python3 -m inca bench [FLAGS]``: ``inca bench`` with this process's
Python algorithms; ``--plugin FILE.py`` runs FILE.py first (it calls
inca.register_allreduce), ``--plugin LIB.so`` loads a C++ plugin. The
``inca`` command runs this when given a ``.py`` plugin."""

from __future__ import annotations

import sys
from typing import List

from . import _native
from ._bench import load_python_plugins


def main(argv: List[str]) -> int:
    if not argv or argv[0] != "bench":
        print("usage: python3 -m inca bench [inca bench flags] [--plugin FILE.py]",
              file=sys.stderr)
        return 2
    args: List[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        path = None
        if arg == "--plugin":
            path = next(rest, "")
        elif arg.startswith("--plugin="):
            path = arg.split("=", 1)[1]
        if path is None:
            args.append(arg)
        else:
            for native in load_python_plugins([path]):
                args += ["--plugin", native]
    status, out, err = _native._bench_command(args)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
