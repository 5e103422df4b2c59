"""The Python examples run: the doubling sweep writes its plot, and the
sweep shows the doubling."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import BUILD, ROOT


def test_doubling_example(tmp_path):
    out = tmp_path / "doubling.png"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "doubling.py"),
                           "--ranks", "16", "--min-bytes", "64K", "--max-bytes", "16M",
                           "--out", str(out)],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(BUILD / "python")))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    largest = [line.split() for line in done.stdout.splitlines() if line.startswith("  16777216")]
    busbw = {row[1]: float(row[2]) for row in largest}
    # 16 ranks: in-network algbw ~ 2(n-1)/n = 1.875 x ring's at 16 MiB
    assert 1.7 < busbw["innet"] / busbw["ring"] < 1.95
