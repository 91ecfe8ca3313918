"""Figures of the replay, sessions and progress pages: pure functions data → figure dict.

Plain dicts, not ``go.Figure``: a timeline re-renders on every zoom, and skipping the
figure validation keeps a re-render to a few milliseconds. The timeline is one figure
with a single date x-axis and one y-axis per row, so zoom and pan are linked across
every row by construction. Its x values are milliseconds since 1970-01-01 UTC standing
for the time since the session start (ticks read as elapsed ``HH:MM:SS``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from contract.vocab import SUPPORT_POINTS
from review.metrics import ProgressPoint
from review.replay_data import SessionMeta, SetInfo
from review.replay_views import TimelineView, clock

BG, PANEL, FG, MUTED, GRID = "#0b0f14", "#121923", "#e8eef5", "#9fb0c3", "#243040"
COLOURS = {
    "ml": "#4fd1ff", "ap": "#ffb347", "pitch": "#ff8c69", "roll": "#b48cff",
    "omega.trunk": "#7ee2a8", "omega.pelvis": "#ffd166", "omega.head": "#f78fb3",
}
SUPPORT_COLOURS = dict(zip(SUPPORT_POINTS, (
    "#e76f51", "#f4a261", "#e9c46a", "#a7c957", "#2a9d8f", "#4ea8de", "#8ecae6"), strict=True))
GAP_FILL = "rgba(255, 77, 77, 0.22)"
ROWS = {  # row → (y-axis, domain, title)
    "events": ("y", (0.84, 1.0), ""),  # reps, gaps and up to three rows of note labels
    "cop": ("y2", (0.555, 0.815), "COP (cm)"),
    "tilt": ("y3", (0.28, 0.53), "trunk tilt (°)"),
    "omega": ("y4", (0.0, 0.255), "|ω| (°/s)"),
}
PLOT_WIDTH_PX = 1200
CHAR_PX = 7.5


def plain(values: Any, digits: int = 3) -> list[float | None]:
    """Numbers as a JSON-ready list, rounded, NaN as None (lists serialise ~5× faster
    than numpy arrays through Dash's encoder, and are smaller on the wire)."""
    rounded = np.round(np.asarray(values, dtype=np.float64), digits).tolist()
    return [None if v != v else v for v in rounded]


def ms(seconds: Any) -> list[float | None]:
    """Seconds since the session start → x values of the date axis (ms)."""
    return plain(np.asarray(seconds, dtype=np.float64) * 1000.0, 1)


def ms1(seconds: float) -> float:
    return round(float(seconds) * 1000.0, 1)


def _axis(**extra: Any) -> dict[str, Any]:
    return {"gridcolor": GRID, "zerolinecolor": GRID, "color": MUTED, **extra}


def _trace_colour(key: str, name: str) -> str:
    channel = key.rsplit(".", 1)[-1]
    if channel == "omega":
        return next((c for k, c in COLOURS.items() if k.startswith("omega.") and
                     name.startswith(k.split(".")[1])), "#cfd8e3")
    return COLOURS.get(channel, "#cfd8e3")


def _band_label(info: SetInfo, width_px: float) -> str:
    if width_px >= CHAR_PX * len(info.label):
        return info.label
    short = f"{info.number} · {info.exercise_name}"
    return short if width_px >= CHAR_PX * len(short) else str(info.number)


REP_Y, GAP_Y = 0.3, 0.7
NOTE_STAR_PX = 16  # a note's star and a little air before its label
NOTE_ROWS = (1.05, 1.5, 1.95)
"""Heights of the note labels on the events row: a label that would run into the one
before it moves up a row; with no row free it is left out (its star and hover stay)."""


def note_rows(times: Sequence[float], labels: Sequence[str], t0: float, span: float
              ) -> list[tuple[float, str]]:
    """Per note (in ``times`` order): its height and its label text, so that no label runs
    into another label or star at this zoom (``t0``, ``span`` seconds on screen). With no
    row free, a note's star goes where a row frees soonest and that row's label is cut
    short (``…``) or left out; the hover keeps every note whole.

    >>> note_rows([10, 11, 12, 13], ["fatigue", "cried", "great", "x"], 0, 600)
    [(1.05, 'fatigue'), (1.5, ''), (1.95, 'great'), (1.5, '')]
    """
    order = sorted(range(len(times)), key=lambda i: times[i])
    placed: list[tuple[float, str]] = [(NOTE_ROWS[0], "")] * len(times)
    free_from = [-math.inf] * len(NOTE_ROWS)  # px where each row is free again
    last: list[tuple[int, float] | None] = [None] * len(NOTE_ROWS)  # (note, x) per row
    for i in order:
        x = (times[i] - t0) / span * PLOT_WIDTH_PX
        row = next((r for r, free in enumerate(free_from) if x >= free), None)
        if row is not None:
            placed[i] = (NOTE_ROWS[row], labels[i])
            free_from[row] = x + CHAR_PX * len(labels[i]) + NOTE_STAR_PX
        else:  # crowded: cut the label this star would run into
            row = min(range(len(NOTE_ROWS)), key=lambda r: free_from[r])
            before = last[row]
            if before is not None:
                j, xj = before
                keep = int((x - xj - NOTE_STAR_PX) / CHAR_PX) - 1
                text = labels[j][:keep] + "…" if keep >= 3 else ""
                placed[j] = (placed[j][0], text)
            placed[i] = (NOTE_ROWS[row], "")
            free_from[row] = x + NOTE_STAR_PX
        last[row] = (i, x)
    return placed


def _events_traces(meta: SessionMeta, t0: float, span: float) -> list[dict[str, Any]]:
    traces = []
    by_set = {s.id: s.number for s in meta.sets}
    styles = (("auto", "rep (auto)", "triangle-up", "#4fd1ff"),
              ("manual", "rep (manual)", "diamond", "#ffc93c"),
              ("revoked", "rep (revoked)", "x-thin-open", "#7d8a99"))
    for kind, name, symbol, colour in styles:
        reps = [r for r in meta.reps if (r.revoked if kind == "revoked" else
                                         not r.revoked and r.source == kind)]
        traces.append({
            "type": "scatter", "mode": "markers", "name": name, "legendgroup": "reps",
            "x": ms([r.t for r in reps]), "y": [REP_Y] * len(reps), "yaxis": "y",
            "marker": {"symbol": symbol, "size": 11, "color": colour,
                       "line": {"color": colour, "width": 1.5}},
            "hovertext": [f"{name} {clock(r.t)} · set {by_set.get(r.set_id, '?')}"
                          for r in reps],
            "hoverinfo": "text",
        })
    notes = meta.notes
    rows = note_rows([n.t for n in notes], [n.label for n in notes], t0, span)
    traces.append({
        "type": "scatter", "mode": "markers+text", "name": "annotation",
        "x": ms([n.t for n in notes]), "y": [y for y, _ in rows], "yaxis": "y",
        "text": [text for _, text in rows], "textposition": "middle right",
        "textfont": {"color": FG, "size": 11},
        "marker": {"symbol": "star", "size": 12, "color": "#e8eef5"},
        "hovertext": [f"{clock(n.t)} {n.author_name}: {n.tag} {n.text}".strip() for n in notes],
        "hoverinfo": "text",
    })
    return traces


def _gap_spans(meta: SessionMeta, holes: Sequence[tuple[float, float, str]]
               ) -> list[tuple[float, float, str]]:
    return [(g.start, g.end, g.label) for g in meta.gaps] + list(holes)


def timeline_figure(meta: SessionMeta, view: TimelineView, *, x_range: tuple[float, float],
                    cursor: float | None = None,
                    holes: Sequence[tuple[float, float, str]] = ()) -> dict[str, Any]:
    """The replay timeline: set bands, gaps, reps, annotations and the signal rows.

    ``holes``: data missing in the samples themselves, ``(start, end, label)``.
    """
    t0, t1 = x_range
    span = max(t1 - t0, 1e-3)
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for info in meta.sets:
        colour = SUPPORT_COLOURS.get(info.support, "#8899aa")
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "layer": "below",
                       "x0": ms1(info.start), "x1": ms1(info.end), "y0": 0, "y1": 1,
                       "fillcolor": colour, "opacity": 0.16, "line": {"width": 0},
                       "name": f"set-{info.number}"})
        if info.end >= t0 and info.start <= t1:
            visible = (min(info.end, t1) - max(info.start, t0)) / span * PLOT_WIDTH_PX
            annotations.append({
                "x": ms1(max(info.start, t0)), "xref": "x", "y": 1.0, "yref": "paper",
                "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                "text": _band_label(info, visible), "hovertext": info.label,
                "font": {"color": colour, "size": 12},
            })
    gaps = _gap_spans(meta, holes)
    for start, end, _label in gaps:
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "layer": "above",
                       "x0": ms1(start), "x1": ms1(max(end, start + span / 400)),
                       "y0": 0, "y1": ROWS["cop"][1][1], "fillcolor": GAP_FILL,
                       "line": {"width": 0}, "name": "gap"})
    shapes.append({"type": "line", "xref": "x", "yref": "paper", "name": "cursor",
                   "x0": ms1(cursor or 0.0), "x1": ms1(cursor or 0.0),
                   "y0": 0, "y1": 1, "visible": cursor is not None,
                   "line": {"color": "#ffffff", "width": 1.5, "dash": "dot"}})
    traces = _events_traces(meta, t0, span)
    traces.append({
        "type": "scatter", "mode": "markers", "name": "data gap", "yaxis": "y",
        "x": ms([(a + b) / 2 for a, b, _ in gaps]), "y": [GAP_Y] * len(gaps),
        "marker": {"symbol": "square", "size": 9, "color": "#ff4d4d"},
        "hovertext": [f"gap {clock(a)}–{clock(b)} ({b - a:.1f} s) {label}" for a, b, label in gaps],
        "hoverinfo": "text",
    })
    for tr in view.traces:
        axis = ROWS[tr.row][0]
        traces.append({
            "type": "scatter", "mode": "lines", "name": tr.name, "x": ms(tr.x), "y": plain(tr.y),
            "yaxis": axis, "line": {"width": 1.2, "color": _trace_colour(tr.key, tr.name)},
            "connectgaps": False, "hovertemplate": "%{y:.2f}<extra>" + tr.name + "</extra>",
        })
    layout: dict[str, Any] = {
        "paper_bgcolor": BG, "plot_bgcolor": PANEL, "font": {"color": FG, "size": 12},
        "margin": {"l": 64, "r": 16, "t": 28, "b": 36}, "hovermode": "x",
        "dragmode": "zoom", "uirevision": meta.id, "shapes": shapes, "annotations": annotations,
        "legend": {"orientation": "h", "x": 0, "y": -0.06, "yanchor": "top",
                   "font": {"size": 11}},
        "xaxis": _axis(type="date", anchor="y4", range=[ms1(t0), ms1(t1)],
                       uirevision=f"{t0:.3f}:{t1:.3f}", tickformat="%H:%M:%S",
                       tickformatstops=[{"dtickrange": [None, 1000], "value": "%H:%M:%S.%L"}],
                       showspikes=True, spikemode="across", spikecolor=MUTED, spikethickness=1),
    }
    for _row, (axis, domain, title) in ROWS.items():
        name = "yaxis" + axis[1:]
        layout[name] = _axis(domain=list(domain), fixedrange=True, title={"text": title},
                             anchor="x")
    layout["yaxis"].update(range=[0, 2.2], tickvals=[REP_Y, NOTE_ROWS[1]],
                           ticktext=["reps", "notes"],
                           showgrid=False, zeroline=False)
    return {"data": traces, "layout": layout}


