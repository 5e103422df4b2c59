"""inca.validate and inca.tree: the findings of `inca validate` as objects,
and the trees of `inca tree`, on the job files of tests/data/jobs/."""

from __future__ import annotations

import pathlib

import pytest

import inca

DATA = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "jobs"
FABRIC = str(DATA / "fabric.yaml")


def test_a_valid_file_has_no_findings_and_a_summary_per_job():
    v = inca.validate(FABRIC, str(DATA / "good.yaml"))
    assert v.valid and v.errors == 0 and v.warnings == 0 and v.findings == []
    assert [j["job"] for j in v.jobs] == ["a"]
    assert v.jobs[0]["granted"] is True
    assert v.jobs[0]["trees"] == ["root spine0, 2 level(s), 5 switch(es)",
                                  "root spine1, 2 level(s), 5 switch(es)"]
    assert v.jobs[0]["llt_max_bytes"] == 10 * 512


def test_findings_are_objects_with_location_severity_message_and_hint():
    v = inca.validate(FABRIC, str(DATA / "unknown-host.yaml"))
    assert not v.valid and v.errors == 1
    f = v.findings[0]
    assert isinstance(f, inca.Finding)
    assert (pathlib.Path(f.file).name, f.line, f.severity) == ("unknown-host.yaml", 5, "error")
    assert "which the fabric does not have" in f.message
    assert f.hint.startswith("did you mean")
    assert str(f).startswith(f"{f.file}:5:{f.column}: error: ")


def test_warnings_leave_a_config_valid():
    v = inca.validate(FABRIC, str(DATA / "lock-collision.yaml"))
    assert v.valid and v.warnings == 1
    assert v.findings[0].severity == "warning"
    assert "cannot hold their locks at once" in v.findings[0].message


def test_a_fabric_alone_and_a_preset_name_validate():
    assert inca.validate(FABRIC).valid
    assert inca.validate("classroom-star-8").jobs == []


def test_a_missing_file_raises_invalid_argument():
    with pytest.raises(inca.InvalidArgument, match="no job file"):
        inca.validate(FABRIC, str(DATA / "none.yaml"))


def test_tree_draws_text_and_dot():
    text = inca.tree(FABRIC, str(DATA / "good.yaml"))
    assert text.splitlines()[:4] == ["job 'a' tree 1: root spine0, 2 level(s)",
                                     "  spine0: 10 slots, 50% of quota",
                                     "    leaf0: 10 slots, 100% of quota",
                                     "      hosts: host0, host1"]
    dot = inca.tree(FABRIC, str(DATA / "good.yaml"), job="a", format="dot")
    assert dot.startswith('digraph "a"')
    assert '"leaf0" -> "spine0" [color="#1f77b4", penwidth=2, label="tree 1"]' in dot
    table = inca.tree(FABRIC, str(DATA / "good.yaml"), resources=True)
    assert "spine0" in table and table != text


def test_tree_refuses_an_unknown_job_a_bad_format_and_a_bad_file():
    with pytest.raises(inca.InvalidArgument, match="no job 'zz'"):
        inca.tree(FABRIC, str(DATA / "good.yaml"), job="zz")
    with pytest.raises(inca.InvalidArgument, match="format"):
        inca.tree(FABRIC, str(DATA / "good.yaml"), format="svg")
    with pytest.raises(inca.ConfigError, match="syntax.yaml"):
        inca.tree(FABRIC, str(DATA / "syntax.yaml"), job="a")
