"""inca.bench: the options of `inca bench`, rows with its JSON key names."""

from __future__ import annotations

import json
import subprocess

import pytest

import inca
from conftest import BUILD

KEYS = {"bytes", "count", "dtype", "op", "algorithm", "ranks", "time_us", "algbw_GBps",
        "busbw_GBps", "nic_tx_bytes", "model_us", "outstanding", "check"}


def test_rows_are_the_json_rows_of_the_command():
    options = dict(ranks=16, min_bytes="4K", max_bytes="64K", step_factor=4,
                   algos=["innet", "ring"], dtype="bf16", op="max")
    rows = inca.bench(**options)
    assert len(rows) == 3 * 2
    assert all(KEYS <= set(r) for r in rows)
    assert {r["dtype"] for r in rows} == {"bf16"} and {r["op"] for r in rows} == {"max"}
    assert all(r["check"] == "exact" for r in rows)
    binary = BUILD / "bin" / "inca"
    if binary.exists():  # the same numbers as the command prints
        args = ["--ranks", "16", "-b", "4K", "-e", "64K", "-f", "4", "--algos", "innet,ring",
                "--dtype", "bf16", "--op", "max", "--format", "json"]
        printed = json.loads(subprocess.run([str(binary), "bench", *args], capture_output=True,
                                            text=True, check=True).stdout)
        assert printed == rows


def test_a_dataframe_reads_the_rows():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(inca.bench(ranks=8, min_bytes="1K", max_bytes="1K"))
    assert set(frame["algorithm"]) == {"innet", "ring"}


def test_flags_lists_and_stats():
    rows = inca.bench(ranks=8, topology="star", collective="reduce_scatter", min_bytes="8K",
                      max_bytes="8K", stats=True, nonblocking=True, outstanding=2)
    assert [r["algorithm"] for r in rows] == ["innet", "ring"]
    assert all(r["outstanding"] == 2 and "stats" in r for r in rows)
    assert rows[0]["stats"]["switch_contributions"] > 0


def test_fault_flags_reach_the_fabric():
    rows = inca.bench(ranks=8, topology="star", min_bytes="64K", max_bytes="64K", drop=0.01,
                      seed=3, stats=True, algos=["innet"])
    assert rows[0]["check"] == "exact"
    assert rows[0]["stats"]["fault_dropped"] > 0 and rows[0]["stats"]["host_retransmissions"] > 0


def test_bad_options_raise():
    with pytest.raises(inca.InvalidArgument, match="min-bytes"):
        inca.bench(min_bytes="lots")
    with pytest.raises(inca.InvalidArgument, match="--no-such-flag"):
        inca.bench(no_such_flag=1)
    with pytest.raises(inca.InvalidArgument, match="tables"):
        inca.bench(format="csv")
    with pytest.raises(inca.InvalidArgument, match="nope"):
        inca.bench(algos=["nope"], max_bytes="8")


def test_a_cxx_plugin_loads_into_the_module():
    plugin = BUILD / "lib" / "libcustom_algorithm.so"
    if not plugin.exists():
        pytest.skip(f"{plugin} was not built")
    rows = inca.bench(plugin=str(plugin), algos=["star", "ring"], ranks=4, max_bytes="1K",
                      min_bytes="1K")
    assert [r["algorithm"] for r in rows] == ["star", "ring"]
    assert all(r["check"] == "exact" for r in rows)
    assert "innet_or_star" in inca.algorithms()


def test_analytic_rows_are_the_models_and_raise_no_warning(recwarn):
    simulated = inca.bench(ranks=16, min_bytes="1M", max_bytes="1M", algos=["innet", "ring"],
                           payload="off")
    analytic = inca.bench(ranks=16, min_bytes="1M", max_bytes="1M", algos=["innet", "ring"],
                          sim_mode="analytic")
    assert [r["model"] for r in analytic] == ["analytic", "analytic"]
    assert [r["time_us"] for r in analytic] == [r["model_us"] for r in simulated]
    assert all(r["nic_tx_bytes"] is None for r in analytic)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
