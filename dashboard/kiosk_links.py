"""Wall-screen links: made, opened, checked on every request and revoked one by one.

A link is ``/wall/<room>?k=<token>``; the token is signed with the site's secret key and
names a stored link (id, room, expiry; :mod:`store.kiosk_links`). Opening it signs the
browser in as that room's wall; every later request checks the stored link again, so a
revoked or expired link ends the wall's session on its next request.

A token signed with the secret key but naming no stored link (made by
:func:`dashboard.auth.kiosk_token` alone) opens nothing: every wall link is made by
:func:`create`, so it is listed, expires and can be revoked.

Example::

    >>> token, link = create(store, secret, "room-1", created_by="ada", days=30)
    >>> open_link(store, secret, token, now=time.time()).room
    'room-1'
"""

from __future__ import annotations

import logging

from dashboard.auth import KIOSK_DAYS, kiosk_token, new_kiosk_link_id, read_kiosk_token
from store import Store
from store.rows import KioskLinkRow

log = logging.getLogger(__name__)

DEFAULT_DAYS = KIOSK_DAYS
MAX_DAYS = 3650


def state(link: KioskLinkRow, now: float) -> str:
    return "revoked" if link.revoked else "active" if link.is_valid(now) else "expired"


def create(store: Store, secret_key: str, room: str, *, created_by: str, now: float,
           days: int = DEFAULT_DAYS) -> tuple[str, KioskLinkRow]:
    """Store a new link for ``room`` that works for ``days`` days; its token and row."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a wall-screen link works for 1 to {MAX_DAYS} days, not {days!r}")
    link = store.add_kiosk_link(new_kiosk_link_id(), room, now + days * 86400, created_by)
    return kiosk_token(secret_key, room, link_id=link.id, expires=link.expires), link


def url(base_url: str, room: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/wall/{room}?k={token}"


def open_link(store: Store, secret_key: str, token: str, *, now: float) -> KioskLinkRow | None:
    """The stored link a token opens, or None if it is forged, expired or revoked."""
    claim = read_kiosk_token(secret_key, token)
    if claim is None or now >= claim.expires:
        return None
    link = store.kiosk_link(claim.link_id)  # a token whose link is not stored: refused
    if link is None or link.room != claim.room or not link.is_valid(now):
        return None
    return link


def still_valid(store: Store, link_id: object, room: str, *, now: float) -> bool:
    """Whether the wall signed in with ``link_id`` for ``room`` may go on."""
    if not isinstance(link_id, str):
        return False
    link = store.kiosk_link(link_id)
    return link is not None and link.room == room and link.is_valid(now)
