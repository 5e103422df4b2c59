"""Worlds on fabric files and presets (docs/fabric-files.md), with the
fabric flags of the commands overriding their values, and inca.describe."""

from __future__ import annotations

import numpy as np

import inca


def test_a_preset_world_runs_and_reports():
    world = inca.World(preset="default-100g")
    assert world.size == 64 and world.innet_status == "ok"
    assert "default-100g" in world.describe()
    out = world.run(lambda comm: float(comm.allreduce(np.ones(8, np.float32))[0]))
    assert out == [64.0] * 64


def test_overrides_change_the_file_values():
    slow = inca.World(preset="default-100g")
    fast = inca.World(preset="default-100g", link_gbps=400)

    def timed(comm):
        start = comm.now()
        comm.allreduce(np.ones(1 << 18, np.float32), algorithm="innet")
        return comm.now() - start

    assert max(fast.run(timed)) < 0.5 * max(slow.run(timed))
    assert "400 Gb/s" in inca.describe(preset="default-100g", link_gbps=400)


def test_describe_expand_writes_a_file_that_builds_the_same(tmp_path):
    summary = inca.describe(ranks=16, topology="leaf_spine", hosts_per_leaf=4)
    assert "hosts: 16" in summary
    path = tmp_path / "expanded.yaml"
    path.write_text(inca.describe(ranks=16, topology="leaf_spine", hosts_per_leaf=4, expand=True))
    world = inca.World(fabric_file=str(path))
    assert world.size == 16 and world.tree_levels == 2
    assert inca.describe(fabric_file=str(path)).splitlines()[1:] == summary.splitlines()[1:]
