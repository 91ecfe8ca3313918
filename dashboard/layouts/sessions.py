"""The sessions list: filter by child, therapist, room and date; one row per session with
its duration, sets, reps done/planned and data gaps, linking to the replay and progress.
Built from the filter choices and rows the router reads
(:func:`dashboard.page_data.session_filters`, :func:`dashboard.page_data.filtered_rows`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dash import dcc, html

from dashboard import ids
from review import replay_views as rv
from review.metrics import SessionListRow

if TYPE_CHECKING:
    from dashboard.page_data import SessionFilters

LIMIT = 200
"""The newest sessions listed (the loaders are asked for no more)."""


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


def create_sessions_layout(filters: SessionFilters, rows: Sequence[SessionListRow],
                           query: Mapping[str, str]) -> html.Div:
    """The sessions list; ``query`` may preset child, therapist, room, since, until (the
    ``rows`` are those that match it)."""
    child, therapist, room = query.get("child"), query.get("therapist"), query.get("room")
    start, end = query.get("since"), query.get("until")

    def dropdown(id_: str, options: list[dict[str, str]], value: Any, placeholder: str) -> Any:
        return dcc.Dropdown(id=id_, options=options, value=value, placeholder=placeholder,
                            clearable=True)

    return html.Div(className="sessions-page", children=[
        html.Header(className="page-header", children=[
            html.H1("Sessions"), dcc.Link("Home", href="/", className="button")]),
        html.Section(className="replay-card sessions-filters", children=[
            html.Label(["Child", dropdown(ids.SESSIONS_CHILD, [
                {"label": c.label, "value": c.pseudonym} for c in filters.children], child,
                "any child")]),
            html.Label(["Therapist", dropdown(ids.SESSIONS_THERAPIST, [
                {"label": name, "value": t} for t, name in filters.therapists], therapist,
                "any therapist")]),
            html.Label(["Room", dropdown(ids.SESSIONS_ROOM, [
                {"label": r, "value": r} for r in filters.rooms], room, "any room")]),
            html.Label(["Date", dcc.DatePickerRange(id=ids.SESSIONS_DATES, start_date=start,
                                                    end_date=end, display_format="YYYY-MM-DD",
                                                    clearable=True)]),
        ]),
        html.P(count_text(rows), id=ids.SESSIONS_COUNT, className="replay-sub"),
        html.Section(sessions_table(rows), id=ids.SESSIONS_TABLE, className="replay-card"),
    ])
