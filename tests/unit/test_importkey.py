"""The import key convention, how event keys are decoded, and which keys start a job."""

from urllib.parse import quote_plus

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


@pytest.mark.parametrize("filename", ["contacts.CSV.GZ", "contacts.Csv.Gz", "contacts.csv.GZ"])
def test_gzip_suffix_is_recognised_in_any_case(filename):
    assert importkey.parse(f"imports/sendgrid/_/{filename}").gzipped


@pytest.mark.parametrize("filename", ["contacts.CSV", "contacts.csv"])
def test_a_plain_csv_in_any_case_is_not_gzip(filename):
    assert not importkey.parse(f"imports/sendgrid/_/{filename}").gzipped


@pytest.mark.parametrize(
    ("filename", "stem"),
    [("spring.csv", "spring"), ("Spring.CSV.GZ", "Spring"), ("a.b.Csv", "a.b"), ("x.csv.gz", "x")],
)
def test_the_stem_drops_the_extension_in_any_case(filename, stem):
    assert importkey.parse(f"imports/sendgrid/_/{filename}").stem == stem


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("imports/mailchimp/_/a.csv", "unknown provider 'mailchimp'"),
        ("imports/SendGrid/_/a.csv", "did you mean 'sendgrid'?"),
        ("imports/sendgrid/_/a.xlsx", "unsupported file type 'a.xlsx'"),
        ("imports/sendgrid/a.csv", "does not follow imports/<provider>/<target>/<file>"),
    ],
)
def test_bad_keys_are_refused_naming_the_problem(key, problem):
    with pytest.raises(InvalidImportFile, match=problem):
        importkey.parse(key)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("imports/sendgrid/contacts.csv", "imports/sendgrid/<list id, or _ for no list>/contacts.csv"),
        ("imports/which50/contacts.csv", "imports/which50/<contact list id>/contacts.csv"),
        ("imports/sendgrid/_/2026/contacts.csv", "imports/sendgrid/<list id, or _ for no list>/contacts.csv"),
        ("imports/contacts.csv", "imports/<sendgrid|which50>/<target>/contacts.csv"),
    ],
)
def test_a_misplaced_key_is_refused_naming_the_key_and_where_it_belongs(key, expected):
    with pytest.raises(InvalidImportFile) as refused:
        importkey.parse(key)
    assert repr(key) in str(refused.value)
    assert f"upload it as {expected}" in str(refused.value)


def test_a_key_one_folder_too_deep_is_called_too_deep():
    with pytest.raises(InvalidImportFile, match=r"\(too deep\)"):
        importkey.parse("imports/sendgrid/_/2026/contacts.csv")


@pytest.mark.parametrize(
    "stored",
    [
        "imports/sendgrid/_/spring+summer.csv",
        "imports/sendgrid/_/spring%2Bsummer.csv",
        "imports/sendgrid/_/spring%20sale.csv",
        "imports/sendgrid/_/spring sale.csv",
        "imports/sendgrid/_/été ünïcødé 日本.csv",
        "imports/sendgrid/my+list %20é/contacts.csv",
        "imports/which50/101/100% sure+.csv",
    ],
)
def test_an_event_key_decodes_once_to_the_stored_key(stored):
    """S3 form-encodes the key in its events (what the sandbox sends too): one decode gives it back."""
    assert importkey.decode_event_key(quote_plus(stored, safe="/")) == stored


def test_a_space_arrives_as_plus_and_a_plus_as_percent_2b():
    assert importkey.decode_event_key("imports/sendgrid/_/a+b%2Bc.csv") == "imports/sendgrid/_/a b+c.csv"


def test_error_reports_written_under_errors_are_recognised():
    key = importkey.parse("imports/sendgrid/_/a.csv")
    assert importkey.is_errors_report(f"{key.errors_prefix}exec/a-part-001-errors.csv")
    assert not importkey.is_errors_report("imports/sendgrid/_/a.csv")


def test_a_file_named_errors_csv_is_an_upload_not_an_error_report():
    assert not importkey.is_errors_report("imports/sendgrid/_/errors.csv")


def test_a_console_folder_marker_is_a_folder():
    assert importkey.is_folder("imports/sendgrid/3c4b8a52/")
    assert not importkey.is_folder("imports/sendgrid/3c4b8a52/a.csv")
