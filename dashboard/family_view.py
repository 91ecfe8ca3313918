"""What a family sees of their child's progress: plain words, encouraging, no jargon.

Pure functions from the supervisors' per-set metrics (:mod:`review.metrics`)
to sentences and one small chart. Steadiness is relative to the child's own start on the
same exercise (:func:`analysis.score.stability_score` with the first session's sway as
the reference): 50 means "as at the start", higher is steadier.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import plotly.graph_objects as go

from analysis.score import stability_score
from review.metrics import ProgressPoint, SetMetrics

SUPPORT_WORDS = {
    "trunk": "at the trunk", "pelvis": "at the hips", "thigh": "at the thighs",
    "knee": "at the knees", "shank": "at the lower legs", "ankle-foot": "at the feet",
    "none": "without any hands-on help",
}


@dataclass(frozen=True)
class SessionDay:
    day: str
    reps: int
    planned: int
    longest_hold_s: float


@dataclass(frozen=True)
class ExerciseStory:
    exercise_name: str
    sessions: int
    steadiness: float | None  # latest, relative to the first session (50 = same as then)
    sentence: str


@dataclass(frozen=True)
class FamilyProgress:
    days: tuple[SessionDay, ...]
    stories: tuple[ExerciseStory, ...]
    headline: str


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d %b")


def session_days(history: Sequence[tuple[float, Sequence[SetMetrics]]]) -> list[SessionDay]:
    """One entry per session (oldest first): reps done and planned, longest hold."""
    days = []
    for start, metrics in sorted(history, key=lambda item: item[0]):
        holds = [m.longest_hold_s for m in metrics if math.isfinite(m.longest_hold_s)]
        days.append(SessionDay(_day(start), sum(m.reps for m in metrics),
                               sum(m.planned_reps for m in metrics), max(holds, default=0.0)))
    return days


def exercise_story(points: Sequence[ProgressPoint]) -> ExerciseStory:
    """First against latest session of one exercise, in words a family understands."""
    ordered = sorted(points, key=lambda p: p.start)
    first, last = ordered[0], ordered[-1]
    name = first.exercise_name
    if len(ordered) == 1:
        return ExerciseStory(name, 1, None, f"{name}: a new exercise — a great start!")
    steadiness = None
    if first.ellipse_area_cm2 > 0 and math.isfinite(last.ellipse_area_cm2):
        steadiness = stability_score(last.ellipse_area_cm2, first.ellipse_area_cm2)
    parts = []
    if steadiness is not None:
        if steadiness >= 55:
            parts.append("steadier than at the start")
        elif steadiness >= 45:
            parts.append("about as steady as at the start")
        else:
            parts.append("working hard on balance (harder challenges wobble more at first)")
    if last.support_level > first.support_level:
        parts.append(f"now needs help only {SUPPORT_WORDS.get(last.support, last.support)} "
                     f"(it was {SUPPORT_WORDS.get(first.support, first.support)})")
    elif last.support_level < first.support_level:
        parts.append("getting a bit more help for now, which is normal on new surfaces")
    if last.reps > first.reps:
        parts.append(f"{last.reps} tries last time, up from {first.reps}")
    sentence = f"{name}: " + ("; ".join(parts) if parts else "keeping it up") + "."
    return ExerciseStory(name, len(ordered), steadiness, sentence)


def family_progress(days: Sequence[SessionDay], points: Sequence[ProgressPoint]
                    ) -> FamilyProgress:
    by_exercise: dict[str, list[ProgressPoint]] = {}
    for point in points:
        by_exercise.setdefault(point.exercise, []).append(point)
    stories = sorted((exercise_story(group) for group in by_exercise.values()),
                     key=lambda s: -s.sessions)
    if not days:
        headline = "After the first session you will see how things are going here."
    else:
        total = sum(d.reps for d in days)
        headline = (f"{len(days)} session{'s' * (len(days) != 1)} so far and {total} tries "
                    "done. Every try counts!")
    return FamilyProgress(tuple(days), tuple(stories), headline)


def reps_figure(days: Sequence[SessionDay]) -> go.Figure:
    """Tries per session: a phone-sized bar chart, planned as a faint outline."""
    x = [d.day for d in days]
    fig = go.Figure([
        go.Bar(x=x, y=[d.planned for d in days], name="tries planned",
               marker={"color": "rgba(159,176,195,0.25)"}, hoverinfo="skip"),
        go.Bar(x=x, y=[d.reps for d in days], name="tries done",
               marker={"color": "#4fd1ff"}),
    ])
    fig.update_layout(barmode="overlay", height=280, margin={"l": 48, "r": 10, "t": 36, "b": 30},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      font={"color": "#e8eef5", "size": 13}, showlegend=True,
                      legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                              "font": {"size": 13}},
                      xaxis={"fixedrange": True, "title": {"text": "session"}},
                      yaxis={"fixedrange": True, "gridcolor": "#243040", "rangemode": "tozero",
                             "title": {"text": "tries"}})
    return fig
