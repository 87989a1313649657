"""How long the fake SendGrid's account takes with many contacts: seed account A, export it through the
API (CSV, gzip, 50 MB files), import every file into an empty account B through the API (mapped by name,
as the import lane maps), compare A and B field by field. One line per step, wall and CPU seconds.

    .venv/bin/python -m sandbox.account_timing 1000000
"""

import csv
import gzip
import io
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from contact_jobs.providers.sendgrid.imports import map_sendgrid_fields
from sandbox.contacts import DEFAULT_CUSTOM_FIELDS, compare_accounts, seed_account
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.tls import loopback_certificate

VERIFY = str(loopback_certificate().cert_path)
DEADLINE_S = 1800


def timed[T](label: str, step: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    print(
        f"{label}: wall {time.perf_counter() - wall:.1f} s, cpu {time.process_time() - cpu:.1f} s", flush=True
    )
    return result


def api(fake: FakeSendGrid, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {fake.options.api_key}"}
    response = requests.request(
        method, fake.base_url + path, headers=headers, verify=VERIFY, timeout=600, **kwargs
    )
    response.raise_for_status()
    return response.json()


def export(fake: FakeSendGrid) -> list[bytes]:
    made = api(fake, "POST", "/v3/marketing/contacts/exports", json={"max_file_size": 50})
    urls = api(fake, "GET", f"/v3/marketing/contacts/exports/{made['id']}")["urls"]
    return [requests.get(url, verify=VERIFY, timeout=600).content for url in urls]


def import_files(fake: FakeSendGrid, files: list[bytes]) -> None:
    definitions = api(fake, "GET", "/v3/marketing/field_definitions")
    for data in files:
        header = next(csv.reader([gzip.GzipFile(fileobj=io.BytesIO(data)).readline().decode()]))
        body = {"file_type": "csv", "field_mappings": map_sendgrid_fields(header, definitions).field_ids}
        job = api(fake, "PUT", "/v3/marketing/contacts/imports", json=body)
        headers = {item["header"]: item["value"] for item in job["upload_headers"]}
        requests.put(
            job["upload_uri"], data=data, headers=headers, verify=VERIFY, timeout=600
        ).raise_for_status()
        deadline = time.monotonic() + DEADLINE_S
        while api(fake, "GET", f"/v3/marketing/contacts/imports/{job['job_id']}")["status"] == "pending":
            if time.monotonic() > deadline:
                raise TimeoutError(f"import {job['job_id']} still pending")
            time.sleep(0.2)


def main(count: int) -> None:
    options = {"export_ready_after_s": 0.0, "import_ready_after_s": 0.0}
    with (
        FakeSendGrid(FakeSendGridOptions(**options)) as a,  # type: ignore[arg-type]
        FakeSendGrid(FakeSendGridOptions(**options, seed_contacts=0)) as b,  # type: ignore[arg-type]
    ):
        timed(f"seed A with {count} contacts", lambda: seed_account(a.account, count))
        files = timed("export A (csv, gzip, 50 MB files)", lambda: export(a))
        print(f"  {len(files)} files, {sum(map(len, files)) / 2**20:.0f} MiB", flush=True)
        for field in a.account.custom_fields:
            if field.name not in dict(DEFAULT_CUSTOM_FIELDS):
                body = {"name": field.name, "field_type": field.field_type}
                api(b, "POST", "/v3/marketing/field_definitions", json=body)
        timed("import every file into an empty B", lambda: import_files(b, files))
        mismatches = timed("compare A and B", lambda: compare_accounts(a.account, b.account, limit=10))
        print(f"  contacts A {len(a.account)}, B {len(b.account)}, mismatches {len(mismatches)}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (both accounts)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
