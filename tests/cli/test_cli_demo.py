"""`make demo` (python -m sandbox cli-demo): the served stack driven by the CLI through every operation."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 300

pytestmark = pytest.mark.slow


def test_the_demo_imports_backs_up_verifies_restores_and_exits_0():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "cli-demo"],
        cwd=ROOT, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for command in ("import", "backup", "verify", "restore"):
        assert f"$ contact-jobs {command} " in out, out[-3000:]
    for outcome in ("import.errored", "backup.completed", "verify.completed", "restore.completed"):
        assert f"SUCCEEDED: {outcome}" in out, out[-3000:]
    assert "B equals A field by field: True" in out
    assert out.rstrip().endswith("every step succeeded")
