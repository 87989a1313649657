"""make bench: one JSON object per benchmark and line, each with the baseline measured in the same run.

import_upload: a 1 GiB CSV streamed from S3 (a moto server in another process) to an upload URI on
loopback, by the import's upload path, against requests.put with boto3's StreamingBody as data.

which50_push: 1,000,000 contacts pushed from S3 to the fake Which50 (its own process) by the import's
send step, against reading the file whole with csv.DictReader and posting the same batches.

copy and copy_null_sink (one run prints both): a 1 GiB export served over https on loopback, copied by
the copy engine into S3, a moto server (copy), and into a null S3 (bench/s3_sink.py, copy_null_sink) that
checks, counts and discards the bytes, each in its own process; against boto3 upload_fileobj on the
response stream. Beside them, what the pipe can give: the source read into nothing and a multipart upload
of in-memory bytes into each target (the engine's part size and concurrency); in the null sink also the
engine with its SHA-256 on the reading thread (the A/B of the hashing thread) and without it (what the
manifest's hash costs); and one 4 GiB copy into each, for memory. Every S3 client leaves the payload
unsigned, as botocore does over Lambda's https (see bench/copier.py). Targets and modes take turns within
each of ROUNDS rounds, after an unmeasured warm-up; throughput is the median run (the best beside it), CPU
the median copier CPU per GiB, memory the highest. The source's and the S3 server's CPU are measured too
(from /proc): the three processes share the machine's cores, so the cores over their CPU per GiB summed is
the fastest the engine's copy could run here (cpu_ceiling_mb_s).

verify: a 1 GiB plain CSV backup (4 files, quoted values, newlines inside some) stored in a moto server
in another process, verified by contact_jobs.verify, against reading each file and hashing it with
hashlib; beside it, a gzip backup against the same read with zlib inflating (gzip_mb_s,
gzip_baseline_mb_s): a gzip file's CRC-32 cannot be checked without inflating it.

restore: 1,000,000 contacts in a SendGrid backup of 4 gzip CSV files (the export's format, each with its
header) in a moto server, sent to the fake SendGrid (its own process, a fresh empty account per run) by
the restore's functions in one process (bench/restorer.py: PrepareRestore's plan, then SendImport's
send a part at a time with its progress table in moto's DynamoDB), against what a person would write
(per file: get_object read whole, an import created, the bytes PUT to its upload URI with requests).
contacts_s counts until the fake reports every import finished (both poll every 0.25 s); send_contacts_s
leaves the plan's scan out; fake_peak_rss_mib is the fake's own peak, never the measured process's.

cold_import: every handler module imported in a fresh interpreter against the built layer (laid out as
Lambda's runtime lays its path), the heaviest reported against a handler that imports only boto3, and the
layer's size. Reads BENCH_BUILD_DIR, else the build `make build` leaves, else builds.
"""

import csv
import gzip
import hashlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import boto3

from bench import cold_import
from contact_jobs.manifest import Manifest, ManifestFile
from sandbox.contacts import EXPORT_HEADER, contact_rows, which50_csv
from sandbox.stack import placeholder_arns, progress_table_keys
from sandbox.template import Template
from sandbox.tls import loopback_certificate

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3
MIB = 1024**2
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
COPY_BYTES = int(os.environ.get("BENCH_COPY_BYTES", str(GIB)))
BUCKET = "bench"
PUSH_CONTACTS = int(os.environ.get("BENCH_PUSH_CONTACTS", "1000000"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "contact_jobs"), str(ROOT)]),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "REQUESTS_CA_BUNDLE": str(loopback_certificate().cert_path),
        "SANDBOX_TLS_DIR": str(loopback_certificate().cert_path.parent),
    }


