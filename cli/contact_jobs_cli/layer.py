"""Everything the CLI takes from the layer (layers/contact_jobs), in one place: the import key convention,
how an upload's execution is named, and the notification document. Nothing here is copied: when the layer
changes its convention, the CLI follows.

The layer functions used: ``importkey.parse``, ``importkey.PREFIX``, ``importkey.NO_TARGET``,
``providers.registry.known``, ``trigger.ObjectCreated`` (its ``version`` rule), ``trigger.execution_name``,
``notifications.build``, ``manifest.manifest_key``, ``manifest.parse_manifest`` (schema 1 and 2),
``restore.restore_execution_name``, ``restore.RESTORABLE``, ``restore.NO_LIST``.
"""

import sys
from pathlib import Path
from typing import Any

try:
    from contact_jobs import importkey, notifications, trigger
    from contact_jobs.errors import BackupUnreadable, InvalidImportFile
    from contact_jobs.manifest import Manifest, manifest_key, parse_manifest
    from contact_jobs.providers import registry
    from contact_jobs.restore import NO_LIST as NO_RESTORE_LIST
    from contact_jobs.restore import RESTORABLE, restore_execution_name
except ModuleNotFoundError:  # run from a checkout without the editable install: the layer is beside us
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "layers" / "contact_jobs"))
    from contact_jobs import importkey, notifications, trigger
    from contact_jobs.errors import BackupUnreadable, InvalidImportFile
    from contact_jobs.manifest import Manifest, manifest_key, parse_manifest
    from contact_jobs.providers import registry
    from contact_jobs.restore import NO_LIST as NO_RESTORE_LIST
    from contact_jobs.restore import RESTORABLE, restore_execution_name

__all__ = [
    "NO_RESTORE_LIST", "RESTORABLE", "BackupUnreadable", "Manifest", "manifest_key", "parse_manifest",
    "restore_execution_name",
]  # fmt: skip
PROVIDERS: tuple[str, ...] = tuple(registry.known())
NO_LIST = importkey.NO_TARGET


class KeyProblem(ValueError):
    """The key the CLI would upload to breaks the layer's convention (the message says how)."""


def import_key(provider: str, list_id: str | None, filename: str) -> str:
    """Where an upload for this provider and list goes, checked by the layer's own parser."""
    key = "/".join((importkey.PREFIX, provider, list_id or importkey.NO_TARGET, filename))
    try:
        importkey.parse(key)
    except InvalidImportFile as exc:
        raise KeyProblem(str(exc)) from exc
    return key


def upload_execution_name(bucket: str, key: str, version_id: str | None, etag: str | None) -> str:
    """The name the trigger gives the execution an upload starts (what S3's event will carry)."""
    created = trigger.ObjectCreated(bucket, key, version_id, etag, None)
    return trigger.execution_name(bucket, key, created.version)


def notification(payload: dict[str, Any], finished_at: str) -> dict[str, Any]:
    """The notification a Notify task published, rebuilt from the task's input as the layer builds it."""
    return notifications.build(payload["state"], payload["outcome"], payload["execution"], finished_at)


def is_notify_input(payload: Any) -> bool:
    return isinstance(payload, dict) and {"state", "outcome", "execution"} <= set(payload)


def verified_by_row_counts(manifest: Manifest) -> bool:
    """Whether a verify has passed on this backup: the layer writes each file's row count into the
    manifest only when a verify finds every file as the manifest states it (contact_jobs.verify)."""
    return bool(manifest.files) and all(entry.rows is not None for entry in manifest.files)
