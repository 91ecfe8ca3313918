"""The family page: phone-sized first, friendly words, one child only.

During the child's session it follows along live (exercise in plain words, reps done
against planned, a steadiness meter); ``progress`` below shows how things have gone over
the sessions so far.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.family_view import FamilyProgress, reps_figure


def _live(key: str, text: str = "", **extra: str) -> html.Span:
    return html.Span(text, className=f"live-{key}", **{"data-live": key}, **extra)


def shared_note_item(t: float, text: str) -> html.Li:
    """One note the therapist shared; ``data-t`` lets the live script add only new ones."""
    return html.Li(text, **{"data-t": f"{t:.3f}"})


def create_family_layout(child_name: str, *, exercise_names: Mapping[str, str],
                         progress: Any = None,
                         shared_notes: Sequence[tuple[float, str]] = ()) -> html.Div:
    """``shared_notes``: (time, text) of the notes of the running session the therapist
    shared so far; the live script adds the ones shared while the page is open."""
    return html.Div(
        id=ids.FAMILY_ROOT, className="family",
        **{"data-live-family": "1", "data-exercise-names": json.dumps(dict(exercise_names))},
        children=[
            html.Header(className="family-header", children=[
                html.H1(f"{child_name}'s therapy"),
                html.Div(className="family-banner", children="Connecting…",
                         **{"data-state": "connecting", "data-live-banner": "1"}),
            ]),
            html.Section(className="family-card family-now", children=[
                _live("family-status", "Looking for today's session…"),
                html.Div(className="family-exercise", children=[_live("exercise", "")]),
                html.Div(className="family-reps", children=[
                    _live("reps", "0"), html.Span(" of "), _live("planned", "0"),
                    html.Span(" tries done", className="family-reps-label"),
                ]),
                html.Div(className="family-steadiness", children=[
                    html.Div("Steadiness", className="family-label"),
                    html.Div(className="gauge family-gauge", children=[
                        html.Div(className="gauge-bar", **{"data-live-gauge": "1"}),
                    ]),
                    _live("score-words", ""),
                ]),
            ]),
            html.Section(className="family-card family-notes", children=[
                html.H2("Notes from the therapist"),
                html.Ul([shared_note_item(t, text) for t, text in shared_notes],
                        className="family-notes-list", **{"data-live-notes": "1"}),
            ]),
            html.Section(className="family-card family-progress", id=ids.FAMILY_PROGRESS,
                         children=progress if progress is not None else []),
            html.Footer(className="family-footer", children=[
                "This page shows only your child. Your therapist decides which notes you see.",
            ]),
        ],
    )


def create_family_progress(progress: FamilyProgress) -> list[Any]:
    children: list[Any] = [html.H2("How it is going"), html.P(progress.headline)]
    if progress.days:
        children.append(dcc.Graph(id=ids.FAMILY_REPS_GRAPH, figure=reps_figure(progress.days),
                                  config={"displayModeBar": False, "responsive": True}))
        best = max(progress.days, key=lambda d: d.longest_hold_s)
        if best.longest_hold_s >= 1:
            children.append(html.P(f"Longest time standing on the board in one go: "
                                   f"{best.longest_hold_s:.0f} s ({best.day})."))
    children.extend(html.P(story.sentence, className="family-story")
                    for story in progress.stories)
    return children