@contextmanager
def _process(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        args, env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def _function_environment(logical_id: str) -> dict[str, str]:
    """The environment template.yaml gives a function (resource references become placeholders)."""
    template = Template.load(
        overrides={"SendGridApiKeySecretArn": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}
    )
    placeholder_arns(template)
    variables = template.resolve(template.function_properties(logical_id)["Environment"]["Variables"])
    return {name: str(value) for name, value in variables.items()}


def _run(mode: str, url: str, endpoint: str, key: str, tool: str, function: str) -> dict[str, float]:
    """One measured transfer in a fresh process. The engine runs with its function's environment from
    template.yaml (as deployed); the baseline as plain boto3/requests would."""
    extra = {} if mode == "baseline" else _function_environment(function)
    command = [
        sys.executable,
        "-m",
        tool,
        mode,
        "--url",
        url,
        "--endpoint",
        endpoint,
        "--bucket",
        BUCKET,
        "--key",
        key,
    ]
    out = subprocess.run(
        command, env={**_environment(), **extra}, capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise RuntimeError(f"{tool} {mode} failed:\n{out.stderr[-3000:]}")
    measured: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return measured


def _copy(mode: str, url: str, endpoint: str, key: str) -> dict[str, float]:
    return _run(mode, url, endpoint, key, "bench.copier", "CopyExportFileFunction")


def _upload(mode: str, url: str, endpoint: str, key: str) -> dict[str, float]:
    return _run(mode, url, endpoint, key, "bench.uploader", "SendImportFunction")


@contextmanager
def _stage(server: str, *server_args: str) -> Iterator[tuple[str, Any, str]]:
    """A moto server for S3 and the benchmark's own server, each in its own process: the S3 endpoint, an
    S3 client with the bench bucket, and the first line the server printed (its port or URL)."""
    moto_port = _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    with (
        _process(sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)),
        _process(sys.executable, "-m", server, *server_args) as process,
    ):
        assert process.stdout is not None
        announced = process.stdout.readline().strip()
        _wait_for_port(moto_port)
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="b",
            aws_secret_access_key="b",
        )
        s3.create_bucket(Bucket=BUCKET)
        yield endpoint, s3, announced


def _tls_args() -> tuple[str, str]:
    certificate = loopback_certificate()
    return str(certificate.cert_path), str(certificate.key_path)


def _mb_s(run: dict[str, float]) -> float:
    return run["bytes"] / MIB / run["seconds"]


COPY_MODES = ("baseline", "engine", "engine_inline", "engine_unhashed", "source", "sink")
# Into moto, whose CPU is the ceiling, the hashing A/B says nothing and costs minutes: the null sink has it.
# The source is the same server for both lines, measured among the null sink's rounds.
MOTO_MODES = ("baseline", "engine", "sink")
COPY_4096 = int(os.environ.get("BENCH_COPY_BYTES_4096", str(4 * GIB)))


@dataclass
class _Target:
    """Where copies go: moto, or the null sink. ``stored`` answers the size that arrived under a key."""

    name: str
    endpoint: str
    modes: tuple[str, ...]
    stored: Callable[[str], int]
    delete: Callable[[str], None]
    server_pids: tuple[int, int] = (0, 0)  # the source's and this target's server: their CPU per copy
    runs: dict[str, list[dict[str, float]]] = field(default_factory=lambda: {m: [] for m in COPY_MODES})


def _moto_target(endpoint: str, s3: Any) -> _Target:
    return _Target(
        "copy",
        endpoint,
        MOTO_MODES,
        lambda key: int(s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"]),
        lambda key: s3.delete_object(Bucket=BUCKET, Key=key),
    )


def _sink_target(endpoint: str, s3: Any) -> _Target:
    def stored(key: str) -> int:
        with urllib.request.urlopen(f"{endpoint}/_sizes", timeout=30) as response:
            sizes: dict[str, int] = json.load(response)
        return sizes.get(f"{BUCKET}/{key}", -1)

    delete = lambda key: s3.delete_object(Bucket=BUCKET, Key=key)  # noqa: E731
    return _Target("copy_null_sink", endpoint, COPY_MODES, stored, delete)


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system, every thread) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _copied(target: _Target, mode: str, url: str, key: str) -> dict[str, float]:
    """One copy into the target, checked there (every byte arrived), then deleted; with the CPU the
    source's and the target's servers used meanwhile (the copier reports its own)."""
    before = [_process_cpu_s(pid) for pid in target.server_pids]
    run = _copy(mode, url, target.endpoint, key)
    run["servers_cpu_s"] = sum(_process_cpu_s(pid) for pid in target.server_pids) - sum(before)
    if mode != "source":
        if (size := target.stored(key)) != run["bytes"]:
            raise RuntimeError(f"{target.name} {mode}: {size} bytes stored, {run['bytes']} sent")
        target.delete(key)
    return run


