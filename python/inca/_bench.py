"""inca.bench: ``inca bench`` in this process, returning its JSON rows."""

from __future__ import annotations

import json
import runpy
import warnings
from typing import Any, Dict, Iterable, List, Optional

from . import _errors, _native

# Flags that may be given several times (lists become repeated flags; other
# lists become one comma-separated value).
_REPEATABLE = {"plugin", "faulty_node", "link_down", "kill_switch"}


def _flag_args(name: str, value: Any) -> List[str]:
    flag = "--" + name.replace("_", "-")
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if isinstance(value, (list, tuple)):
        if name in _REPEATABLE:
            return [arg for item in value for arg in (flag, str(item))]
        return [flag, ",".join(str(item) for item in value)]
    return [flag, str(value)]


def load_python_plugins(paths: Iterable[str]) -> List[str]:
    """Runs each ``.py`` file in ``paths`` (they call inca.register_allreduce);
    returns the others (C++ plugins) for ``--plugin``."""
    native = []
    for path in paths:
        if str(path).endswith(".py"):
            runpy.run_path(str(path), run_name="inca_plugin")
        else:
            native.append(str(path))
    return native


def command_args(options: Dict[str, Any]) -> List[str]:
    """``inca bench`` flags for keyword options (``min_bytes="1M"`` ->
    ``--min-bytes 1M``; ``algos=["innet", "ring"]`` -> ``--algos innet,ring``)."""
    args: List[str] = []
    for name, value in options.items():
        if name == "plugin":
            value = load_python_plugins([value] if isinstance(value, str) else value)
        args += _flag_args(name, value)
    return args


def _raise_for(message: str) -> None:
    text = message.strip()
    if text.startswith("inca bench: "):
        text = text[len("inca bench: "):]
    code, _, rest = text.partition(": ")
    cls = _errors.BY_CODE.get(code)
    if cls is not None:
        raise cls(rest, code)
    raise _errors.InvalidArgument(text)


def bench(**options: Any) -> List[Dict[str, Any]]:
    """Runs ``inca bench`` with these options and returns its rows as dicts
    with the JSON key names (``bytes``, ``count``, ``dtype``, ``op``,
    ``algorithm``, ``ranks``, ``time_us``, ``algbw_GBps``, ``busbw_GBps``,
    ``nic_tx_bytes``, ``model_us``, ``outstanding``, ``check``, ``model``,
    ``note``, and ``stats`` with ``stats=True``): ``pandas.DataFrame(rows)``
    works.

    The options are the command's flags with underscores (``inca bench
    --help``): ``min_bytes``, ``max_bytes``, ``step_factor``, ``fabric``,
    ``iters``, ``ranks``, ``collective``, ``algos`` (a list), ``plugin`` (a
    path or a list; ``.py`` files are run first, so their
    ``register_allreduce`` calls count), ``dtype``, ``op``, ``topology``,
    ``link_gbps``, ``latency_ns``, ``slot_bytes``, ``window``, ``payload``,
    ``stats``, ``quantized``, ``nonblocking``, ``outstanding``,
    ``reproducible``, ``sim_mode`` (``"analytic"``: the cost model's rows,
    nothing simulated), the fault flags (``drop``, ``link_down``, ...). True
    sets a flag. Algorithms registered in this process (Python ones too)
    are benchmarked like built-ins. Rows whose check failed come back with
    a RuntimeWarning. Raises the inca.Error of a bad option.
    """
    if "format" in options:
        raise _errors.InvalidArgument("bench returns rows; `inca bench --format` prints tables")
    status, out, err = _native._bench_command(command_args(options) + ["--format", "json"])
    if status == 2 or (status != 0 and not out.strip()):
        _raise_for(err)
    rows: List[Dict[str, Any]] = json.loads(out)
    passed = ("exact", "timing", "quantized", "analytic")  # analytic: sim_mode="analytic"
    failed = [row for row in rows if row.get("check") not in passed]
    if failed:
        warnings.warn(f"inca.bench: {len(failed)} row(s) failed their check: "
                      f"{[(r['bytes'], r['algorithm'], r['check']) for r in failed]}",
                      RuntimeWarning, stacklevel=2)
    return rows
