"""The providers' contracts, vendored in contracts/ (see contracts/README.md), loaded for request and
response validation."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
SENDGRID_FILES = ("tsg_mc_contacts_v3.json", "tsg_mc_custom_fields_v3.json", "tsg_mc_lists_v3.json")


@dataclass(frozen=True)
class Contract:
    name: str
    paths: frozenset[str]
    openapi: OpenAPI


def contracts_dir() -> Path:
    if not CONTRACTS_DIR.is_dir():
        raise FileNotFoundError(f"provider contracts not found at {CONTRACTS_DIR} (part of the checkout)")
    return CONTRACTS_DIR


def _nullable_as_31(node: Any) -> Any:
    """These OpenAPI 3.1 documents still use 3.0's ``nullable: true`` (on ``field_mappings`` items, whose
    prose says ``null`` skips a column); 3.1 ignores that keyword, so it becomes ``type: [T, "null"]``."""
    if isinstance(node, list):
        return [_nullable_as_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {key: _nullable_as_31(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        fixed["type"] = [node["type"], "null"]
    return fixed


@cache
def sendgrid_contracts() -> tuple[Contract, ...]:
    """One validator per SendGrid document. The documents' ``servers`` name the real host; it is swapped
    for a relative one so that requests to the fake on 127.0.0.1 match the same paths."""
    contracts = []
    for name in SENDGRID_FILES:
        text = (contracts_dir() / "sendgrid" / name).read_text()
        document: dict[str, Any] = _nullable_as_31(json.loads(text))
        document["servers"] = [{"url": "/"}]
        contracts.append(Contract(name, frozenset(document["paths"]), OpenAPI.from_dict(document)))
    return tuple(contracts)