@contextmanager
def _copy_stages() -> Iterator[tuple[str, list[_Target]]]:
    """The https export source, moto and the null sink, each in its own process."""
    moto_port = _free_port()
    with (
        _process(sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)) as moto,
        _process(sys.executable, "-m", "bench.source_server", *_tls_args()) as source,
        _process(sys.executable, "-m", "bench.s3_sink") as sink,
    ):
        assert source.stdout is not None
        assert sink.stdout is not None
        source_root = f"https://127.0.0.1:{source.stdout.readline().strip()}"
        sink_endpoint = f"http://127.0.0.1:{sink.stdout.readline().strip()}"
        moto_endpoint = f"http://127.0.0.1:{moto_port}"
        _wait_for_port(moto_port)
        targets = []
        for endpoint, make, server in (
            (moto_endpoint, _moto_target, moto),
            (sink_endpoint, _sink_target, sink),
        ):
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="b", aws_secret_access_key="b")  # fmt: skip
            s3.create_bucket(Bucket=BUCKET)
            target = make(endpoint, s3)
            target.server_pids = (source.pid, server.pid)
            targets.append(target)
        yield source_root, targets


def _rotated(items: tuple[str, ...], round_: int) -> tuple[str, ...]:
    """Each round starts one further along, so no mode always follows the same other one."""
    shift = round_ % len(items)
    return items[shift:] + items[:shift]


def bench_copies() -> Iterator[dict[str, Any]]:
    """``copy`` (into moto) and ``copy_null_sink``, measured in one run: the targets take turns within
    each round and so do the modes, after an unmeasured warm-up of each (the first upload into a new moto
    server is slow)."""
    with _copy_stages() as (source, targets):
        for target in targets:
            for mode in target.modes:
                _copied(target, mode, f"{source}/{64 * MIB}", f"warm-{mode}")
        for round_ in range(ROUNDS):
            for target in targets if round_ % 2 == 0 else targets[::-1]:
                for mode in _rotated(target.modes, round_):
                    target.runs[mode].append(
                        _copied(target, mode, f"{source}/{COPY_BYTES}", f"{mode}-{round_}")
                    )
        targets[0].runs["source"] = targets[1].runs["source"]
        for target in targets[::-1]:  # once per run: memory must not grow with the file
            yield _copy_line(target, _big_copy(target, source))


def _big_copy(target: _Target, source: str) -> dict[str, Any]:
    """The 4 GiB copy. moto joins the parts in memory (about 9 GiB of its RSS, minutes of its CPU), so the
    copier waits for the answer (see bench/copier.py); a failure is reported, not raised, and
    BENCH_MOTO_4096=0 skips it (minutes saved)."""
    if target.name == "copy" and os.environ.get("BENCH_MOTO_4096", "1") == "0":
        return {"peak_rss_mib_4096": None, "error_4096": "skipped (BENCH_MOTO_4096=0)"}
    try:
        big = _copied(target, "engine", f"{source}/{COPY_4096}", "big")
    except RuntimeError as exc:
        return {"peak_rss_mib_4096": None, "error_4096": str(exc).splitlines()[-1][-200:]}
    return {"peak_rss_mib_4096": round(big["peak_rss_mib"], 1), "mb_s_4096": round(_mb_s(big), 1)}


def _median_mb_s(runs: list[dict[str, float]]) -> float:
    return round(statistics.median(map(_mb_s, runs)), 1)


def _cpu_s_per_gib(runs: list[dict[str, float]]) -> float:
    return round(statistics.median(run["cpu_s"] / (run["bytes"] / GIB) for run in runs), 2)


