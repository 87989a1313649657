"""The scan's memory, measured: hostile gzip files scanned in a fresh process, peak RSS from VmHWM.
Before reads were bounded, the 300 MiB line took the scan to 622 MiB (915 MiB written as one gzip member);
PrepareImport has 512 MB."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scan_memory import make

ROOT = Path(__file__).resolve().parents[2]
PEAK_BOUND_MIB = 64  # an interpreter with the layer imported is ~15 MiB; a record is at most 1 MiB


def scanned_in_a_process(path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'contact_jobs'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.scan_memory", "scan", str(path)],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_a_300_mib_line_in_a_small_gzip_is_refused_within_bounded_memory(tmp_path):
    path = tmp_path / "one-line.csv.gz"
    make("line", path, 300)
    assert path.stat().st_size < 400 * 1024
    measured = scanned_in_a_process(path)
    assert measured["outcome"] == "refused: row 2 is longer than 1048576 bytes (MAX_IMPORT_RECORD_BYTES)"
    assert measured["peak_rss_mib"] < PEAK_BOUND_MIB


@pytest.mark.slow
def test_a_gzip_bomb_of_short_lines_stops_at_the_ratio_limit_within_bounded_memory(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    make("bomb", path, 64)  # 64 MiB from 200 KB: the limit (100 times) stops it near 20 MB
    measured = scanned_in_a_process(path)
    assert measured["outcome"].startswith(
        "refused: gzip file inflates more than 100 times its size (MAX_IMPORT_GZIP_RATIO)"
    )
    assert measured["peak_rss_mib"] < PEAK_BOUND_MIB
