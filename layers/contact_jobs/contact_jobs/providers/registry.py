"""The providers, by the name the import key and the execution input give them.

A provider is one package, ``providers/<name>/``: ``client.py`` speaks its API, ``imports.py`` is its side of
an import, and its ``__init__`` reads its own settings and builds its ``PROVIDER``. Adding one is that
package and its name in ``BUILT_IN``: the workflow and the other providers stay as they are.
"""

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


_registered: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    _registered[provider.name] = provider


def unregister(name: str) -> None:
    _registered.pop(name, None)


def _loaded() -> dict[str, Provider]:
    for name in BUILT_IN:  # lazily: a provider's package imports the import steps, which import this
        if name not in _registered:
            register(import_module(f"contact_jobs.providers.{name}").PROVIDER)
    return _registered


def names() -> tuple[str, ...]:
    return tuple(_loaded())


def get(name: str) -> Provider | None:
    return _loaded().get(name)


def provider(name: str) -> Provider:
    """The provider a job request names; ``InvalidRequest`` naming the known ones otherwise."""
    found = get(name)
    if found is None:
        raise InvalidRequest(f"unknown provider {name!r} (known: {', '.join(names())})")
    return found


def exporter(name: str) -> "ExportProvider":
    connect = provider(name).export_client
    if connect is None:
        known = ", ".join(p.name for p in _loaded().values() if p.export_client)
        raise InvalidRequest(f"provider {name!r} cannot export contacts (known: {known})")
    return connect()
