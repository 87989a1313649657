"""The fake SendGrid's account store on its own: seeding, upserts and what it keeps, without HTTP."""

import csv
import gzip
import io

from sandbox.contacts import (
    SEED_COLUMNS,
    TRICKY_EVERY,
    TRICKY_VALUES,
    compare_accounts,
    seed_account,
    seed_row,
)
from sandbox.sendgrid_account import SendGridAccount


def test_a_seeded_account_holds_every_seed_row_field_by_field():
    account = SendGridAccount()
    seed_account(account, 2 * TRICKY_EVERY * len(TRICKY_VALUES))
    for index in (0, 1, TRICKY_EVERY, 5 * TRICKY_EVERY, 2 * TRICKY_EVERY * len(TRICKY_VALUES) - 1):
        want = dict(zip(SEED_COLUMNS, seed_row(index), strict=True))
        contact = account.contact(want["email"])
        assert contact is not None
        assert {name: contact[name] for name in SEED_COLUMNS} == want


def test_seeding_creates_one_custom_field_of_each_type():
    account = SendGridAccount()
    seed_account(account, 1)
    assert {field.field_type for field in account.custom_fields} == {"Text", "Number", "Date"}


def test_a_value_holding_the_stores_separator_is_kept_whole():
    account = SendGridAccount()
    account.upsert([{"email": "a@example.com", "first_name": "odd\x1fname", "city": "Lisbon"}])
    contact = account.contact("a@example.com")
    assert contact is not None
    assert (contact["first_name"], contact["city"]) == ("odd\x1fname", "Lisbon")
    files, count = account.render_export("csv", 1 << 20, account.selection(), gzip_files=True)
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(files[0]).decode(), newline="")))
    assert (count, rows[0]["FIRST_NAME"], rows[0]["CITY"]) == (1, "odd\x1fname", "Lisbon")


def test_a_custom_field_created_after_contacts_exports_empty_for_them():
    account = SendGridAccount()
    account.upsert([{"email": "a@example.com"}])
    account.create_field("shoe_size", "Number")
    account.upsert([{"email": "b@example.com", "shoe_size": "42"}])
    files, _ = account.render_export("csv", 1 << 20, account.selection(), gzip_files=False)
    rows = list(csv.DictReader(io.StringIO(files[0].decode(), newline="")))
    assert [(row["EMAIL"], row["shoe_size"]) for row in rows] == [
        ("a@example.com", ""),
        ("b@example.com", "42"),
    ]


def test_each_export_file_stays_under_max_bytes_with_a_header_and_whole_rows():
    account = SendGridAccount()
    seed_account(account, 3000)
    files, count = account.render_export("csv", 100_000, account.selection(), gzip_files=False)
    assert count == 3000
    assert len(files) > 1
    assert all(len(data) <= 100_000 for data in files)
    rows = [row for data in files for row in csv.reader(io.StringIO(data.decode(), newline=""))]
    assert len(rows) == 3000 + len(files)  # a header in each file, no row cut in two


def test_contact_ids_are_unique_within_an_account_and_differ_between_accounts():
    first, second = SendGridAccount(), SendGridAccount()
    seed_account(first, 500)
    seed_account(second, 500)
    ids = [contact["contact_id"] for contact in first.contacts()]
    assert len(set(ids)) == 500
    theirs = {contact["email"]: contact["contact_id"] for contact in second.contacts()}
    assert not set(ids) & set(theirs.values())
    assert compare_accounts(first, second) == []  # read-only fields are not compared
