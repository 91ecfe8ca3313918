"""Opening the store from a command: a missing SQLite file is a mistake, not a new clinic."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dmi_live.errors import UsageError


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def open_existing(url: str) -> Any:
    """The store at ``url``; a SQLite file that is not there is an error, never a new empty
    store (a mistyped --data-dir must not look like an empty clinic)."""
    from store import open_store

    path = _sqlite_path(url)
    if path is not None and not path.exists():
        raise UsageError(f"no DMI Live store at {path} (wrong --data-dir? or --config?)")
    return open_store(url)


def open_or_create(url: str) -> Any:
    """The store at ``url``, created when missing, and then said so on standard error."""
    from store import open_store

    path = _sqlite_path(url)
    if path is not None and not path.exists():
        print(f"dmi-live: creating a new, empty store at {path}", file=sys.stderr)
        path.parent.mkdir(parents=True, exist_ok=True)
    return open_store(url)
