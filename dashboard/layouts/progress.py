"""A child's progress across sessions: per exercise, the support point (did it move
distally?), sway (did it fall?) and reps done against planned."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from access import is_staff
from dashboard import cache, ids
from dashboard.figures_replay import PROGRESS_METRICS, progress_figure
from dashboard.layouts.common import create_not_allowed_layout
from review.metrics import ExerciseTrend, exercise_trends, progress_points
from store import Store

SESSIONS = 20
CHANGE = 0.05
"""A sway change smaller than this (relative) is shown as no change."""


def _day(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%d %b %Y")


def _percent(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.0%}"


def trends_table(trends: Sequence[ExerciseTrend]) -> html.Table | html.P:
    if not trends:
        return html.P("No sets recorded for this child yet.")
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "Exercise", "Sessions", "First → latest", "Support", "Ellipse area (cm²)",
        "Reps done/planned")]))
    body = []
    for t in trends:
        moved = ("moved distally" if t.support_change > 0 else
                 "moved proximally" if t.support_change < 0 else "same")
        support_class = ("progress-better" if t.support_change > 0 else
                         "progress-worse" if t.support_change < 0 else "")
        if math.isfinite(t.sway_change):
            sway = f"{t.sway_first:.1f} → {t.sway_last:.1f} ({t.sway_change:+.0%})"
            sway_class = ("progress-better" if t.sway_change < -CHANGE else
                          "progress-worse" if t.sway_change > CHANGE else "")
        else:
            sway, sway_class = "–", ""
        body.append(html.Tr([
            html.Td(t.exercise_name), html.Td(str(t.sessions), className="num"),
            html.Td(f"{_day(t.first)} → {_day(t.last)}"),
            html.Td([f"{t.support_first} → {t.support_last} ",
                     html.Span(f"({moved})", className=support_class)]),
            html.Td(html.Span(sway, className=sway_class)),
            html.Td(f"{_percent(t.completion_first)} → {_percent(t.completion_last)}"),
        ]))
    return html.Table([head, html.Tbody(body)], className="sessions-table")


def create_progress_layout(principal: Any, store: Store, child: str) -> html.Div:
    if not is_staff(principal) or not principal.can_see_child(child):
        return create_not_allowed_layout()
    store.audit(principal.name, "progress", child, "")
    history = cache.child_history(principal, child, limit=SESSIONS)
    label = next((c.label for c in store.children() if c.pseudonym == child), child)
    points = progress_points(history)
    trends = exercise_trends(points)
    exercise = trends[0].exercise if trends else None
    metric = next(iter(PROGRESS_METRICS))
    return html.Div(className="progress-page", children=[
        html.Header(className="page-header", children=[
            html.Div([html.H1(f"Progress — {label}"),
                      html.P(f"Latest {len(history)} sessions", className="replay-sub")]),
            dcc.Link("All sessions", href=f"/sessions?child={child}", className="button"),
        ]),
        html.Section(className="replay-card", children=[
            html.H2("By exercise: first against latest session"),
            html.Div(trends_table(trends), id=ids.PROGRESS_TRENDS),
        ]),
        html.Section(className="replay-card", children=[
            html.Div(className="progress-controls", children=[
                html.Label(["Exercise", dcc.Dropdown(
                    id=ids.PROGRESS_EXERCISE, value=exercise, clearable=False,
                    options=[{"label": t.exercise_name, "value": t.exercise} for t in trends])]),
                html.Label(["Sway measure", dcc.RadioItems(
                    id=ids.PROGRESS_METRIC, value=metric, inline=True,
                    options=[{"label": v, "value": k} for k, v in PROGRESS_METRICS.items()])]),
            ]),
            dcc.Graph(id=ids.PROGRESS_GRAPH, className="progress-graph", style={"height": "34rem"},
                      figure=progress_figure(points, exercise, metric),
                      config={"displaylogo": False, "responsive": True}),
        ]),
        dcc.Store(id=ids.PROGRESS_CHILD, data=child),
    ])
