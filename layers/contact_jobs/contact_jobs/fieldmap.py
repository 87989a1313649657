"""CSV header -> provider field ids, by name, case-insensitively: nobody writes field ids by hand."""

from dataclasses import dataclass
from typing import Any

from contact_jobs.errors import InvalidImportFile
from contact_jobs.providers.sendgrid import IDENTIFIER_FIELDS as SENDGRID_IDENTIFIERS


@dataclass(frozen=True)
class FieldMapping:
    field_ids: list[str | None]  # one per column; None skips it
    warnings: list[str]


def map_sendgrid_fields(header: list[str], definitions: dict[str, Any]) -> FieldMapping:
    """Match columns to reserved and custom fields; read-only and unknown columns are skipped and
    reported. A file without an identifier column is refused before anything is sent. ``definitions``
    come from ``SendGridClient.field_definitions``, which checks that every writable field has an id."""
    fields: dict[str, dict[str, Any]] = {}
    for definition in definitions.get("reserved_fields") or []:
        fields[str(definition["name"]).lower()] = definition
    for definition in definitions.get("custom_fields") or []:
        fields.setdefault(str(definition["name"]).lower(), definition)
    field_ids: list[str | None] = []
    warnings: list[str] = []
    for column in header:
        name = column.strip()
        definition = fields.get(name.lower())
        if definition is None:
            field_ids.append(None)
            warnings.append(f"column {name!r} matches no field: skipped")
        elif definition.get("read_only"):
            field_ids.append(None)
            warnings.append(f"column {name!r} is read-only in SendGrid: skipped")
        else:
            field_ids.append(str(definition["id"]))
    mapped = {column.strip().lower() for column, field_id in zip(header, field_ids, strict=True) if field_id}
    if not mapped.intersection(SENDGRID_IDENTIFIERS):
        raise InvalidImportFile(
            f"no identifier column: the header needs one of {', '.join(SENDGRID_IDENTIFIERS)}"
        )
    return FieldMapping(field_ids, warnings)
