"""PyTorch DDP with inca.torch.allreduce_hook: a short training run over
inca (rank processes under `inca launch`) loses exactly what the same run
over PyTorch's Gloo backend loses, step by step, within float tolerance."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT

torch = pytest.importorskip("torch")

SCRIPT = ROOT / "examples" / "python" / "ddp_train.py"
RANKS, STEPS = 2, 6


def run(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=240, **kw)


@pytest.fixture(scope="module")
def gloo(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "gloo.json"
    done = run([sys.executable, str(SCRIPT), "--backend", "gloo", "--ranks", str(RANKS),
                "--steps", str(STEPS), "--warmup", "2", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("fabric,algorithm", [("udp", "innet"), ("memif", "ring")])
def test_losses_match_gloo(gloo, tmp_path, fabric, algorithm):
    inca = BUILD / "bin" / "inca"
    if not (BUILD / "bin" / "inca-switch").exists():
        pytest.skip("inca-switch was not built (no libdpdk)")
    if fabric == "udp" and os.geteuid() != 0:
        pytest.skip("the udp fabric needs root for its network namespaces")
    out = tmp_path / f"{algorithm}.json"
    # Ranks importing torch on a busy machine start seconds apart: a generous
    # silence timeout keeps the first all-reduce from giving up on a late peer.
    done = run([str(inca), "launch", "-n", str(RANKS), "--fabric", fabric, "--timeout-ms",
                "60000", "--", sys.executable,
                str(SCRIPT), "--algorithm", algorithm, "--steps", str(STEPS), "--warmup", "2",
                "--out", str(out)])
    if done.returncode != 0 and "namespace" in done.stderr and "cannot" in done.stderr:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr
    ran = json.loads(out.read_text())
    assert ran["ran"] == {algorithm: STEPS} and ran["ranks"] == RANKS
    compared = run([sys.executable, str(SCRIPT), "--compare", str(gloo), str(out),
                    "--rtol", "1e-5"])
    assert compared.returncode == 0, compared.stdout + compared.stderr
    losses, reference = ran["losses"], json.loads(gloo.read_text())["losses"]
    assert len(losses) == STEPS and losses != [reference[0]] * STEPS