def _copy_line(target: _Target, big: dict[str, Any]) -> dict[str, Any]:
    runs = target.runs
    return {
        "name": target.name,
        "bytes": COPY_BYTES,
        "rounds": ROUNDS,
        **_summary(runs["engine"], runs["baseline"]),
        "source_mb_s": _median_mb_s(runs["source"]),
        "sink_mb_s": _median_mb_s(runs["sink"]),
        "cpu_s_per_gib": _cpu_s_per_gib(runs["engine"]),
        "baseline_cpu_s_per_gib": _cpu_s_per_gib(runs["baseline"]),
        **_cpu_ceiling(runs["engine"]),
        **big,
        **(_inline_hash(runs["engine_inline"]) if runs["engine_inline"] else {}),
        **(_unhashed(runs["engine_unhashed"]) if runs["engine_unhashed"] else {}),
    }


def _cpu_ceiling(runs: list[dict[str, float]]) -> dict[str, Any]:
    """What the machine's cores allow the engine's copy: source server, copier and S3 server share them,
    so a GiB costs the sum of their CPU; no copy runs faster than the cores divided by that sum."""
    servers = statistics.median(run["servers_cpu_s"] / (run["bytes"] / GIB) for run in runs)
    total = statistics.median(run["cpu_s"] / (run["bytes"] / GIB) for run in runs) + servers
    cores = len(os.sched_getaffinity(0))
    return {"servers_cpu_s_per_gib": round(servers, 2), "cpu_ceiling_mb_s": round(cores * 1024 / total, 1)}


