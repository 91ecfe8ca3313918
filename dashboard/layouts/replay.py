"""The supervisor replay of one session: timeline, stabilogram, per-set table, summary,
annotations and exports. ``create_replay_layout`` renders the whole first view (so a
page open is one round trip) from a :class:`dashboard.page_data.ReplayPage`, which the
router reads after checking access; later zooms go through
:mod:`dashboard.callbacks.replay`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dash import dcc, html

from dashboard import ids
from dashboard.figures_replay import stabilogram_figure, timeline_figure
from review import replay_data as rd
from review import replay_views as rv
from review.metrics import SessionSummary, SetMetrics

if TYPE_CHECKING:
    from dashboard.page_data import ReplayPage

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}
IN_VIEW_CLASS = "replay-set-row replay-set-in-view"
OUT_OF_VIEW_CLASS = "replay-set-row"

SET_COLUMNS = (
    ("number", "#"), ("exercise", "Exercise"), ("surface", "Surface"), ("support", "Support"),
    ("start", "Start"), ("duration", "Duration"), ("reps", "Reps done/planned"),
    ("ellipse", "Ellipse area (cm²)"), ("velocity", "Mean velocity (cm/s)"),
    ("frequency", "Mean freq. (Hz)"), ("tilt_rms", "Trunk tilt RMS (°)"),
    ("tilt_max", "Trunk tilt max (°)"), ("jerk", "ISway jerk (m²/s⁵)"),
    ("hold", "Longest hold (s)"), ("quality", "Quality"),
)
TEXT_COLUMNS = frozenset({"exercise", "surface", "support", "quality"})


def number(value: float, digits: int = 2) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def reps_text(done: int, planned: int, manual: int = 0) -> str:
    text = f"{done}/{planned}"
    return f"{text} ({manual} by hand)" if manual else text


def set_table_rows(metrics: Sequence[SetMetrics]) -> list[dict[str, Any]]:
    """One display row per set (strings, as the table shows them)."""
    return [{
        "id": m.set_id, "number": m.number, "exercise": m.exercise_name, "surface": m.surface,
        "support": m.support, "start": rv.clock(m.start_s), "duration": rv.clock(m.duration_s),
        "reps": reps_text(m.reps, m.planned_reps, m.manual_reps),
        "ellipse": number(m.ellipse_area_cm2), "velocity": number(m.mean_velocity_cm_s),
        "frequency": number(m.mean_frequency_hz), "tilt_rms": number(m.tilt_rms_deg, 1),
        "tilt_max": number(m.tilt_max_deg, 1), "jerk": number(m.isway_jerk_m2_s5, 2),
        "hold": number(m.longest_hold_s, 1), "quality": m.quality or "–",
    } for m in metrics]


def set_row_id(index: int) -> dict[str, Any]:
    """Pattern-matching id of row ``index`` of the set table (a click zooms to the set)."""
    return {"type": ids.REPLAY_SET_TABLE, "index": index}


def row_classes(n_rows: int, in_view: Sequence[int]) -> list[str]:
    shown = set(in_view)
    return [IN_VIEW_CLASS if i in shown else OUT_OF_VIEW_CLASS for i in range(n_rows)]


def set_table(metrics: Sequence[SetMetrics], in_view: Sequence[int]) -> html.Table:
    """The per-set table; rows in the visible time range carry ``replay-set-in-view``."""
    classes = row_classes(len(metrics), in_view)
    head = html.Thead(html.Tr([html.Th(name) for _, name in SET_COLUMNS]))
    body = [
        html.Tr([html.Td(row[key], className="text" if key in TEXT_COLUMNS else "num")
                 for key, _ in SET_COLUMNS],
                id=set_row_id(i), n_clicks=0, className=classes[i], title="Zoom to this set",
                **{"data-set": row["id"]})
        for i, row in enumerate(set_table_rows(metrics))
    ]
    return html.Table([head, html.Tbody(body)], id=ids.REPLAY_SET_TABLE,
                      className="sessions-table replay-set-table")


def in_view_caption(sets: Sequence[rd.SetInfo], rows: Sequence[int]) -> str:
    if not sets:
        return "This session has no sets."
    if not rows:
        return f"No set in view (of {len(sets)})."
    first, last = sets[rows[0]].number, sets[rows[-1]].number
    which = f"set {first}" if first == last else f"sets {first}–{last}"
    return f"In view: {which} of {len(sets)}"


def summary_items(summary: SessionSummary) -> list[tuple[str, str]]:
    completion = "" if not math.isfinite(summary.completion) else f" ({summary.completion:.0%})"
    support = (f"{summary.most_proximal_support} → {summary.most_distal_support}"
               if summary.most_distal_support else "–")
    return [
        ("Duration", rv.clock(summary.duration_s)),
        ("Sets", str(summary.sets)),
        ("Reps", reps_text(summary.reps, summary.planned_reps, summary.manual_reps) + completion),
        ("Time in sets", rv.clock(summary.time_in_sets_s)),
        ("Support", support),
        ("Ellipse area (median)", number(summary.median_ellipse_area_cm2) + " cm²"),
        ("Mean velocity (median)", number(summary.median_mean_velocity_cm_s) + " cm/s"),
        ("Trunk tilt RMS (median)", number(summary.median_tilt_rms_deg, 1) + " °"),
        ("Data gaps", f"{summary.gaps} ({summary.gap_s:.1f} s)"),
        ("Annotations", str(summary.notes)),
    ]


def _header(meta: rd.SessionMeta) -> html.Header:
    when = datetime.fromtimestamp(meta.start).strftime("%a %d %b %Y, %H:%M")
    status = "" if meta.ended else " · still running"
    return html.Header(className="page-header replay-header", children=[
        html.Div([
            html.H1(f"{meta.child_label} — {when}"),
            html.P(f"Room {meta.room} · therapist {meta.therapist_name or '–'} · "
                   f"{rv.clock(meta.duration)}{status}", className="replay-sub"),
        ]),
        html.Nav(className="replay-nav", children=[
            dcc.Link("All sessions", href="/sessions", className="button"),
            dcc.Link("Progress", href=f"/progress/{meta.child}", className="button"),
        ]),
    ])


def _exports() -> html.Section:
    return html.Section(className="replay-card replay-exports", children=[
        html.H2("Export"),
        html.Div(className="replay-export-buttons", children=[
            html.Button("Samples + events (CSV)", id=ids.REPLAY_EXPORT_CSV, className="button"),
            html.Button("Samples + events (Parquet)", id=ids.REPLAY_EXPORT_PARQUET,
                        className="button"),
            html.Button("PDF report", id=ids.REPLAY_EXPORT_PDF, className="button"),
        ]),
        html.Progress(id=ids.REPLAY_EXPORT_PROGRESS, value="0", max="100",
                      className="replay-progress", hidden=True),
        html.Span(id=ids.REPLAY_EXPORT_STATUS, className="replay-export-status"),
        html.A("Download", id=ids.REPLAY_EXPORT_LINK, className="button button-primary",
               hidden=True, href="", download=""),
        dcc.Store(id=ids.REPLAY_EXPORT_JOB),
        dcc.Interval(id=ids.REPLAY_EXPORT_POLL, interval=400, disabled=True),
    ])


def _notes(meta: rd.SessionMeta) -> html.Section:
    items = [html.Li([html.Span(rv.clock(n.t), className="replay-note-time"),
                      html.Span(n.author_name, className="replay-note-author"),
                      html.Span(n.tag, className="replay-note-tag") if n.tag else None,
                      html.Span(n.text)]) for n in meta.notes]
    return html.Section(className="replay-card", children=[
        html.H2("Annotations"),
        html.Ul(items, className="replay-notes") if items else html.P("None."),
    ])


def create_replay_layout(page: ReplayPage) -> html.Div:
    """The first view of the replay of ``page.meta``: the whole session."""
    meta, metrics, summary, board = page.meta, page.metrics, page.summary, page.board
    timeline = timeline_figure(meta, page.timeline, x_range=(0.0, meta.duration),
                               holes=page.holes)
    stabilogram = stabilogram_figure({"t": [], "ml": [], "ap": []} if board else None, at=None,
                                     frame=rv.cop_frame(board))
    rows = rv.sets_in_view(meta.sets, 0.0, meta.duration)
    return html.Div(id=ids.REPLAY_ROOT, className="replay-page", children=[
        _header(meta),
        html.Dl(className="replay-summary", children=[
            html.Div([html.Dt(k), html.Dd(v)], className="replay-stat")
            for k, v in summary_items(summary)
        ]),
        html.Main(className="replay-grid", children=[
            html.Section(className="replay-card replay-timeline", children=[
                html.Div(className="replay-toolbar", children=[
                    html.Span("Drag to zoom, scroll to zoom, shift-drag to pan; "
                              "click to place the cursor."),
                    html.Button("Whole session", id=ids.REPLAY_RESET, className="button"),
                ]),
                dcc.Graph(id=ids.REPLAY_TIMELINE, figure=timeline, config=GRAPH_CONFIG,
                          className="replay-timeline-graph", style={"height": "38rem"}),
            ]),
            html.Section(className="replay-card replay-stabilogram", children=[
                html.H2("Stabilogram at the cursor"),
                dcc.Graph(id=ids.REPLAY_STABILOGRAM, figure=stabilogram,
                          config={"displayModeBar": False, "responsive": True},
                          className="replay-stabilogram-graph", style={"height": "24rem"}),
                html.Div(className="replay-play", children=[
                    html.Button("▶ Play", id=ids.REPLAY_PLAY, className="button button-primary",
                                disabled=board is None),
                    dcc.RadioItems(id=ids.REPLAY_SPEED, value=1, inline=True,
                                   options=[{"label": "1×", "value": 1},
                                            {"label": "4×", "value": 4}],
                                   className="replay-speed"),
                    html.Span("Click the timeline to place the cursor.",
                              id=ids.REPLAY_CURSOR_LABEL, className="replay-cursor-label"),
                ]),
            ]),
        ]),
        html.Section(className="replay-card", children=[
            html.Div(className="replay-table-head", children=[
                html.H2("Sets"),
                html.Span(in_view_caption(meta.sets, rows), id=ids.REPLAY_SET_CAPTION,
                          className="replay-set-caption"),
            ]),
            html.Div(set_table(metrics, rows), className="replay-table-scroll"),
        ]),
        html.Div(className="replay-lower", children=[_notes(meta), _exports()]),
        dcc.Store(id=ids.REPLAY_SESSION, data=meta.id),
        dcc.Store(id=ids.REPLAY_CURSOR),
        dcc.Store(id=ids.REPLAY_WINDOW),
        dcc.Store(id=ids.REPLAY_PLAY_FETCH),
        dcc.Store(id=ids.REPLAY_PLAY_STATE),
        dcc.Store(id=ids.REPLAY_VIEW, data=[0.0, meta.duration]),
    ])
