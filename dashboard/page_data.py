"""What the pages show, read from the store and the replay cache as plain rows and small
view-models for the builders of :mod:`dashboard.layouts` (which read nothing themselves).

Nothing here decides who may see what or writes the audit: the page functions of
:mod:`dashboard.routes` authorise first, then load through these functions, audit, and
build; the callbacks that redraw part of a page call the same loaders. No Dash here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from access import Principal
from dashboard import admin_actions as aa
from dashboard import cache
from dashboard.family_view import FamilyProgress, family_progress, session_days
from review import replay_data as rd
from review import replay_views as rv
from review.block import BlockProgress, load_block
from review.metrics import (
    ExerciseTrend,
    ProgressPoint,
    SessionListRow,
    SessionSummary,
    SetMetrics,
    exercise_trends,
    progress_points,
    session_list,
    session_summary,
)
from review.people import author_names, name_of
from store import Store
from store import replay as store_replay
from store.errors import UnknownChild
from store.plans import BlockRow
from store.rows import AuditRow, ChildRow, ExerciseRow, UserRow

# ----------------------------------------------------------------------------- small reads


def exercise_names(store: Store) -> dict[str, str]:
    return {e.key: e.name for e in store.exercises()}


def device_rooms(store: Store) -> list[str]:
    """The rooms of the known devices, sorted (imported sessions' devices have none)."""
    return sorted({d.room for d in store.devices() if d.room})


def child_row(store: Store, child: str) -> ChildRow | None:
    return next((c for c in store.children() if c.pseudonym == child), None)


def visible_children(store: Store, may_see: Callable[[str], bool]) -> list[ChildRow]:
    return [c for c in store.children() if may_see(c.pseudonym)]


# ----------------------------------------------------------------------------- administration


@dataclass(frozen=True)
class AdminPage:
    users: list[UserRow]
    children: list[ChildRow]
    exercises: list[ExerciseRow]
    rooms: list[str]
    links: list[aa.LinkView]
    kiosks: list[aa.KioskView]
    audit: list[AuditRow]


def admin_page(store: Store, settings_rooms: Iterable[str], now: float) -> AdminPage:
    """Everything the admin page shows (the caller checked that an admin asks)."""
    children, exercises = store.children(), store.exercises()
    return AdminPage(
        users=store.users(), children=children, exercises=exercises,
        rooms=aa.known_rooms(settings_rooms, store.devices()),
        links=aa.link_views(store.family_links(), now),
        kiosks=aa.kiosk_views(store.kiosk_links(), now),
        audit=store.audit_log(limit=aa.AUDIT_LIMITS[0]),
    )


def family_links(store: Store, principal: Principal, now: float, child: Any = None
                 ) -> tuple[list[ChildRow], list[aa.LinkView]]:
    """The children ``principal`` may see and their family links (of ``child`` alone when
    it names one), newest first."""
    return (visible_children(store, principal.can_see_child),
            aa.visible_links(store, principal.can_see_child, child, now))


def audit_rows(store: Store, child: Any, limit: Any) -> tuple[list[AuditRow], dict[str, str]]:
    """The audit log as filtered on the admin page, and every child's label."""
    child, limit = aa.audit_filter(child, limit)
    labels = {c.pseudonym: c.label for c in store.children()}
    return store.audit_log(limit=limit, child=child), labels


# ----------------------------------------------------------------------------- sessions


def parse_day(text: Any) -> float | None:
    """``"2026-01-05"`` (or an ISO date-time) → local midnight of that day, epoch seconds."""
    if not isinstance(text, str) or not text:
        return None
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day).timestamp()


def date_range(start: Any, end: Any) -> tuple[float | None, float | None]:
    """The ``[since, until)`` of a date picker: from the start day to the end of the end day."""
    until = parse_day(end)
    return parse_day(start), None if until is None else until + timedelta(days=1).total_seconds()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def filtered_rows(store: Store, principal: Any, child: Any, therapist: Any, room: Any,
                  start: Any, end: Any, *, limit: int) -> list[SessionListRow]:
    """The sessions matching the filters (as the browser sent them) that ``principal``
    may see, newest first, at most ``limit``."""
    since, until = date_range(start, end)
    return session_list(store, principal, child=_text(child), therapist=_text(therapist),
                        room=_text(room), since=since, until=until, limit=limit)


