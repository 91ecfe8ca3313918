"""A child's progress page: the block view first (plan against done, carry-over, support
and goals over the days, every session one click from its replay; :mod:`.block`), then
sway across sessions (per exercise, the support point and sway, first against latest),
which reads recorded samples and so is filled in by a callback after the page opens.
Built from a :class:`review.block.BlockProgress` and the trends the callers read."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.figures_replay import PROGRESS_METRICS
from dashboard.layouts.block import create_block_view
from review.block import BlockProgress
from review.metrics import ExerciseTrend

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


def sway_section(trends: Sequence[ExerciseTrend]) -> tuple[Any, list[dict[str, str]], Any]:
    """The sway trends table, the exercise options and the first exercise."""
    return (trends_table(trends),
            [{"label": t.exercise_name, "value": t.exercise} for t in trends],
            trends[0].exercise if trends else None)


def create_progress_layout(progress: BlockProgress) -> html.Div:
    """The progress page of ``progress.child`` (the sway section is filled in later)."""
    child = progress.child
    metric = next(iter(PROGRESS_METRICS))
    return html.Div(className="progress-page", children=[
        html.Header(className="page-header", children=[
            html.Div([html.H1(f"Progress — {progress.name or child}"),
                      html.P(f"{len(progress.sessions)} sessions in view",
                             className="replay-sub")]),
            dcc.Link("All sessions", href=f"/sessions?child={child}", className="button"),
        ]),
        create_block_view(progress, report_href=f"/progress/{child}/block-report.pdf",
                          plan_href=f"/plan/{child}"),
        html.Section(className="replay-card", id=ids.PROGRESS_SWAY, children=[
            html.H2(f"Sway across the latest {SESSIONS} sessions: first against latest"),
            dcc.Loading(html.Div(html.P("Loading…"), id=ids.PROGRESS_TRENDS)),
            html.Div(className="progress-controls", children=[
                html.Label(["Exercise", dcc.Dropdown(
                    id=ids.PROGRESS_EXERCISE, value=None, clearable=False, options=[])]),
                html.Label(["Sway measure", dcc.RadioItems(
                    id=ids.PROGRESS_METRIC, value=metric, inline=True,
                    options=[{"label": v, "value": k} for k, v in PROGRESS_METRICS.items()])]),
            ]),
            dcc.Graph(id=ids.PROGRESS_GRAPH, className="progress-graph", style={"height": "34rem"},
                      figure={"data": [], "layout": {}},
                      config={"displaylogo": False, "responsive": True}),
        ]),
        dcc.Store(id=ids.PROGRESS_CHILD, data=child),
    ])
