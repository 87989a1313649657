"""Cold start of every handler module of a `sam build`, as Lambda would load it.

Each import runs in a fresh interpreter started with ``-S`` (no site-packages) and a path laid out as
Lambda's Python runtime lays it: the function's code, then the layer (``/opt/python``), then the runtime's
own packages (``/var/runtime``, where the runtime's boto3 lives; the test venv stands in for it). A layer
that bundles boto3, botocore and s3transfer shadows the runtime's, as on AWS. The baseline, measured in
the same run, is a handler that imports only boto3: what every Python function pays.
"""

import json
import os
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "7"))

_MEASURE = """
import importlib.util, json, sys, time
started, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
import botocore
seen = {"botocore": botocore.__version__, "botocore_from": botocore.__file__}
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, **seen}))
"""


def _import_once(module: Path, layer: Path, environment: dict[str, str]) -> dict[str, Any]:
    runtime = sysconfig.get_paths()["purelib"]  # stands in for /var/runtime
    path = os.pathsep.join([str(module.parent), str(layer), runtime])
    out = subprocess.run(
        [sys.executable, "-S", "-c", _MEASURE, str(module)],
        env={**environment, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"importing {module} failed:\n{out.stderr[-3000:]}")
    measured: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return measured


def median_import_ms(module: Path, layer: Path, environment: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """The median CPU time of RUNS fresh imports (wall time on a shared two-core machine measures the
    neighbours), and what the last one saw: its wall time, which botocore, from where."""
    runs = [_import_once(module, layer, environment) for _ in range(RUNS)]
    return statistics.median(run["cpu_seconds"] for run in runs) * 1000, {
        **runs[-1],
        "wall_ms": statistics.median(run["seconds"] for run in runs) * 1000,
    }


def layer_size_mib(layer: Path) -> float:
    return sum(path.stat().st_size for path in layer.rglob("*") if path.is_file()) / 1024**2


def handler_modules(build: Path) -> dict[str, Path]:
    """Each built function's handler module, by logical id."""
    return {path.parent.name: path for path in sorted(build.glob("*Function/app.py"))}
