"""Outcomes that say what happened: the notification's event type follows what the provider applied."""

from sandbox.fake_sendgrid import FakeSendGridOptions
from sandbox.fake_which50 import FakeWhich50Options
from tests.integration.conftest import only_notification


def which50(import_file, options: FakeWhich50Options, contacts: int):
    return import_file(provider="which50", which50=options, contacts=contacts)


def test_an_error_report_that_cannot_be_copied_is_errored_with_counts_and_a_warning(import_file):
    refusing = FakeSendGridOptions(import_ready_after_s=0.05, refuse_error_reports=True)
    result = import_file(fake=refusing, contacts=5, invalid_rows=3)
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.errored"
    assert note["message"]["counts"] == {"requested": 5, "created": 2, "updated": 0, "errored": 3}
    assert note["message"]["s3"]["errors_keys"] == []
    assert any("error report" in warning for warning in note["message"]["warnings"])
    assert result["status"] == "SUCCEEDED", "the rows were imported: the execution does not fail"


def test_an_unmapped_status_with_nothing_applied_is_failed_naming_the_status(import_file):
    odd = FakeWhich50Options(progress_s=0.05, finished_status="Mystery", apply_nothing=True)
    result = which50(import_file, odd, contacts=10)
    note = only_notification(result)
    assert note["attributes"]["event_type"] == "import.failed"
    assert "'Mystery'" in note["message"]["error"]["message"]
    assert result["status"] == "FAILED"


def test_a_known_finished_status_with_only_updates_completes(import_file):
    emails = frozenset(f"contact{n:07d}@example.com" for n in range(10))
    known = FakeWhich50Options(progress_s=0.05, existing_emails=emails)
    note = only_notification(which50(import_file, known, contacts=10))
    assert note["attributes"]["event_type"] == "import.completed"
    assert note["message"]["counts"] == {"requested": 10, "created": 0, "updated": 10, "errored": 0}


def test_an_unmapped_status_with_contacts_applied_keeps_the_counts_outcome_and_warns(import_file):
    odd = FakeWhich50Options(progress_s=0.05, finished_status="AllGood")
    note = only_notification(which50(import_file, odd, contacts=10))
    assert note["attributes"]["event_type"] == "import.completed"
    assert any("'AllGood'" in warning for warning in note["message"]["warnings"])
