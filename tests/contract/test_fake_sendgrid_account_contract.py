"""The fake SendGrid as a small stateful account: custom fields, lists, imports that upsert contacts and
exports rendered from them, every answer still fitting the official documents."""

import csv
import gzip
import io
import json
import time
from collections.abc import Iterator

import pytest
import requests
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from contact_jobs.providers.sendgrid.imports import map_sendgrid_fields
from sandbox.contacts import (
    RESERVED_FIELDS,
    SEED_COLUMNS,
    TRICKY_VALUES,
    compare_accounts,
    seed_account,
    seed_row,
)
from sandbox.fake_sendgrid import KNOWN_LIST, FakeSendGrid, FakeSendGridOptions
from sandbox.specs import sendgrid_contracts

FIELDS = "tsg_mc_custom_fields_v3.json"
LISTS = "tsg_mc_lists_v3.json"
CONTACTS = "tsg_mc_contacts_v3.json"


def call(fake: FakeSendGrid, method: str, path: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {fake.options.api_key}"}
    return requests.request(method, f"{fake.base_url}{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def assert_fits(document: str, response: requests.Response) -> None:
    contract = next(c for c in sendgrid_contracts() if c.name == document)
    contract.openapi.validate_response(
        RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response)
    )


@pytest.fixture
def account_fake() -> Iterator[FakeSendGrid]:
    options = FakeSendGridOptions(export_ready_after_s=0.0, import_ready_after_s=0.0)
    with FakeSendGrid(options) as fake:
        yield fake


def import_csv_into(fake: FakeSendGrid, data: bytes, list_ids: list[str] | None = None) -> dict:
    """Import ``data`` through the API as the import lane does (columns mapped by name); the final status."""
    header = next(csv.reader(io.StringIO(data.decode(), newline="")))
    definitions = call(fake, "GET", "/v3/marketing/field_definitions").json()
    mappings = map_sendgrid_fields(header, definitions).field_ids
    body = {"file_type": "csv", "field_mappings": mappings, "list_ids": list_ids or []}
    created = call(fake, "PUT", "/v3/marketing/contacts/imports", json=body)
    assert created.status_code == 200, created.text
    headers = {item["header"]: item["value"] for item in created.json()["upload_headers"]}
    assert (
        requests.put(created.json()["upload_uri"], data=data, headers=headers, timeout=30).status_code == 200
    )
    status = call(fake, "GET", f"/v3/marketing/contacts/imports/{created.json()['job_id']}")
    assert_fits(CONTACTS, status)
    result: dict = status.json()
    return result


def export_from(fake: FakeSendGrid, **body: object) -> list[bytes]:
    """Export through the API; the downloaded files, uncompressed."""
    created = call(fake, "POST", "/v3/marketing/contacts/exports", json=body)
    assert created.status_code == 202, created.text
    status = call(fake, "GET", f"/v3/marketing/contacts/exports/{created.json()['id']}")
    assert_fits(CONTACTS, status)
    assert status.json()["status"] == "ready"
    files = [requests.get(url, timeout=30).content for url in status.json()["urls"]]
    return [gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data for data in files]


def exported_contacts(files: list[bytes], file_type: str) -> list[dict[str, str]]:
    if file_type == "json":
        return [json.loads(line) for data in files for line in data.decode().splitlines()]
    return [row for data in files for row in csv.DictReader(io.StringIO(data.decode(), newline=""))]


def seed_csv(count: int) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SEED_COLUMNS)
    writer.writerows(seed_row(index) for index in range(count))
    return buffer.getvalue().encode()


def create_field(fake: FakeSendGrid, name: str, field_type: str) -> requests.Response:
    return call(
        fake, "POST", "/v3/marketing/field_definitions", json={"name": name, "field_type": field_type}
    )


# Custom field definitions ----------------------------------------------------------------------------


def test_a_created_custom_field_fits_the_spec_and_is_listed_with_the_reserved_ones(account_fake):
    created = create_field(account_fake, "shoe_size", "Number")
    assert created.status_code == 200
    assert_fits(FIELDS, created)
    listed = call(account_fake, "GET", "/v3/marketing/field_definitions")
    assert_fits(FIELDS, listed)
    custom = {field["name"]: field for field in listed.json()["custom_fields"]}
    assert custom["shoe_size"] == {"id": created.json()["id"], "name": "shoe_size", "field_type": "Number"}
    assert "email" in {field["name"] for field in listed.json()["reserved_fields"]}