def stabilogram_figure(window: dict[str, Any] | None, *, at: float | None,
                       frame: tuple[float, float, float], tail_s: float = 5.0) -> dict[str, Any]:
    """COP around the cursor: the last ``tail_s`` seconds bright, the next ones faint.

    ``window`` is :func:`review.replay_data.cop_window` output (or None: no board);
    ``frame`` the fixed ``(centre_ml, centre_ap, half_range)`` of the session.
    """
    cx, cy, half = frame
    before: tuple[list[Any], list[Any]] = ([], [])
    after: tuple[list[Any], list[Any]] = ([], [])
    now: tuple[list[Any], list[Any]] = ([], [])
    if window and at is not None:
        t = np.asarray(window["t"], dtype=float)
        ml, ap = list(window["ml"]), list(window["ap"])
        i0 = int(np.searchsorted(t, at - tail_s))
        i1 = int(np.searchsorted(t, at, side="right"))
        i2 = int(np.searchsorted(t, at + tail_s, side="right"))
        joint = i1 - 1 if i1 else 0  # the future line starts where the past one ends
        before, after = (ml[i0:i1], ap[i0:i1]), (ml[joint:i2], ap[joint:i2])
        if i1:
            now = ([ml[i1 - 1]], [ap[i1 - 1]])
    traces = [
        {"type": "scatter", "mode": "lines", "name": f"last {tail_s:g} s", "x": before[0],
         "y": before[1], "line": {"color": COLOURS["ml"], "width": 2}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "name": f"next {tail_s:g} s", "x": after[0],
         "y": after[1], "line": {"color": "#4a6378", "width": 1}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "name": "now", "x": now[0], "y": now[1],
         "marker": {"color": "#ffffff", "size": 10}, "hoverinfo": "skip"},
    ]
    note = "" if window is not None else "no balance board in this session"
    return {"data": traces, "layout": {
        "paper_bgcolor": BG, "plot_bgcolor": PANEL, "font": {"color": FG, "size": 12},
        "margin": {"l": 48, "r": 10, "t": 10, "b": 40}, "showlegend": False,
        "uirevision": "stabilogram",
        "xaxis": _axis(range=[cx - half, cx + half], title={"text": "ML (cm, +right)"},
                       fixedrange=True, constrain="domain"),
        "yaxis": _axis(range=[cy - half, cy + half], title={"text": "AP (cm, +forward)"},
                       fixedrange=True, scaleanchor="x"),
        "annotations": [{"text": note, "showarrow": False, "xref": "paper", "yref": "paper",
                         "x": 0.5, "y": 0.5, "font": {"color": MUTED}}] if note else [],
    }}


