"""The contracts are vendored unmodified (contracts/README.md names their origin): a local edit would make
the fakes and the contract tests agree with something the providers never published."""

import hashlib

import pytest

from sandbox.specs import CONTRACTS_DIR

UPSTREAM_SHA256 = {
    "sendgrid/tsg_mc_contacts_v3.json": "ac1addaea901d16911297adc8f393862ad2d4feb413224535121426f1cd68191",
    "sendgrid/tsg_mc_custom_fields_v3.json": (
        "2ca6c91ca095a75693ec847243f7e2076b5fdba57d472c62f9b909480730e1cf"
    ),
    "sendgrid/tsg_mc_lists_v3.json": "8dd337bd2ba2e3fdf729e120c892c52df7c4b87d3bd73b488ecea33a2117f790",
}


@pytest.mark.parametrize(("name", "digest"), UPSTREAM_SHA256.items())
def test_sendgrid_documents_are_the_upstream_files(name, digest):
    assert hashlib.sha256((CONTRACTS_DIR / name).read_bytes()).hexdigest() == digest


def test_the_contracts_live_inside_the_checkout():
    repository = CONTRACTS_DIR.parent
    assert (repository / "template.yaml").is_file()
    assert (CONTRACTS_DIR / "sendgrid" / "LICENSE").read_text().startswith("MIT License")
    assert (CONTRACTS_DIR / "which50" / "which50-api.yaml").is_file()