@dataclass(frozen=True)
class SessionFilters:
    children: list[ChildRow]
    rooms: list[str]
    therapists: list[tuple[str, str]]  # (stored id, the name a person reads)


def session_filters(store: Store, principal: Principal) -> SessionFilters:
    """The children, rooms and therapists the sessions list offers ``principal``."""
    children = visible_children(store, principal.can_see_child)
    rooms, therapists = store_replay.facets(store)
    names = author_names(store)
    return SessionFilters(children, [r for r in rooms if principal.can_see_room(r)],
                          [(t, name_of(names, t)) for t in therapists])


# ----------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class ReplayPage:
    meta: rd.SessionMeta
    metrics: list[SetMetrics]
    holes: list[tuple[float, float, str]]
    summary: SessionSummary
    timeline: rv.TimelineView
    board: rd.DeviceSignals | None


def session_meta(session_id: Any) -> rd.SessionMeta | None:
    return cache.session_meta(session_id)


def replay_page(meta: rd.SessionMeta) -> ReplayPage:
    """The first view of a replay (the caller checked access). The other IMUs' overviews
    load in a worker thread (:func:`dashboard.cache.warm`) while this one computes the
    per-set metrics; the order of the cache calls is the cold open's critical path."""
    cache.warm(meta)
    metrics = cache.session_metrics(meta)
    holes = cache.holes(meta)
    summary = session_summary(meta, metrics, [(a, b) for a, b, _ in holes])
    timeline = cache.timeline_view(meta, 0.0, meta.duration)
    board = cache.device_signals(meta, meta.board)
    return ReplayPage(meta, metrics, holes, summary, timeline, board)


# ----------------------------------------------------------------------------- progress, plan


def block_progress(store: Store, child: str) -> BlockProgress | None:
    """The child's current block, or None when the store knows no such child."""
    try:
        return load_block(store, child)
    except UnknownChild:
        return None


def sway_points(principal: Any, child: str, *, limit: int) -> list[ProgressPoint]:
    """Per session and exercise of the child's latest ``limit`` sessions the principal may
    see: support and sway (reads recorded samples, through the replay cache)."""
    return progress_points(cache.child_history(principal, child, limit=limit))


def sway_trends(principal: Any, child: str, *, limit: int) -> list[ExerciseTrend]:
    return exercise_trends(sway_points(principal, child, limit=limit))


@dataclass(frozen=True)
class PlanPage:
    child: ChildRow
    latest: BlockRow | None
    exercises: list[ExerciseRow]
    today: date


def plan_page(store: Store, child: str, today: date) -> PlanPage | None:
    """The child's latest block and the catalog, or None when there is no such child."""
    row = child_row(store, child)
    if row is None:
        return None
    latest = store.current_block(child, today)
    return PlanPage(row, latest, store.exercises(), today)


# ----------------------------------------------------------------------------- family page


def shared_notes(store: Store, child: str) -> list[tuple[float, str]]:
    """The notes shared with the family in the child's running session, oldest first."""
    running = [s for s in store.sessions(child=child) if s.end is None]
    if not running:
        return []
    latest = max(running, key=lambda s: s.start)
    return [(a.t, a.text or a.tag or "") for a in store.annotations(latest.id, family_only=True)
            if a.text or a.tag]


def family_progress_of(store: Store, child: str, *, sessions: int = 12) -> FamilyProgress:
    """The child's latest ended sessions as a family sees them (the caller checked access)."""
    history = []
    for row in store.sessions(child=child)[:sessions]:
        meta = cache.current_meta(row)
        if meta is not None and meta.ended:
            history.append((meta, cache.session_metrics(meta)))
    days = session_days([(meta.start, metrics) for meta, metrics in history])
    return family_progress(days, progress_points(history))