def _inline_hash(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The A/B of the hashing thread: the same engine with its SHA-256 on the reading thread."""
    return {
        "inline_hash_mb_s": _median_mb_s(runs),
        "inline_hash_cpu_s_per_gib": _cpu_s_per_gib(runs),
        "inline_hash_mb_s_runs": [round(_mb_s(run), 1) for run in runs],
    }


def _unhashed(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The engine without the manifest's SHA-256 (not a valid copy): what the hash costs, in time and CPU,
    is the difference from ``mb_s`` and ``cpu_s_per_gib``; the rest of the engine against the baseline."""
    return {"unhashed_mb_s": _median_mb_s(runs), "unhashed_cpu_s_per_gib": _cpu_s_per_gib(runs)}


def _csv_source(size: int) -> Iterator[bytes]:
    """A contacts CSV of ``size`` bytes, generated a block at a time (never whole in memory)."""
    row = b"contact0000000@example.com,Ada,Lovelace,Lisbon,PT,1100-148\n"
    block = b"email,first_name,last_name,city,country,postal_code\n" + row * (MIB // len(row))
    sent = 0
    while sent < size:
        chunk = block[: size - sent]
        sent += len(chunk)
        yield chunk


class _Generated:
    def __init__(self, size: int) -> None:
        self._chunks = _csv_source(size)
        self._buffer = b""

    def read(self, amount: int = -1) -> bytes:
        while amount < 0 or len(self._buffer) < amount:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        data, self._buffer = (
            (self._buffer, b"") if amount < 0 else (self._buffer[:amount], self._buffer[amount:])
        )
        return data


def bench_import_upload() -> dict[str, Any]:
    with _stage("bench.sink_server", *_tls_args()) as (endpoint, s3, port):
        url = f"https://127.0.0.1:{port}/upload?X-Amz-Signature=bench"
        s3.upload_fileobj(cast(IO[bytes], _Generated(COPY_BYTES)), BUCKET, "import.csv")
        s3.upload_fileobj(cast(IO[bytes], _Generated(64 * MIB)), BUCKET, "warm.csv")
        for mode in ("baseline", "engine"):  # unmeasured warm-up
            _upload(mode, url, endpoint, "warm.csv")
        runs: dict[str, list[dict[str, float]]] = {"engine": [], "baseline": []}
        for round_ in range(ROUNDS):
            for mode in _turns(round_):
                runs[mode].append(_upload(mode, url, endpoint, "import.csv"))
    return {
        "name": "import_upload",
        "bytes": COPY_BYTES,
        "rounds": ROUNDS,
        **_summary(runs["engine"], runs["baseline"]),
    }


def _turns(round_: int) -> tuple[str, str]:
    """Who goes first alternates by round. Measured in a fixed order, the transfer that followed another
    1 GiB one was the slower one in most rounds (probably the moto server still releasing the last
    object), so a fixed order handicaps whichever runs second."""
    return ("baseline", "engine") if round_ % 2 == 0 else ("engine", "baseline")


def _summary(engine: list[dict[str, float]], baseline: list[dict[str, float]]) -> dict[str, Any]:
    """Throughput is the median run (robust to one stalled or lucky run), the best run beside it; memory
    is the highest peak."""
    return {
        "mb_s": round(statistics.median(map(_mb_s, engine)), 1),
        "peak_rss_mib": round(max(run["peak_rss_mib"] for run in engine), 1),
        "baseline_mb_s": round(statistics.median(map(_mb_s, baseline)), 1),
        "baseline_peak_rss_mib": round(max(run["peak_rss_mib"] for run in baseline), 1),
        "best_mb_s": round(max(map(_mb_s, engine)), 1),
        "baseline_best_mb_s": round(max(map(_mb_s, baseline)), 1),
        "mb_s_runs": [round(_mb_s(run), 1) for run in engine],
        "baseline_mb_s_runs": [round(_mb_s(run), 1) for run in baseline],
    }


def _push(mode: str, url: str, endpoint: str, key: str) -> dict[str, float]:
    return _run(mode, url, endpoint, key, "bench.pusher", "SendImportFunction")


def _contacts_s(run: dict[str, float]) -> float:
    return run["contacts"] / run["seconds"]


PUSH_PROGRESS_TABLE = "bench-import-progress"  # bench/pusher.py records in it, as the send step does


def bench_which50_push() -> dict[str, Any]:
    with _stage("bench.which50_server") as (endpoint, s3, url):
        s3.put_object(Bucket=BUCKET, Key="contacts.csv", Body=which50_csv(PUSH_CONTACTS))
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="b", aws_secret_access_key="b")  # fmt: skip
        dynamodb.create_table(TableName=PUSH_PROGRESS_TABLE, **progress_table_keys())
        engine = _push("engine", url, endpoint, "contacts.csv")
        baseline = _push("baseline", url, endpoint, "contacts.csv")
    return {
        "name": "which50_push",
        "contacts": int(engine["contacts"]),
        "contacts_s": round(_contacts_s(engine)),
        "peak_rss_mib": round(engine["peak_rss_mib"], 1),
        "baseline_contacts_s": round(_contacts_s(baseline)),
        "baseline_peak_rss_mib": round(baseline["peak_rss_mib"], 1),
    }


def _build() -> Path:
    """A `sam build` folder: BENCH_BUILD_DIR, else the one `make build` leaves (built now if missing)."""
    build = Path(os.environ.get("BENCH_BUILD_DIR", ROOT / ".aws-sam" / "build")).resolve()
    if not (build / "ContactJobsLayer").is_dir():
        subprocess.run(["make", "-C", str(ROOT), "gate-sam-build", f"BUILD_DIR={build}"], check=True,
                       capture_output=True)  # fmt: skip
    return build


def bench_cold_import() -> dict[str, Any]:
    build = _build()
    layer = build / "ContactJobsLayer" / "python"
    environment = {**_function_environment("CopyExportFileFunction"), "AWS_REGION": "eu-west-1",
                   "PATH": os.environ.get("PATH", ""), "TZ": "UTC"}  # fmt: skip
    baseline = Path(tempfile.mkdtemp()) / "app.py"
    baseline.write_text("import boto3\n")
    baseline_ms, _ = cold_import.median_import_ms(baseline, layer, environment)
    handlers = {
        name: cold_import.median_import_ms(module, layer, environment)
        for name, module in cold_import.handler_modules(build).items()
    }
    heaviest = max(handlers, key=lambda name: handlers[name][0])
    heaviest_ms, seen = handlers[heaviest]
    return {
        "bench": "cold_import",
        "layer_mib": round(cold_import.layer_size_mib(layer), 1),
        "heaviest": heaviest,
        "heaviest_cpu_ms": round(heaviest_ms, 1),
        "heaviest_wall_ms": round(seen["wall_ms"], 1),
        "baseline_cpu_ms": round(baseline_ms, 1),
        "ratio": round(heaviest_ms / baseline_ms, 2),
        "botocore": seen["botocore"],
        "botocore_from_layer": seen["botocore_from"].startswith(str(layer)),
        "handlers_cpu_ms": {name: round(ms, 1) for name, (ms, _) in handlers.items()},
        "runs": cold_import.RUNS,
    }


VERIFY_BYTES = int(os.environ.get("BENCH_VERIFY_BYTES", str(GIB)))
VERIFY_GZIP_BYTES = int(os.environ.get("BENCH_VERIFY_GZIP_BYTES", str(256 * MIB)))  # before compression
VERIFY_FILES = 4


def _backup_rows(first: int) -> bytes:
    """A block of contact rows as an export writes them: quoted where needed, a newline inside some."""
    rows = []
    for n in range(first, first + 1000):
        note = '"line one\nline two"' if n % 50 == 0 else '"Lisbon, PT"'
        rows.append(f'{n:08d},contact{n}@example.com,Ada,"O\'Neil",{note},2026-01-01T00:00:00Z\n')
    return "".join(rows).encode()


def _backup_file(size: int, gzipped: bool) -> tuple[bytes, int]:
    """One backup file of about ``size`` bytes before compression, and its row count. A gzip file's rows
    all differ (compressing as a real export does, about 4:1); a plain file repeats one block."""
    header = b"CONTACT_ID,EMAIL,FIRST_NAME,LAST_NAME,CITY,CREATED_AT\n"
    blocks = max(1, size // len(_backup_rows(0)))
    if not gzipped:
        return header + _backup_rows(0) * blocks, 1000 * blocks
    body = header + b"".join(_backup_rows(1000 * n) for n in range(blocks))
    return gzip.compress(body, compresslevel=6, mtime=0), 1000 * blocks


def _store_bench_backup(s3: Any, prefix: str, size: int, gzipped: bool) -> str:
    """A backup of VERIFY_FILES files and its manifest (schema 2); the manifest's key."""
    body, rows = _backup_file(size // VERIFY_FILES, gzipped)
    digest = hashlib.sha256(body).hexdigest()
    files = []
    for index in range(VERIFY_FILES):
        key = f"{prefix}e-1/part-{index + 1:05d}.csv" + (".gz" if gzipped else "")
        s3.upload_fileobj(io.BytesIO(body), BUCKET, key)
        files.append(ManifestFile(key, len(body), digest, gzipped, rows))
    manifest = Manifest("sendgrid", "bench", "e-1", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z",
                        "csv", rows * VERIFY_FILES, tuple(files))  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=manifest.to_json())
    return f"{prefix}manifest.json"


def _verify(mode: str, endpoint: str, key: str) -> dict[str, float]:
    return _run(mode, "-", endpoint, key, "bench.verifier", "CopyExportFileFunction")


def bench_verify() -> dict[str, Any]:
    """Each round, engine and baseline take turns on both backups, after an unmeasured warm-up."""
    moto_port = _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    with _process(sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)):
        _wait_for_port(moto_port)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="b", aws_secret_access_key="b")  # fmt: skip
        s3.create_bucket(Bucket=BUCKET)
        plain = _store_bench_backup(s3, "backups/plain/", VERIFY_BYTES, gzipped=False)
        zipped = _store_bench_backup(s3, "backups/gzip/", VERIFY_GZIP_BYTES, gzipped=True)
        # engine: a backup verified before (its row counts recorded: size and SHA-256 prove the rest);
        # engine_first: its first verify (every gzip trailer checked, every row counted, counts recorded).
        pairs = {plain: ("engine", "engine_first", "baseline"), zipped: ("engine_first", "baseline_inflate")}
        runs: dict[tuple[str, str], list[dict[str, float]]] = {
            (key, mode): [] for key, modes in pairs.items() for mode in modes
        }
        for key, modes in pairs.items():
            for mode in modes:
                _verify(mode, endpoint, key)
        for round_ in range(ROUNDS):
            for key, modes in pairs.items():
                for mode in _rotated(modes, round_):
                    runs[(key, mode)].append(_verify(mode, endpoint, key))
    return {
        "name": "verify",
        "bytes": VERIFY_BYTES,
        "rounds": ROUNDS,
        **_summary(runs[(plain, "engine")], runs[(plain, "baseline")]),
        "first_mb_s": _median_mb_s(runs[(plain, "engine_first")]),
        "first_cpu_s_per_gib": _cpu_s_per_gib(runs[(plain, "engine_first")]),
        "first_peak_rss_mib": round(max(run["peak_rss_mib"] for run in runs[(plain, "engine_first")]), 1),
        "gzip_bytes": int(runs[(zipped, "engine_first")][0]["bytes"]),
        "gzip_first_mb_s": _median_mb_s(runs[(zipped, "engine_first")]),
        "gzip_baseline_mb_s": _median_mb_s(runs[(zipped, "baseline_inflate")]),
        "gzip_peak_rss_mib": round(max(run["peak_rss_mib"] for run in runs[(zipped, "engine_first")]), 1),
        "cpu_s_per_gib": _cpu_s_per_gib(runs[(plain, "engine")]),
        "baseline_cpu_s_per_gib": _cpu_s_per_gib(runs[(plain, "baseline")]),
    }


