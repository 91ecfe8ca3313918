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