@pytest.mark.parametrize("name", ["Shoe_Size", "EMAIL", "loyalty_points"])
def test_a_field_name_taken_case_insensitively_is_refused_with_a_400(account_fake, name):
    create_field(account_fake, "shoe_size", "Text")
    response = create_field(account_fake, name, "Text")
    assert response.status_code == 400
    assert_fits(FIELDS, response)
    assert "already exists" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("name", ["9lives", "shoe size", "shoe-size", "größe"])
def test_a_field_name_outside_letters_digits_underscores_is_refused(account_fake, name):
    response = create_field(account_fake, name, "Text")
    assert response.status_code == 400
    assert_fits(FIELDS, response)
    assert name not in {field.name for field in account_fake.account.custom_fields}


def test_a_field_type_outside_the_specs_enum_is_refused_by_the_contract(account_fake):
    response = create_field(account_fake, "shoe_size", "Boolean")
    assert response.status_code == 400
    assert "is not one of ['Text', 'Number', 'Date']" in response.json()["errors"][0]["message"]


# Lists -------------------------------------------------------------------------------------------------


def test_lists_are_listed_and_created_as_the_spec_says(account_fake):
    created = call(account_fake, "POST", "/v3/marketing/lists", json={"name": "newsletter"})
    assert created.status_code == 201
    assert_fits(LISTS, created)
    listed = call(account_fake, "GET", "/v3/marketing/lists")
    assert_fits(LISTS, listed)
    assert [item["id"] for item in listed.json()["result"]] == [KNOWN_LIST, created.json()["id"]]


def test_importing_into_a_list_adds_the_contacts_to_it(account_fake):
    list_id = call(account_fake, "POST", "/v3/marketing/lists", json={"name": "vip"}).json()["id"]
    import_csv_into(account_fake, b"email\na@example.com\nb@example.com\n", [list_id])
    import_csv_into(account_fake, b"email\nc@example.com\n")
    import_csv_into(account_fake, b"email\na@example.com\n", [list_id])  # already on it
    found = call(account_fake, "GET", f"/v3/marketing/lists/{list_id}")
    assert_fits(LISTS, found)
    assert found.json()["contact_count"] == 2
    assert account_fake.account.list_ids_of("a@example.com") == [list_id]


def test_importing_into_a_list_that_does_not_exist_is_a_404(account_fake):
    body = {
        "file_type": "csv",
        "field_mappings": ["_rf2_T"],
        "list_ids": ["00000000-0000-4000-8000-000000000000"],
    }
    response = call(account_fake, "PUT", "/v3/marketing/contacts/imports", json=body)
    assert response.status_code == 404
    assert_fits(CONTACTS, response)
    assert account_fake.imports == {}


def test_an_import_mapping_an_unknown_or_read_only_field_is_refused(account_fake):
    for mappings in (["_rf2_T", "e99_T"], ["_rf2_T", "_rf24_T"]):
        body = {"file_type": "csv", "field_mappings": mappings}
        response = call(account_fake, "PUT", "/v3/marketing/contacts/imports", json=body)
        assert response.status_code == 400, mappings
        assert_fits(CONTACTS, response)


# Imports into the store --------------------------------------------------------------------------------


def test_an_import_upserts_mapped_fields_by_email_and_keeps_the_others(account_fake):
    import_csv_into(account_fake, b"email,first_name,city\nA@Example.com,Ada,Lisbon\n")
    result = import_csv_into(account_fake, b'email,city,loyalty_points\na@example.com,"Porto, PT",7\n')
    assert result["results"]["updated_count"] == 1
    contact = account_fake.account.contact("a@example.com")
    assert contact is not None
    assert (contact["first_name"], contact["city"], contact["loyalty_points"]) == ("Ada", "Porto, PT", "7")


def test_a_value_that_does_not_fit_its_custom_fields_type_goes_to_the_error_report(account_fake):
    create_field(account_fake, "birthday", "Date")
    data = (
        b"email,loyalty_points,birthday\n"
        b"a@example.com,many,\nb@example.com,1,yesterday\nc@example.com,2,1970-01-31\n"
    )
    result = import_csv_into(account_fake, data)
    assert result["status"] == "errored"
    assert (result["results"]["created_count"], result["results"]["errored_count"]) == (1, 2)
    report = requests.get(result["results"]["errors_url"], timeout=10).text
    assert (
        report == "row,error\n2,invalid number for field loyalty_points\n3,invalid date for field birthday\n"
    )
    assert account_fake.account.emails() == {"c@example.com"}