RESTORE_CONTACTS = int(os.environ.get("BENCH_RESTORE_CONTACTS", "1000000"))
RESTORE_FILES = int(os.environ.get("BENCH_RESTORE_FILES", "4"))
RESTORE_ROUNDS = int(os.environ.get("BENCH_RESTORE_ROUNDS", str(ROUNDS)))
RESTORE_WARM_CONTACTS = 2000


def _export_rows(first: int, count: int) -> Iterator[bytes]:
    """Rows as SendGrid's CSV export writes them (sandbox.contacts' renderer), ``first`` onwards."""
    for index, row in enumerate(contact_rows(first + count)):
        if index >= first:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(row)
            yield buffer.getvalue().encode()


def _store_export_backup(s3: Any, prefix: str, contacts: int, files: int) -> str:
    """A SendGrid backup of ``contacts`` in ``files`` gzip CSV files (each with the header, as the export
    splits them), written a file at a time, and its manifest; the manifest's key."""
    header = b",".join(name.encode() for name in EXPORT_HEADER) + b"\n"
    entries = []
    per_file = -(-contacts // files)
    for index in range(files):
        first, count = index * per_file, min(per_file, contacts - index * per_file)
        packed = io.BytesIO()
        with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=6, mtime=0) as out:
            out.write(header)
            for row in _export_rows(first, count):
                out.write(row)
        body = packed.getvalue()
        key = f"{prefix}e-1/contacts_export_{index + 1}.csv.gz"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        entries.append(ManifestFile(key, len(body), hashlib.sha256(body).hexdigest(), True, count))
    manifest = Manifest("sendgrid", "bench", "e-1", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z",
                        "csv", contacts, tuple(entries))  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=manifest.to_json())
    return f"{prefix}manifest.json"


