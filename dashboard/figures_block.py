"""Figures of the block view: the support point per exercise over the days."""

from __future__ import annotations

from typing import Any

from contract.vocab import SUPPORT_POINTS
from review.block import BlockProgress
from review.carryover import longest_hold

BG, PANEL, FG, GRID = "#0b0f14", "#121923", "#e8eef5", "#243040"


def support_figure(progress: BlockProgress) -> dict[str, Any]:
    """Per exercise, the day's most distal support point (up = less support); the plan's
    aim as a dotted line of the same exercise."""
    data: list[dict[str, Any]] = []
    for e in progress.exercises:
        if not e.support_days:
            continue
        days = [d.isoformat() for d, _ in e.support_days]
        data.append({"type": "scatter", "mode": "lines+markers", "name": e.name,
                     "legendgroup": e.exercise, "x": days,
                     "y": [SUPPORT_POINTS.index(s) for _, s in e.support_days],
                     "hovertemplate": "%{x}: %{text}<extra>" + e.name + "</extra>",
                     "text": [s for _, s in e.support_days]})
        if e.support_target in SUPPORT_POINTS and len(days) > 1:
            aim = SUPPORT_POINTS.index(e.support_target)
            data.append({"type": "scatter", "mode": "lines", "name": f"aim: {e.name}",
                         "legendgroup": e.exercise, "showlegend": False,
                         "x": [days[0], days[-1]], "y": [aim, aim],
                         "line": {"dash": "dot", "width": 1}, "hoverinfo": "skip"})
    return {"data": data, "layout": {
        "margin": {"l": 90, "r": 10, "t": 10, "b": 40}, "height": 320,
        "paper_bgcolor": BG, "plot_bgcolor": PANEL, "font": {"color": FG, "size": 12},
        "yaxis": {"tickvals": list(range(len(SUPPORT_POINTS))), "ticktext": list(SUPPORT_POINTS),
                  "range": [-0.3, len(SUPPORT_POINTS) - 0.7], "title": "support point",
                  "gridcolor": GRID},
        "xaxis": {"type": "date", "gridcolor": GRID},
        "legend": {"orientation": "h", "y": -0.2}}}


def family_holds_figure(progress: BlockProgress) -> dict[str, Any] | None:
    """Per hold exercise, the longest hold of each day (seconds); None without holds."""
    names = {e.exercise: e.name for e in progress.exercises if e.measure == "hold"}
    best: dict[str, dict[str, float]] = {key: {} for key in names}
    for session in progress.sessions:
        day = session.day.isoformat()
        for s in session.sets:
            hold = longest_hold(s) if s.exercise in best else None
            if hold is not None:
                best[s.exercise][day] = max(hold, best[s.exercise].get(day, 0.0))
    data = [{"type": "scatter", "mode": "lines+markers", "name": names[key],
             "x": sorted(days), "y": [round(days[d]) for d in sorted(days)],
             "hovertemplate": "%{x}: %{y} s<extra>" + names[key] + "</extra>"}
            for key, days in best.items() if days]
    if not data:
        return None
    return {"data": data, "layout": {
        "margin": {"l": 45, "r": 10, "t": 10, "b": 40}, "height": 260, "showlegend": len(data) > 1,
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": FG, "size": 13},
        "yaxis": {"rangemode": "tozero", "gridcolor": GRID, "ticksuffix": " s"},
        "xaxis": {"type": "date", "gridcolor": GRID},
        "legend": {"orientation": "h", "y": -0.25}}}


def carry_figure(progress: BlockProgress) -> dict[str, Any]:
    """One row per exercise: each session's first set → last set as a rising segment, and
    a dotted line to where the next session started (flat: kept; back down: lost)."""
    started = {s.id: s.started * 1000 for s in progress.sessions}  # plotly wants ms
    rows = [e for e in progress.exercises if e.carry]
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "margin": {"l": 60, "r": 10, "t": 24, "b": 40}, "height": 150 + 170 * len(rows),
        "paper_bgcolor": BG, "plot_bgcolor": PANEL, "font": {"color": FG, "size": 12},
        "showlegend": False, "annotations": []}
    gap = 0.08
    for i, e in enumerate(rows):
        axis = "" if i == 0 else str(i + 1)
        x_in, y_in, x_next, y_next = [], [], [], []
        for p in e.carry:
            t0 = started.get(p.session)
            if t0 is None:
                continue
            x_in += [t0, t0 + 20 * 60_000, None]
            y_in += [p.first, p.last, None]
            if p.next_session in started and p.next_first is not None:
                x_next += [t0 + 20 * 60_000, started[p.next_session], None]
                y_next += [p.last, p.next_first, None]
        unit = "s" if e.measure == "hold" else "level"
        data.append({"type": "scatter", "mode": "lines+markers", "x": x_in, "y": y_in,
                     "xaxis": f"x{axis}", "yaxis": f"y{axis}", "name": e.name,
                     "line": {"color": "#4fb3ff", "width": 3},
                     "hovertemplate": "%{y}" + f" {unit}<extra>{e.name}</extra>"})
        data.append({"type": "scatter", "mode": "lines", "x": x_next, "y": y_next,
                     "xaxis": f"x{axis}", "yaxis": f"y{axis}", "hoverinfo": "skip",
                     "line": {"color": "#9fb0c3", "width": 1, "dash": "dot"}})
        top = 1 - i / len(rows)
        bottom = 1 - (i + 1) / len(rows) + gap
        layout[f"yaxis{axis}"] = {"domain": [bottom, top - gap / 2], "gridcolor": GRID,
                                  "title": {"text": unit}}
        layout[f"xaxis{axis}"] = {"type": "date", "gridcolor": GRID, "anchor": f"y{axis}",
                                  **({"matches": "x"} if i else {})}
        layout["annotations"].append({
            "text": f"{e.name}: carry-over {_text(e.carry_over)} next session, "
                    f"{_text(e.carry_over_next_day)} next day",
            "xref": "paper", "yref": "paper", "x": 0, "y": top, "xanchor": "left",
            "yanchor": "bottom", "showarrow": False, "font": {"size": 12}})
    return {"data": data, "layout": layout}


def _text(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
