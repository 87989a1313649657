"""The providers' official contracts (shared/specs), loaded for request and response validation."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI

SPECS_DIR = Path(__file__).resolve().parents[2] / "shared" / "specs"
SENDGRID_FILES = ("tsg_mc_contacts_v3.json", "tsg_mc_custom_fields_v3.json", "tsg_mc_lists_v3.json")


@dataclass(frozen=True)
class Contract:
    name: str
    paths: frozenset[str]
    openapi: OpenAPI


def specs_dir() -> Path:
    if not SPECS_DIR.is_dir():
        raise FileNotFoundError(f"provider contracts not found at {SPECS_DIR} (shared/ beside the repo)")
    return SPECS_DIR


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
        document: dict[str, Any] = _nullable_as_31(json.loads((specs_dir() / "sendgrid" / name).read_text()))
        document["servers"] = [{"url": "/"}]
        contracts.append(Contract(name, frozenset(document["paths"]), OpenAPI.from_dict(document)))
    return tuple(contracts)