def _vm_hwm_mib(pid: int) -> float:
    """Another process's peak resident memory (the fake's), read before it ends."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def _restore(mode: str, endpoint: str, dynamodb: Any, key: str, run: str) -> dict[str, float]:
    """One measured restore send into a fresh fake SendGrid (its own process, its account empty) and, for
    the engine, a fresh progress table; the fake's peak memory is added as ``fake_peak_rss_mib``."""
    table = f"progress-{run}"
    dynamodb.create_table(TableName=table, **progress_table_keys())
    with _process(sys.executable, "-m", "bench.sendgrid_server") as fake:
        assert fake.stdout is not None
        url, host = fake.stdout.readline().strip(), fake.stdout.readline().strip()
        extra = {} if mode == "baseline" else {
            **_function_environment("SendImportFunction"),
            "BACKUP_BUCKET": BUCKET, "DOWNLOAD_HOSTS": host, "IMPORT_PROGRESS_TABLE": table,
        }  # fmt: skip
        command = [sys.executable, "-m", "bench.restorer", mode, "--url", url, "--endpoint", endpoint,
                   "--bucket", BUCKET, "--key", key]  # fmt: skip
        out = subprocess.run(command, env={**_environment(), **extra}, capture_output=True, text=True,
                             check=False)  # fmt: skip
        if out.returncode:
            raise RuntimeError(f"bench.restorer {mode} failed:\n{out.stderr[-3000:]}")
        measured: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        measured["fake_peak_rss_mib"] = _vm_hwm_mib(fake.pid)
    dynamodb.delete_table(TableName=table)
    return measured


Runs = list[dict[str, float]]


