"""Which export in flight a backup joins, and how the export list is read: against the fake SendGrid on
127.0.0.1 over real HTTP. An export is joined only when it is the same export: same lists and segments,
same file type, same maximum file size."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from contact_jobs.errors import ProviderError
from contact_jobs.http import provider_session
from contact_jobs.providers.base import ExportRequest
from contact_jobs.providers.sendgrid.client import EXPORT_LIST_MAX_PAGES, SendGridClient
from sandbox.fake_sendgrid import FakeSendGrid, FakeSendGridOptions
from sandbox.misbehaviour import replacing

LIST_A = "0c8e3cf4-5a0e-4b5b-9a51-1f3c7e2d9b10"
LIST_B = "3c4b8a52-4f0e-4d5b-8f7a-2b1c9d0e6f11"
CSV_5000 = {"list_ids": [LIST_A], "file_type": "csv", "max_file_size": 5000}


@contextmanager
def fake_with(*pending: dict[str, Any], **options: Any) -> Iterator[FakeSendGrid]:
    """A fake SendGrid holding ``pending`` exports in flight, whose list says their type and size
    unless told otherwise."""
    options.setdefault("list_shows_export_request", True)
    with FakeSendGrid(FakeSendGridOptions(pending_exports=pending, **options)) as fake:
        yield fake


def client_for(fake: FakeSendGrid) -> SendGridClient:
    return SendGridClient(fake.base_url, fake.options.api_key, provider_session(1, 1), 10)


def list_requests(fake: FakeSendGrid) -> list[str]:
    return [r.target for r in fake.api_requests() if r.method == "GET"]


def test_an_export_of_another_file_type_is_not_joined():
    with fake_with(CSV_5000) as fake:
        started = client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,), file_type="json"))
        assert fake.exports[started].request["file_type"] == "json"
        assert len(fake.exports) == 2


def test_an_export_of_another_maximum_file_size_is_not_joined():
    with fake_with({**CSV_5000, "max_file_size": 1}) as fake:
        started = client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,), max_file_size_mb=5000))
        assert fake.exports[started].request["max_file_size"] == 5000
        assert len(fake.exports) == 2


def test_an_export_of_other_segments_is_not_joined():
    with fake_with({**CSV_5000, "segment_ids": ["seg-1"]}) as fake:
        client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,)))
        assert len(fake.exports) == 2


def test_the_same_lists_in_another_order_with_the_same_type_and_size_are_joined():
    body = {
        "list_ids": [LIST_A, LIST_B],
        "segment_ids": ["s1", "s2"],
        "file_type": "json",
        "max_file_size": 7,
    }
    with fake_with(body) as fake:
        (pending_id,) = fake.exports
        request = ExportRequest((LIST_B, LIST_A), ("s2", "s1"), file_type="json", max_file_size_mb=7)
        assert client_for(fake).start_export(request) == pending_id
        assert len(fake.exports) == 1


def test_an_export_whose_listing_does_not_say_its_type_and_size_is_not_joined():
    with fake_with(CSV_5000, list_shows_export_request=False) as fake:  # the contract's list answer
        client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,)))
        assert len(fake.exports) == 2, "file type and size unknown: a new export, not a guess"


def test_exports_are_listed_across_every_page():
    bodies = [{**CSV_5000, "max_file_size": size} for size in range(1, 6)]
    with fake_with(*bodies, export_list_page_size=2) as fake:
        listed = client_for(fake).list_exports()
        assert [item.text("id") for item in listed] == list(fake.exports)
        assert len(list_requests(fake)) == 3


def test_a_matching_export_on_a_later_page_is_joined():
    others = [{**CSV_5000, "file_type": "json"}, {**CSV_5000, "max_file_size": 1}]
    with fake_with(*others, CSV_5000, export_list_page_size=1) as fake:
        matching = list(fake.exports)[2]
        assert client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,))) == matching
        assert len(list_requests(fake)) == 3


def test_listing_stops_after_a_bounded_number_of_pages():
    others = [{**CSV_5000, "max_file_size": size} for size in range(1, EXPORT_LIST_MAX_PAGES + 3)]
    with fake_with(*others, export_list_page_size=1) as fake:
        assert len(client_for(fake).list_exports()) == EXPORT_LIST_MAX_PAGES
        assert len(list_requests(fake)) == EXPORT_LIST_MAX_PAGES


def test_a_next_link_off_the_api_host_is_refused_and_never_followed():
    with fake_with(CSV_5000) as elsewhere, fake_with(CSV_5000) as fake:
        off_host = f"{elsewhere.base_url}/v3/marketing/contacts/exports?page_token=1"
        fake.options.tamper["list_exports"] = replacing("_metadata", {"next": off_host})
        with pytest.raises(ProviderError, match=r"'_metadata.next' points off the API host") as raised:
            client_for(fake).start_export(ExportRequest(list_ids=(LIST_A,), file_type="json"))
        assert "page_token" not in str(raised.value), "the link itself is not repeated"
        assert elsewhere.requests == [], "nothing, and no API key, was sent to the other host"
        assert len(fake.exports) == 1, "no export started on a list that could not be read"


def test_a_next_link_over_plain_http_to_the_same_host_is_refused():
    with fake_with(CSV_5000) as fake:
        plain = fake.base_url.replace("https://", "http://")
        fake.options.tamper["list_exports"] = replacing(
            "_metadata", {"next": f"{plain}/v3/marketing/contacts/exports?page_token=1"}
        )
        with pytest.raises(ProviderError, match=r"points off the API host \(http://127.0.0.1\)"):
            client_for(fake).list_exports()


def test_a_next_link_back_to_a_page_already_read_ends_the_listing():
    with fake_with(CSV_5000) as fake:
        fake.options.tamper["list_exports"] = replacing(
            "_metadata", {"next": f"{fake.base_url}/v3/marketing/contacts/exports"}
        )
        assert len(client_for(fake).list_exports()) == 1
        assert len(list_requests(fake)) == 1
