"""Who did what, in words: staff names for the author ids stored with sessions and notes.

Events carry an opaque author id (``u<user id>``, or ``kiosk`` for a wall screen; see
``dashboard/callbacks/remote.py``), never a user name. Screens, reports and export
manifests show the name; machine-readable columns keep the id.
"""

from __future__ import annotations

from collections.abc import Mapping

from store import Store

KIOSK_NAME = "wall screen"


def author_names(store: Store) -> dict[str, str]:
    """Every author id a session or note may carry, mapped to what a person reads."""
    names = {f"u{user.id}": user.username for user in store.users()}
    names["kiosk"] = KIOSK_NAME
    return names


def name_of(names: Mapping[str, str], author: str | None) -> str:
    """The name of ``author`` (its id when unknown, e.g. an imported session's; "" if none).

    >>> name_of({"u1": "maria"}, "u1"), name_of({"u1": "maria"}, "u9"), name_of({}, None)
    ('maria', 'u9', '')
    """
    if not author:
        return ""
    return names.get(author, author)