def _restore_runs(contacts: int, rounds: int) -> tuple[Runs, Runs, Runs]:
    """Engine and baseline runs on a backup of ``contacts``, taking turns after a warm-up on a small
    backup (RESTORE_WARM_CONTACTS, its throughput unused); every run must report every contact applied.
    The third list: the warm-up's engine run, whose memory says whether the peak grows with the backup."""
    moto_port = _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    with _process(sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)):
        _wait_for_port(moto_port)
        s3, dynamodb = (boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                                     aws_access_key_id="b", aws_secret_access_key="b")
                        for service in ("s3", "dynamodb"))  # fmt: skip
        s3.create_bucket(Bucket=BUCKET)
        warm = _store_export_backup(s3, "backups/warm/", RESTORE_WARM_CONTACTS, RESTORE_FILES)
        backup = _store_export_backup(s3, "backups/restore/", contacts, RESTORE_FILES)
        small = [_restore(mode, endpoint, dynamodb, warm, f"warm-{mode}") for mode in ("engine", "baseline")]
        runs: dict[str, list[dict[str, float]]] = {"engine": [], "baseline": []}
        for round_ in range(rounds):
            for mode in _turns(round_):
                run = _restore(mode, endpoint, dynamodb, backup, f"{mode}-{round_}")
                if run["contacts"] != contacts or run["imports"] != RESTORE_FILES:
                    raise RuntimeError(f"restore {mode}: {run['contacts']} contacts in {run['imports']} "
                                       f"imports, not {contacts} in {RESTORE_FILES}")  # fmt: skip
                runs[mode].append(run)
    return runs["engine"], runs["baseline"], small[:1]


def _send_contacts_s(run: dict[str, float]) -> float:
    """The engine's rate once planned: from its first import created until all have finished."""
    return run["contacts"] / (run["seconds"] - run["prepare_s"])


def bench_restore() -> dict[str, Any]:
    """``contacts_s``: contacts over the seconds from the run's start until the fake reports every import
    finished (the engine's including its plan, PrepareRestore's scan of every file)."""
    engine, baseline, small = _restore_runs(RESTORE_CONTACTS, RESTORE_ROUNDS)
    return {
        "name": "restore",
        "contacts": RESTORE_CONTACTS,
        "files": RESTORE_FILES,
        "rounds": RESTORE_ROUNDS,
        "contacts_s": round(statistics.median(map(_contacts_s, engine))),
        "baseline_contacts_s": round(statistics.median(map(_contacts_s, baseline))),
        "peak_rss_mib": round(max(run["peak_rss_mib"] for run in engine), 1),
        "baseline_peak_rss_mib": round(max(run["peak_rss_mib"] for run in baseline), 1),
        "fake_peak_rss_mib": round(max(run["fake_peak_rss_mib"] for run in engine + baseline), 1),
        f"peak_rss_mib_{RESTORE_WARM_CONTACTS}": round(small[0]["peak_rss_mib"], 1),
        "prepare_s": round(statistics.median(run["prepare_s"] for run in engine), 1),
        "send_contacts_s": round(statistics.median(map(_send_contacts_s, engine))),
        "cpu_s": round(statistics.median(run["cpu_s"] for run in engine), 1),
        "baseline_cpu_s": round(statistics.median(run["cpu_s"] for run in baseline), 1),
        "contacts_s_runs": [round(_contacts_s(run)) for run in engine],
        "baseline_contacts_s_runs": [round(_contacts_s(run)) for run in baseline],
    }


BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "verify": bench_verify,
    "restore": bench_restore,
    "import_upload": bench_import_upload,
    "which50_push": bench_which50_push,
    "cold_import": bench_cold_import,
}
COPY_LINES = ("copy", "copy_null_sink")  # one run measures both (bench_copies)


def main() -> int:
    only = sys.argv[1:] or [*COPY_LINES, *BENCHMARKS]
    if unknown := set(only) - set(COPY_LINES) - set(BENCHMARKS):
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if set(only) & set(COPY_LINES):
        for line in bench_copies():
            if line["name"] in only:
                print(json.dumps(line), flush=True)
    for name in only:
        if name in BENCHMARKS:
            print(json.dumps(BENCHMARKS[name]()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
