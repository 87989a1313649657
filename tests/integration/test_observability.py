"""What an operator sees of a job: EMF metrics and JSON logs correlated by the job id (the execution name)."""

import json
from collections import Counter
from typing import Any

from bench.concurrent_observability import run
from sandbox.fake_sendgrid import FakeSendGridOptions


def totals(result: dict[str, Any]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for record in result["metrics"]:
        counted[record["name"]] += record["value"]
    return counted


def structured_logs(result: dict[str, Any]) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in result["lambda_logs"]]
    return [record for record in records if "_aws" not in record]


def test_a_backup_counts_one_started_and_finished_job_its_polls_and_its_bytes(backup):
    result = backup(contacts=20000, max_file_size_mb=1)
    assert result["status"] == "SUCCEEDED"
    counted = totals(result)
    assert counted["JobsStarted"] == 1
    assert counted["JobsFinished"] == 1
    assert counted["JobsFailed"] == 0
    assert counted["PollCount"] == result["states"].count("CheckExport")
    assert counted["BytesCopied"] == sum(entry["bytes"] for entry in result["files"])
    assert {(r["operation"], r["provider"]) for r in result["metrics"]} == {("backup", "sendgrid")}
    assert {r["unit"] for r in result["metrics"] if r["name"] == "BytesCopied"} == {"Bytes"}


def test_a_failed_backup_counts_a_failed_job(backup):
    result = backup(fake=FakeSendGridOptions(export_ready_after_s=0.05), contacts=10, fail_export=True)
    assert result["status"] == "FAILED"
    counted = totals(result)
    assert counted["JobsFailed"] == 1
    assert counted["JobsFinished"] == 0


def test_an_import_counts_the_contacts_the_provider_took(import_file):
    result = import_file(contacts=500, invalid_rows=4)
    counted = totals(result)
    assert counted["JobsStarted"] == 1
    assert counted["JobsFinished"] == 1
    assert counted["ContactsImported"] == result["counts"]["created"] + result["counts"]["updated"] == 496
    assert {(r["operation"], r["provider"]) for r in result["metrics"]} == {("import", "sendgrid")}


def test_every_log_line_is_json_with_the_job_id_as_correlation_id(backup):
    result = backup(contacts=100)
    records = structured_logs(result)
    assert records
    assert {record["correlation_id"] for record in records} == {result["execution_name"]}
    assert all(record["service"] == "contact-jobs" and record["function_name"] for record in records)


def test_handlers_running_at_once_in_the_sandbox_log_and_count_under_their_own_job():
    measured = run(threads=8, per_thread=10)
    assert measured["log_lines"] == measured["emf_blobs"] == 80
    assert measured["log_lines_with_another_correlation_id"] == 0
    assert measured["emf_blobs_match_one_per_invocation"]
