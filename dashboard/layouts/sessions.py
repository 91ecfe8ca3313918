"""The sessions list: filter by child, therapist, room and date; one row per session with
its duration, sets, reps done/planned and data gaps, linking to the replay and progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from dash import dcc, html

from access import is_staff
from dashboard import ids
from dashboard.layouts.common import create_not_allowed_layout
from review import replay_views as rv
from review.metrics import SessionListRow, session_list
from review.people import author_names, name_of
from store import Store
from store import replay as store_replay

LIMIT = 200


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
                  start: Any, end: Any) -> list[SessionListRow]:
    since, until = date_range(start, end)
    return session_list(store, principal, child=_text(child), therapist=_text(therapist),
                        room=_text(room), since=since, until=until, limit=LIMIT)


def sessions_table(rows: Sequence[SessionListRow]) -> html.Table | html.P:
    if not rows:
        return html.P("No session matches these filters.")
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Date", "Child", "Room", "Therapist", "Duration", "Sets", "Reps done/planned",
        "Data gaps", "")]))
    body = []
    for r in rows:
        when = datetime.fromtimestamp(r.start).strftime("%Y-%m-%d %H:%M")
        by_hand = f" ({r.manual_reps} by hand)" if r.manual_reps else ""
        reps = f"{r.reps}/{r.planned_reps}{by_hand}"
        gaps = f"{r.gaps} ({r.gap_s:.0f} s)" if r.gaps else "none"
        body.append(html.Tr([
            html.Td(dcc.Link(when, href=f"/replay/{r.id}")),
            html.Td(r.child_label), html.Td(r.room), html.Td(r.therapist_name or "–"),
            html.Td(html.Span("running", className="sessions-live") if r.live
                    else rv.clock(r.duration_s), className="num"),
            html.Td(str(r.sets), className="num"), html.Td(reps, className="num"),
            html.Td(gaps, className="num" + (" sessions-gaps-bad" if r.gaps else "")),
            html.Td([dcc.Link("Replay", href=f"/replay/{r.id}"), " · ",
                     dcc.Link("Progress", href=f"/progress/{r.child}")]),
        ], **{"data-session": r.id}))
    return html.Table([head, html.Tbody(body)], className="sessions-table")


def count_text(rows: Sequence[SessionListRow]) -> str:
    more = f" (the newest {LIMIT})" if len(rows) >= LIMIT else ""
    return f"{len(rows)} session{'s' if len(rows) != 1 else ''}{more}"


def create_sessions_layout(principal: Any, store: Store, query: Mapping[str, str]) -> html.Div:
    """The sessions list; ``query`` may preset child, therapist, room, since, until."""
    if not is_staff(principal):
        return create_not_allowed_layout()
    children = [c for c in store.children() if principal.can_see_child(c.pseudonym)]
    rooms, therapists = store_replay.facets(store)
    names = author_names(store)
    rooms = [r for r in rooms if principal.can_see_room(r)]
    child, therapist, room = query.get("child"), query.get("therapist"), query.get("room")
    start, end = query.get("since"), query.get("until")
    rows = filtered_rows(store, principal, child, therapist, room, start, end)

    def dropdown(id_: str, options: list[dict[str, str]], value: Any, placeholder: str) -> Any:
        return dcc.Dropdown(id=id_, options=options, value=value, placeholder=placeholder,
                            clearable=True)

    return html.Div(className="sessions-page", children=[
        html.Header(className="page-header", children=[
            html.H1("Sessions"), dcc.Link("Home", href="/", className="button")]),
        html.Section(className="replay-card sessions-filters", children=[
            html.Label(["Child", dropdown(ids.SESSIONS_CHILD, [
                {"label": c.label, "value": c.pseudonym} for c in children], child, "any child")]),
            html.Label(["Therapist", dropdown(ids.SESSIONS_THERAPIST, [
                {"label": name_of(names, t), "value": t} for t in therapists], therapist,
                "any therapist")]),
            html.Label(["Room", dropdown(ids.SESSIONS_ROOM, [
                {"label": r, "value": r} for r in rooms], room, "any room")]),
            html.Label(["Date", dcc.DatePickerRange(id=ids.SESSIONS_DATES, start_date=start,
                                                    end_date=end, display_format="YYYY-MM-DD",
                                                    clearable=True)]),
        ]),
        html.P(count_text(rows), id=ids.SESSIONS_COUNT, className="replay-sub"),
        html.Section(sessions_table(rows), id=ids.SESSIONS_TABLE, className="replay-card"),
    ])
