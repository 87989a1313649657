"""Peak memory and time of the import scan on hostile gzip files, in a process of its own.

    python -m bench.scan_memory make line|bomb FILE [MIB]   write the file (under a second)
    python -m bench.scan_memory scan FILE             scan it as PrepareImport does; one JSON line:
                                                      outcome, seconds, peak_rss_mib (VmHWM)

``line``: a CSV whose second line is MIB (300) MiB of one byte (a 300 KB .csv.gz). ``bomb``: MIB
(1024) MiB of short contact lines (3 KB of .csv.gz per MiB). Both are concatenated gzip members (a
valid gzip file, read as one stream), so they are written without compressing the whole.
"""

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

from bench.measured import peak_rss_mib
from contact_jobs.csvscan import Limits, scan
from contact_jobs.errors import InvalidImportFile

MIB = 1024 * 1024


def make(kind: str, path: Path, mib: int | None = None) -> None:
    if kind == "line":
        header, block, blocks, tail = b"email\n", b"a" * MIB, mib or 300, b"\n"
    else:
        header, tail = b"email,first_name,last_name\n", b""
        line = b"contact0000001@example.com,Ada,Lovelace\n"
        block, blocks = line * (MIB // len(line)), mib or 1024
    member = gzip.compress(block, compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(header))
        for _ in range(blocks):
            out.write(member)
        out.write(gzip.compress(tail))


def measure(path: Path) -> dict[str, object]:
    started = time.monotonic()
    try:
        with path.open("rb") as body:
            result = scan(body, gzipped=True, limits=Limits(), compressed_size=path.stat().st_size)
        outcome = f"accepted: {result.rows} rows, {result.size} bytes"
    except InvalidImportFile as exc:
        outcome = f"refused: {exc}"
    return {
        "outcome": outcome,
        "seconds": round(time.monotonic() - started, 2),
        "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["make", "scan"])
    parser.add_argument("kind_or_file")
    parser.add_argument("file", nargs="?")
    parser.add_argument("mib", nargs="?", type=int)
    args = parser.parse_args()
    if args.action == "make":
        make(args.kind_or_file, Path(args.file), args.mib)
    else:
        json.dump(measure(Path(args.kind_or_file)), sys.stdout)
        print()


if __name__ == "__main__":
    main()