def upload_only(fake: FakeSendGrid, data: bytes) -> str:
    body = {"file_type": "csv", "field_mappings": ["_rf2_T"]}
    created = call(fake, "PUT", "/v3/marketing/contacts/imports", json=body).json()
    headers = {item["header"]: item["value"] for item in created["upload_headers"]}
    assert requests.put(created["upload_uri"], data=data, headers=headers, timeout=30).status_code == 200
    return str(created["job_id"])


def test_a_file_that_is_not_utf8_fails_the_import(account_fake):
    job_id = upload_only(account_fake, "email\nzoë@example.com\n".encode("latin-1"))
    status = call(account_fake, "GET", f"/v3/marketing/contacts/imports/{job_id}")
    assert_fits(CONTACTS, status)
    assert status.json()["status"] == "failed"


def test_an_upload_applied_after_its_answer_is_pending_until_applied(account_fake):
    account_fake.options.apply_before_answer_s = 0.0
    job_id = upload_only(account_fake, seed_csv(20000))
    statuses = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and statuses[-1:] != ["completed"]:
        statuses.append(
            call(account_fake, "GET", f"/v3/marketing/contacts/imports/{job_id}").json()["status"]
        )
    assert statuses[-1] == "completed"
    assert set(statuses[:-1]) <= {"pending"}
    assert len(account_fake.account) == 20000


# Exports from the store: the same contacts back, field by field ----------------------------------------


@pytest.mark.parametrize(
    ("file_type", "max_file_size"), [("csv", 5000), ("json", 5000), ("csv", 1), ("json", 1)]
)
def test_contacts_imported_come_back_field_by_field_from_an_export(account_fake, file_type, max_file_size):
    count = 8000  # with max_file_size 1 (MB): several files
    for name, field_type in (("nickname", "Text"), ("lifetime_value", "Number"), ("birthday", "Date")):
        create_field(account_fake, name, field_type)
    result = import_csv_into(account_fake, seed_csv(count))
    assert result["status"] == "completed", result
    files = export_from(account_fake, file_type=file_type, max_file_size=max_file_size)
    assert (len(files) > 1) is (max_file_size == 1)
    assert all(len(data) <= max_file_size * 1024 * 1024 for data in files)
    exported = exported_contacts(files, file_type)
    expected = [dict(zip(SEED_COLUMNS, seed_row(index), strict=True)) for index in range(count)]
    assert len(exported) == count
    columns = [name.upper() if name in RESERVED_FIELDS else name for name in SEED_COLUMNS]  # custom: as named
    for want, got in zip(expected, exported, strict=True):
        assert {name: got[column] for name, column in zip(SEED_COLUMNS, columns, strict=True)} == want
    tricky = {value for _, value in TRICKY_VALUES}
    assert tricky <= {value for contact in exported for value in contact.values()}


def test_an_export_holds_the_read_only_columns_sendgrid_exports_have(account_fake):
    import_csv_into(account_fake, b"email\na@example.com\n")
    (exported,) = exported_contacts(export_from(account_fake), "csv")
    assert exported["EMAIL_DOMAINS"] == "example.com"
    assert all(exported[column] for column in ("CONTACT_ID", "CREATED_AT", "UPDATED_AT"))
    assert list(exported)[:3] == ["EMAIL", "FIRST_NAME", "LAST_NAME"]


@pytest.mark.parametrize("seeded", [0, 150])
def test_an_account_started_with_seed_contacts_exports_exactly_those(seeded):
    options = FakeSendGridOptions(export_ready_after_s=0.0, seed_contacts=seeded, contacts=500)
    with FakeSendGrid(options) as fake:
        exported = exported_contacts(export_from(fake), "csv")
    assert [contact["EMAIL"] for contact in exported] == [seed_row(index)[0] for index in range(seeded)]


def test_an_account_started_empty_has_only_the_default_custom_field():
    with FakeSendGrid(FakeSendGridOptions(seed_contacts=0)) as fake:
        custom = call(fake, "GET", "/v3/marketing/field_definitions").json()["custom_fields"]
    assert [field["name"] for field in custom] == ["loyalty_points"]


