"""What every measured transfer process shares: its arguments and how it reports."""

import argparse
import json
import resource
from pathlib import Path


def arguments(description: str, modes: tuple[str, ...] = ("engine", "baseline")) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("mode", choices=modes)
    parser.add_argument("--url", required=True, help="the far end: download source, upload URI or API root")
    parser.add_argument("--endpoint", required=True, help="the S3 endpoint (a moto server)")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--key", required=True)
    return parser.parse_args()


def report(seconds: float, **measured: float) -> None:
    print(json.dumps({"seconds": seconds, **measured, "peak_rss_mib": peak_rss_mib()}))


def cpu_s() -> float:
    """CPU time of this process so far: every thread, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """This address space's high-water mark. Not getrusage's ru_maxrss: on Linux that survives execve and
    counts the parent's resident memory at fork time."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