PROGRESS_METRICS = {
    "ellipse_area_cm2": "sway ellipse area (cm²)",
    "mean_velocity_cm_s": "COP mean velocity (cm/s)",
    "tilt_rms_deg": "trunk tilt RMS (°)",
}


BAR_MS = 6 * 3600 * 1000
DAY_S = 86400.0


def _date_range(starts: Sequence[float]) -> list[str] | None:
    """A few days of margin around the sessions (one session alone is not a range)."""
    if not starts:
        return None
    pad = max(3 * DAY_S, 0.05 * (max(starts) - min(starts)))
    return [datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")
            for t in (min(starts) - pad, max(starts) + pad)]


def progress_figure(points: Sequence[ProgressPoint], exercise: str | None,
                    metric: str = "ellipse_area_cm2") -> dict[str, Any]:
    """One exercise across sessions: support point, a sway measure, reps done/planned."""
    chosen = [p for p in points if p.exercise == exercise]
    x = [datetime.fromtimestamp(p.start).strftime("%Y-%m-%d %H:%M") for p in chosen]
    values = [getattr(p, metric) for p in chosen]
    traces = [
        {"type": "scatter", "mode": "lines+markers", "name": "support point", "x": x,
         "y": [p.support_level for p in chosen], "yaxis": "y", "line": {"shape": "hv"},
         "marker": {"size": 10, "color": [SUPPORT_COLOURS.get(p.support, "#888") for p in chosen]},
         "hovertext": [f"{p.support} · {p.surfaces}" for p in chosen], "hoverinfo": "text+x"},
        {"type": "scatter", "mode": "lines+markers", "name": PROGRESS_METRICS.get(metric, metric),
         "x": x, "y": [None if not math.isfinite(v) else v for v in values], "yaxis": "y2",
         "line": {"color": COLOURS["ml"]}},
        {"type": "bar", "name": "reps planned", "x": x, "y": [p.planned_reps for p in chosen],
         "yaxis": "y3", "marker": {"color": "#3a4a5e"}, "width": BAR_MS},
        {"type": "bar", "name": "reps done", "x": x, "y": [p.reps for p in chosen],
         "yaxis": "y3", "marker": {"color": "#7ee2a8"}, "width": BAR_MS / 2},
    ]
    return {"data": traces, "layout": {
        "paper_bgcolor": BG, "plot_bgcolor": PANEL, "font": {"color": FG, "size": 12},
        "margin": {"l": 110, "r": 16, "t": 16, "b": 40}, "barmode": "overlay",
        "legend": {"orientation": "h", "y": -0.12},
        "xaxis": _axis(type="date", anchor="y3", range=_date_range([p.start for p in chosen])),
        "yaxis": _axis(domain=[0.68, 1.0], range=[-0.5, len(SUPPORT_POINTS) - 0.5],
                       tickvals=list(range(len(SUPPORT_POINTS))), ticktext=list(SUPPORT_POINTS),
                       title={"text": "support"}, fixedrange=True),
        "yaxis2": _axis(domain=[0.36, 0.64], title={"text": PROGRESS_METRICS.get(metric, metric)},
                        rangemode="tozero", fixedrange=True),
        "yaxis3": _axis(domain=[0.0, 0.32], title={"text": "reps"}, rangemode="tozero",
                        fixedrange=True),
    }}
