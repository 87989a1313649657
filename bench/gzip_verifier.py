"""CPU cost of checking a gzip download's trailers (contact_jobs.gzipcheck.GzipVerifier), per GiB.

Run: ``PYTHONPATH=layers/contact_jobs .venv/bin/python -m bench.gzip_verifier``. Feeds the sandbox's
export CSV, gzip level 6, in the engine's 8 MiB parts, and prints one JSON line: CPU seconds per GiB of
gzip (what is downloaded), per GiB of content, and SHA-256's per GiB on the same machine for scale.
"""

import gzip
import hashlib
import json
import time

from contact_jobs.gzipcheck import GzipVerifier
from sandbox.contacts import export_files

GIB = 1 << 30
PART = 8 * 1024 * 1024  # the engine's part size: what one read hands the verifier
MEASURED = 256 * 1024 * 1024  # gzip bytes verified in all


def main() -> None:
    content = b"".join(export_files(200_000, 1 << 40, "csv", "example.com"))
    packed = gzip.compress(content, compresslevel=6, mtime=0)
    rounds = max(1, MEASURED // len(packed))
    started = time.process_time()
    for _ in range(rounds):
        verifier = GzipVerifier()
        for start in range(0, len(packed), PART):
            verifier.update(packed[start : start + PART])
        verifier.finish()
    verify_s = time.process_time() - started
    started = time.process_time()
    for _ in range(rounds):
        hashlib.sha256(packed).digest()
    sha_s = time.process_time() - started
    gzip_gib, content_gib = rounds * len(packed) / GIB, rounds * len(content) / GIB
    print(
        json.dumps(
            {
                "ratio": round(len(content) / len(packed), 2),
                "verify_cpu_s_per_gib_gzip": round(verify_s / gzip_gib, 2),
                "verify_cpu_s_per_gib_content": round(verify_s / content_gib, 2),
                "sha256_cpu_s_per_gib": round(sha_s / gzip_gib, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
