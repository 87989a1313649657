"""The import key convention and which keys start a job."""

import pytest

from contact_jobs import importkey
from contact_jobs.errors import InvalidImportFile


def test_list_target_and_gzip_are_read_from_the_key():
    key = importkey.parse("imports/sendgrid/3c4b8a52/weekly.csv.gz")
    assert (key.provider, key.target, key.filename, key.gzipped) == (
        "sendgrid",
        "3c4b8a52",
        "weekly.csv.gz",
        True,
    )


def test_underscore_target_means_no_list():
    assert importkey.parse("imports/sendgrid/_/a.csv").target == ""


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("imports/mailchimp/_/a.csv", "unknown provider 'mailchimp'"),
        ("imports/sendgrid/_/a.xlsx", "unsupported file type 'a.xlsx'"),
        ("imports/sendgrid/a.csv", "does not follow imports/<provider>/<target>/<file>"),
    ],
)
def test_bad_keys_are_refused_naming_the_problem(key, problem):
    with pytest.raises(InvalidImportFile, match=problem):
        importkey.parse(key)


def test_event_keys_are_url_decoded():
    assert (
        importkey.decode_event_key("imports/sendgrid/_/my+list%C3%A9.csv")
        == "imports/sendgrid/_/my listé.csv"
    )


def test_error_reports_written_under_errors_do_not_start_imports():
    key = importkey.parse("imports/sendgrid/_/a.csv")
    assert not importkey.is_import_upload(f"{key.errors_prefix}exec/a-part-001-errors.csv")
    assert importkey.is_import_upload("imports/sendgrid/_/a.csv")