def test_an_export_of_a_list_holds_only_its_contacts(account_fake):
    vip = call(account_fake, "POST", "/v3/marketing/lists", json={"name": "vip"}).json()["id"]
    import_csv_into(account_fake, b"email\na@example.com\n", [vip])
    import_csv_into(account_fake, b"email\nb@example.com\n", [KNOWN_LIST])
    exported = exported_contacts(export_from(account_fake, list_ids=[vip]), "csv")
    assert [contact["EMAIL"] for contact in exported] == ["a@example.com"]
    every = exported_contacts(export_from(account_fake), "csv")
    assert sorted(contact["EMAIL"] for contact in every) == ["a@example.com", "b@example.com"]


def test_an_export_of_a_segment_holds_its_lists_contacts(account_fake):
    import_csv_into(account_fake, b"email\na@example.com\n", [KNOWN_LIST])
    import_csv_into(account_fake, b"email\nb@example.com\n")
    segment = account_fake.account.add_segment("known", KNOWN_LIST)
    exported = exported_contacts(
        export_from(account_fake, segment_ids=[segment.id], file_type="json"), "json"
    )
    assert [contact["EMAIL"] for contact in exported] == ["a@example.com"]


def test_exporting_a_list_the_account_lacks_is_a_404(account_fake):
    import_csv_into(account_fake, b"email\na@example.com\n")
    body = {"list_ids": ["00000000-0000-4000-8000-000000000000"]}
    response = call(account_fake, "POST", "/v3/marketing/contacts/exports", json=body)
    assert response.status_code == 404
    assert_fits(CONTACTS, response)


def test_misbehaviour_options_apply_to_exports_from_the_store(account_fake):
    account_fake.options.gzip_files = False
    account_fake.options.rate_limit_calls = frozenset({1})
    assert call(account_fake, "GET", "/v3/marketing/lists").status_code == 429
    import_csv_into(account_fake, b"email\na@example.com\n")
    (data,) = export_from(account_fake)
    assert data.startswith(b"EMAIL,FIRST_NAME,LAST_NAME")


@pytest.mark.parametrize("distinct", [False, True])
def test_exports_from_the_store_differ_in_gzip_bytes_only_when_asked(account_fake, distinct):
    account_fake.options.distinct_exports = distinct
    import_csv_into(account_fake, b"email\na@example.com\n")
    raw = []
    for _ in range(2):
        export_id = call(account_fake, "POST", "/v3/marketing/contacts/exports", json={}).json()["id"]
        url = call(account_fake, "GET", f"/v3/marketing/contacts/exports/{export_id}").json()["urls"][0]
        raw.append(requests.get(url, timeout=30).content)
    assert (raw[0] != raw[1]) is distinct
    assert gzip.decompress(raw[0]) == gzip.decompress(raw[1])


# Account to account ------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_type", ["csv", "json"])
def test_a_seeded_account_exported_and_imported_into_an_empty_one_compares_equal(account_fake, file_type):
    seed_account(account_fake.account, 3000)
    with FakeSendGrid(FakeSendGridOptions(export_ready_after_s=0.0, import_ready_after_s=0.0)) as other:
        assert compare_accounts(account_fake.account, other.account, limit=1) != []
        for field in account_fake.account.custom_fields:
            if field.name != "loyalty_points":
                assert create_field(other, field.name, field.field_type).status_code == 200
        for data in export_from(account_fake, file_type=file_type, max_file_size=1):
            import_csv_into(other, data if file_type == "csv" else ndjson_as_csv(data))
        assert compare_accounts(account_fake.account, other.account) == []


def test_compare_accounts_names_each_contact_and_field_that_differs(account_fake):
    seed_account(account_fake.account, 10)
    with FakeSendGrid(FakeSendGridOptions()) as other:
        seed_account(other.account, 11)
        other.account.upsert([{"email": "contact0000003@example.com", "nickname": "changed"}])
        mismatches = compare_accounts(account_fake.account, other.account)
    assert [(m.email, m.differences) for m in mismatches] == [
        ("contact0000003@example.com", {"nickname": ("nick3", "changed")}),
        ("contact0000010@example.com", {"email": (None, "contact0000010@example.com")}),
    ]


def ndjson_as_csv(data: bytes) -> bytes:
    rows = [json.loads(line) for line in data.decode().splitlines()]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()
