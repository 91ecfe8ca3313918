"""Path → page, with each page's authorization rule. Pure: testable without Dash or a browser.

Rules:

- ``/login`` — anyone.
- ``/wall/<room>`` — a kiosk of that room, or a signed-in user (therapist, supervisor, admin).
- ``/remote/<room>`` — a signed-in therapist, supervisor or admin.
- ``/sessions``, ``/replay/<session>``, ``/progress/<child>``, ``/plan/<child>`` — staff
  who may see that child and room (the replay and progress views are written to the audit).
- ``/admin`` — enabled admins; ``/family-links`` — staff (links for children they may see).
- ``/family`` — a family principal (from a family link): their one child only.
- ``/`` — a kiosk goes to its wall; a user sees the rooms; anyone else signs in.

A page a principal may not see renders as "not allowed" (or the sign-in page when no one
is signed in); the data routes and callbacks behind each page check again on their own.

Each page function authorises, loads what the page shows (:mod:`dashboard.page_data`),
writes the audit row, and only then calls its builder from :mod:`dashboard.layouts`,
which reads nothing and decides nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import flask
from dash import dcc

from access import Principal, is_staff, may_review
from dashboard import admin_actions as aa
from dashboard import page_data as data
from dashboard.auth import safe_next
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
from dashboard.layouts.sessions import LIMIT, create_sessions_layout
from dashboard.layouts.wall import create_wall_layout
from review.block import load_block
from store import Store

_ROOM = r"([a-z0-9][a-z0-9_-]{0,63})"
_ID = r"([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})"

Page = Callable[[re.Match[str], dict[str, str], Principal, Any], Any]


def _wall(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    room = match.group(1)
    if not (who.can_see_room(room) and (who.kind == "kiosk" or is_staff(who))):
        return create_not_allowed_layout()
    return create_wall_layout(room, exercise_names=data.exercise_names(store))


def _remote(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    room = match.group(1)
    if not (is_staff(who) and who.can_see_room(room)):
        return create_not_allowed_layout()
    return create_remote_layout(room, children=store.children(), exercises=store.exercises())


def _home(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if who.kind == "kiosk" and who.rooms:
        return dcc.Location(id="home-redirect", href=f"/wall/{sorted(who.rooms)[0]}")
    if not is_staff(who):
        return create_not_allowed_layout()
    return create_home_layout(who, rooms=data.device_rooms(store))


def _family(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if who.kind != "family" or not who.children or len(who.children) != 1:
        return create_not_allowed_layout()
    (child,) = who.children
    row = data.child_row(store, child)
    if row is None:
        return create_not_allowed_layout()
    store.audit(who.name, "view family page", child)
    block = create_family_block(load_block(store, child))  # this link's child, nobody else
    return create_family_layout(row.label, exercise_names=data.exercise_names(store),
                                progress=[*block, *create_family_progress(
                                    data.family_progress_of(store, child))],
                                shared_notes=data.shared_notes(store, child))


LINK_ENDED = ("This link has ended", "Family links work for a limited time and can be "
              "switched off by the clinic. Please ask your child's therapist for a new link.")


def link_ended_layout() -> Any:
    return create_message_layout(*LINK_ENDED)


def _sessions(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if not is_staff(who):
        return create_not_allowed_layout()
    filters = data.session_filters(store, who)
    rows = data.filtered_rows(store, who, query.get("child"), query.get("therapist"),
                              query.get("room"), query.get("since"), query.get("until"),
                              limit=LIMIT)
    return create_sessions_layout(filters, rows, query)


def _replay(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if not is_staff(who):
        return create_not_allowed_layout()
    session_id = match.group(1)
    meta = data.session_meta(session_id)
    if meta is None:
        return create_not_found_layout(f"/replay/{session_id}")
    if not may_review(who, meta.child, meta.room):
        return create_not_allowed_layout()
    store.audit(who.name, "replay", meta.child, meta.id)
    return create_replay_layout(data.replay_page(meta))


def _progress(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    child = match.group(1)
    if not (is_staff(who) and who.can_see_child(child)):
        return create_not_allowed_layout()
    progress = data.block_progress(store, child)
    if progress is None or progress.child != child:  # a display name in the URL: no
        return create_not_allowed_layout()
    store.audit(who.name, "progress", child, "")
    return create_progress_layout(progress)


def _plan(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    child = match.group(1)
    if not (is_staff(who) and who.can_see_child(child)):
        return create_not_allowed_layout()
    page = data.plan_page(store, child, date.today())
    return create_not_allowed_layout() if page is None else create_plan_layout(page)


def _admin(match: re.Match[str], query: dict[str, str], who: Principal, store: Store) -> Any:
    if not aa.is_admin(who, store):  # the account as it is now, not as at sign-in
        return create_not_allowed_layout()
    settings = flask.current_app.extensions["dmi"]["settings"]
    return create_admin_layout(who, data.admin_page(store, getattr(settings, "rooms", ()),
                                                    time.time()))


def _family_links(match: re.Match[str], query: dict[str, str], who: Principal,
                  store: Store) -> Any:
    if not aa.may_manage_links(who, store):
        return create_not_allowed_layout()
    return create_family_links_layout(who, *data.family_links(store, who, time.time()))


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
