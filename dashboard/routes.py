"""Path → page, with each page's authorization rule. Pure: testable without Dash or a browser.

Rules:

- ``/login`` — anyone.
- ``/wall/<room>`` — a kiosk of that room, or a signed-in user (therapist, supervisor, admin).
- ``/remote/<room>`` — a signed-in therapist, supervisor or admin.
- ``/sessions``, ``/replay/<session>``, ``/progress/<child>`` — staff; each layout checks
  again that this user may see that child and room (and records the view in the audit).
- ``/admin`` — enabled admins; ``/family-links`` — staff (links for children they may see).
- ``/family`` — a family principal (from a family link): their one child only.
- ``/`` — a kiosk goes to its wall; a user sees the rooms; anyone else signs in.

A page a principal may not see renders as "not allowed" (or the sign-in page when no one
is signed in); the data routes and callbacks behind each page check again on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import flask
from dash import dcc

from access import Principal, is_staff
from dashboard import cache
from dashboard.auth import safe_next
from dashboard.family_view import FamilyProgress, family_progress, session_days
from dashboard.layouts.admin import create_admin_layout, create_family_links_layout
from dashboard.layouts.common import (
    create_family_elsewhere_layout,
    create_kiosk_elsewhere_layout,
    create_message_layout,
    create_not_allowed_layout,
    create_not_found_layout,
)
from dashboard.layouts.family import create_family_layout, create_family_progress
from dashboard.layouts.family_block import create_family_block
from dashboard.layouts.home import create_home_layout
from dashboard.layouts.login import create_login_layout
from dashboard.layouts.plan import create_plan_layout
from dashboard.layouts.progress import create_progress_layout
from dashboard.layouts.remote import create_remote_layout
from dashboard.layouts.replay import create_replay_layout
from dashboard.layouts.sessions import create_sessions_layout
from dashboard.layouts.wall import create_wall_layout
from review.metrics import progress_points
from store import Store

_ROOM = r"([a-z0-9][a-z0-9_-]{0,63})"
_ID = r"([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})"

Page = Callable[[re.Match[str], dict[str, str], Principal, Any], Any]




def _wall(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    room = match.group(1)
    if not (who.can_see_room(room) and (who.kind == "kiosk" or is_staff(who))):
        return create_not_allowed_layout()
    return create_wall_layout(room, exercise_names=_exercise_names(store))


def _remote(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    room = match.group(1)
    if not (is_staff(who) and who.can_see_room(room)):
        return create_not_allowed_layout()
    return create_remote_layout(room, children=store.children(), exercises=store.exercises())


def _exercise_names(store: Store) -> dict[str, str]:
    return {e.key: e.name for e in store.exercises()}


def _home(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if who.kind == "kiosk" and who.rooms:
        return dcc.Location(id="home-redirect", href=f"/wall/{sorted(who.rooms)[0]}")
    if not is_staff(who):
        return create_not_allowed_layout()
    rooms = sorted({d.room for d in store.devices() if d.room})  # imports have none
    return create_home_layout(who, rooms=rooms)


def _family(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if who.kind != "family" or not who.children or len(who.children) != 1:
        return create_not_allowed_layout()
    (child,) = who.children
    row = next((c for c in store.children() if c.pseudonym == child), None)
    if row is None:
        return create_not_allowed_layout()
    store.audit(who.name, "view family page", child)
    from review.block import load_block

    block = create_family_block(load_block(store, child))  # this link's child, nobody else
    return create_family_layout(row.label, exercise_names=_exercise_names(store),
                                progress=[*block, *create_family_progress(
                                    _family_progress(store, child))],
                                shared_notes=_shared_notes(store, child))


def _shared_notes(store: Store, child: str) -> list[tuple[float, str]]:
    """The notes shared with the family in the child's running session, oldest first."""
    running = [s for s in store.sessions(child=child) if s.end is None]
    if not running:
        return []
    latest = max(running, key=lambda s: s.start)
    return [(a.t, a.text or a.tag or "") for a in store.annotations(latest.id, family_only=True)
            if a.text or a.tag]


def _family_progress(store: Store, child: str, *, sessions: int = 12) -> FamilyProgress:
    """The child's latest ended sessions as a family sees them (the caller checked access)."""
    history = []
    for row in store.sessions(child=child)[:sessions]:
        meta = cache.current_meta(row)
        if meta is not None and meta.ended:
            history.append((meta, cache.session_metrics(meta)))
    days = session_days([(meta.start, metrics) for meta, metrics in history])
    return family_progress(days, progress_points(history))


LINK_ENDED = ("This link has ended", "Family links work for a limited time and can be "
              "switched off by the clinic. Please ask your child's therapist for a new link.")


def link_ended_layout() -> Any:
    return create_message_layout(*LINK_ENDED)


def _sessions(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    return create_sessions_layout(who, store, query) if is_staff(who) else \
        create_not_allowed_layout()


def _replay(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    return create_replay_layout(who, store, match.group(1)) if is_staff(who) else \
        create_not_allowed_layout()


def _progress(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    return create_progress_layout(who, store, match.group(1)) if is_staff(who) else \
        create_not_allowed_layout()


def _plan(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    return create_plan_layout(who, store, match.group(1)) if is_staff(who) else \
        create_not_allowed_layout()


def _admin(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    return create_admin_layout(who, store, flask.current_app.extensions["dmi"]["settings"])


def _family_links(match: re.Match[str], query: dict[str, str], who: Principal,
                  store: Store) -> Any:
    return create_family_links_layout(who, store)


PAGES: list[tuple[re.Pattern[str], Page]] = [
    (re.compile(r"^/admin/?$"), _admin),
    (re.compile(r"^/family-links/?$"), _family_links),
    (re.compile(r"^/family/?$"), _family),
    (re.compile(r"^/sessions/?$"), _sessions),
    (re.compile(rf"^/replay/{_ID}/?$"), _replay),
    (re.compile(rf"^/progress/{_ID}/?$"), _progress),
    (re.compile(rf"^/plan/{_ID}/?$"), _plan),
    (re.compile(rf"^/wall/{_ROOM}/?$"), _wall),
    (re.compile(rf"^/remote/{_ROOM}/?$"), _remote),
    (re.compile(r"^/?$"), _home),
]


def resolve_page(path: str, query: dict[str, str], principal: Principal | None,
                 store: Store) -> Any:
    if path.rstrip("/") == "/login":
        return create_login_layout(error=query.get("error", ""),
                                   next_path=safe_next(query.get("next", "/")))
    for pattern, page in PAGES:
        match = pattern.match(path)
        if match is None:
            continue
        if principal is None:
            if pattern.pattern.startswith("^/family"):
                return link_ended_layout()
            if pattern.pattern.startswith("^/wall/"):
                return create_not_allowed_layout()
            return create_login_layout(error=query.get("error", ""), next_path=safe_next(path))
        if principal.kind == "family" and page is not _family:
            return (dcc.Location(id="home-redirect", href="/family") if page is _home
                    else create_family_elsewhere_layout())
        if principal.kind == "kiosk" and page not in (_wall, _home):
            return create_kiosk_elsewhere_layout(min(principal.rooms, default=None))
        return page(match, query, principal, store)
    return create_not_found_layout(path)
