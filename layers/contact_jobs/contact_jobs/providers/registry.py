"""The providers by name. Each is a package, ``providers/<name>/``: ``client.py`` speaks its API,
``imports.py`` is its side of an import, ``__init__`` reads its settings and builds its ``PROVIDER``."""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from contact_jobs.errors import InvalidRequest

if TYPE_CHECKING:  # the import steps reach this registry through importkey: types only
    from contact_jobs.imports import ImportAdapter
    from contact_jobs.progress import ProgressStore
    from contact_jobs.providers.base import ExportProvider

BUILT_IN = ("sendgrid", "which50")  # packages under contact_jobs.providers, loaded on first use


@dataclass(frozen=True)
class Provider:
    name: str
    target: str  # what the key's <target> folder holds, for messages: "<contact list id>"
    # ``progress``: where the sending step records what the provider accepted (None for the others)
    import_adapter: "Callable[[ProgressStore | None], ImportAdapter]"
    export_client: "Callable[[], ExportProvider] | None" = None  # None: it cannot export contacts


registered: dict[str, Provider] = {}  # a test may add a provider of its own


def known() -> dict[str, Provider]:
    for name in BUILT_IN:  # lazily: a provider's package imports the import steps, which import this
        registered.setdefault(name, import_module(f"contact_jobs.providers.{name}").PROVIDER)
    return registered


def provider(name: str) -> Provider:
    """The provider a job request names; ``InvalidRequest`` naming the known ones otherwise."""
    if name not in known():
        raise InvalidRequest(f"unknown provider {name!r} (known: {', '.join(known())})")
    return registered[name]


def exporter(name: str) -> "ExportProvider":
    connect = provider(name).export_client
    if connect is None:
        exporting = ", ".join(p.name for p in known().values() if p.export_client)
        raise InvalidRequest(f"provider {name!r} cannot export contacts (known: {exporting})")
    return connect()
