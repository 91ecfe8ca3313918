"""The therapist's remote for one room: phone or tablet, one hand, big targets.

Everything it shows about the room (session, set, count) comes live from the room's
stream (``assets/live.js``); its buttons call server callbacks that check the user and
publish events, so the wall and every other screen see them at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from dashboard import ids
from dashboard.actions import DEFAULT_TAGS, QUALITIES, SENSITIVITIES

SURFACES = ("floor", "foam-pad", "ladder", "blocks", "ball", "bench", "balance-board", "wedge")
SUPPORTS = ("trunk", "pelvis", "thigh", "knee", "shank", "ankle-foot", "none")


def _label(value: str) -> str:
    return value.replace("-", " ").capitalize()


def _pills(component_id: str, values: Sequence[str], value: str | None = None,
           labels: dict[str, str] | None = None) -> Any:
    return dcc.RadioItems(
        id=component_id, className="pills", inputClassName="pill-input",
        labelClassName="pill", value=value,
        options=[{"label": (labels or {}).get(v, _label(v)), "value": v} for v in values],
    )


def create_remote_layout(room: str, *, children: Sequence[Any], exercises: Sequence[Any],
                         tags: Sequence[str] = DEFAULT_TAGS) -> html.Div:
    child_options = [{"label": c.label, "value": c.pseudonym} for c in children]
    exercise_options = [{"label": e.name, "value": e.key} for e in exercises]
    names = json.dumps({e.key: e.name for e in exercises})
    return html.Div(
        id=ids.REMOTE_ROOT, className="remote",
        **{"data-live-room": room, "data-exercise-names": names},
        children=[
            dcc.Store(id=ids.REMOTE_ROOM, data=room),
            dcc.Store(id=ids.REMOTE_SESSION_CHILD, data=None),
            dcc.Interval(id=ids.REMOTE_POLL, interval=1500),
            dcc.Store(id=ids.REMOTE_DEFAULT_REPS,
                      data={e.key: e.default_reps for e in exercises}),
            html.Header(className="remote-header", children=[
                html.Div([html.H1(f"Room {room}"),
                          html.Div(id=ids.REMOTE_LIGHTS, className="remote-lights",
                                   **{"data-live-lights": "1"})]),
                html.Div(id=ids.REMOTE_BANNER, className="remote-banner",
                         children="Connecting…",
                         **{"data-state": "connecting", "data-live-banner": "1"}),
            ]),
            html.Div(id=ids.REMOTE_FEEDBACK, className="remote-feedback", role="status"),
            html.Section(className="remote-card remote-session", children=[
                html.H2("Session"),
                html.Div("No session running", id=ids.REMOTE_SESSION_FOR,
                         className="remote-session-for"),
                dcc.Dropdown(id=ids.REMOTE_CHILD, options=child_options,
                             placeholder="Pick the child"),
                html.Div(className="remote-row", children=[
                    html.Button("Start session", id=ids.REMOTE_SESSION_START,
                                className="button button-primary"),
                    html.Button("End session", id=ids.REMOTE_SESSION_END, className="button"),
                ]),
            ]),
            html.Section(className="remote-card remote-now", children=[
                html.Div(className="remote-now-text", children=[
                    html.Div("—", className="live-session", **{"data-live": "session"}),
                    html.Div("No set running", className="live-set", **{"data-live": "set"}),
                ]),
                html.Div(className="remote-count", children=[
                    html.Span("0", className="live-reps", **{"data-live": "reps"}),
                    html.Span(" / ", className="live-sep"),
                    html.Span("0", className="live-planned", **{"data-live": "planned"}),
                ]),
                html.Div(className="remote-rep-buttons", children=[
                    html.Button("−1", id=ids.REMOTE_REP_MINUS, className="button rep-minus",
                                title="Take back one rep"),
                    html.Button("+1 rep", id=ids.REMOTE_REP_PLUS,
                                className="button button-primary rep-plus"),
                ]),
            ]),
            html.Section(className="remote-card", children=[
                html.H2("Set"),
                html.Label("Exercise"),
                dcc.Dropdown(id=ids.REMOTE_EXERCISE, options=exercise_options,
                             placeholder="Pick the exercise", clearable=False),
                html.Label("Surface"),
                _pills(ids.REMOTE_SURFACE, SURFACES),
                html.Label("Support point (proximal → distal)"),
                _pills(ids.REMOTE_SUPPORT, SUPPORTS),
                html.Label("Planned reps", htmlFor=ids.REMOTE_PLANNED),
                dcc.Input(id=ids.REMOTE_PLANNED, type="number", min=0, max=100, step=1,
                          value=5, className="planned-input", inputMode="numeric"),
                html.Div(className="remote-row", children=[
                    html.Button("Start set", id=ids.REMOTE_SET_START,
                                className="button button-primary"),
                    html.Button("End set", id=ids.REMOTE_SET_END, className="button"),
                ]),
                html.Label("Response (optional, saved when the set ends)"),
                _pills(ids.REMOTE_QUALITY, QUALITIES),
                html.Label("Automatic rep counting for this child and exercise"),
                _pills(ids.REMOTE_SENSITIVITY, tuple(SENSITIVITIES), "normal", SENSITIVITIES),
                html.Div(id=ids.REMOTE_SENSITIVITY_NOTE, className="remote-hint"),
            ]),
            html.Section(className="remote-card", children=[
                html.H2("Sets this session"),
                html.Ul(id=ids.REMOTE_SETS, className="remote-sets",
                        children=[html.Li("No sets yet", className="remote-hint")]),
            ]),
            html.Section(className="remote-card", children=[
                html.H2("Tags and notes"),
                html.Div(className="tag-buttons", children=[
                    html.Button(_label(t), id={"type": ids.REMOTE_TAG, "tag": t},
                                className="button tag") for t in tags
                ]),
                dcc.Textarea(id=ids.REMOTE_NOTE, className="note-input", maxLength=2000,
                             placeholder="Note (shared with the room; use no names)"),
                dcc.Checklist(id=ids.REMOTE_SHARE, className="pills",
                              labelClassName="pill",
                              options=[{"label": "Family may see this note or tag",
                                        "value": "family"}], value=[]),
                html.Button("Add note", id=ids.REMOTE_NOTE_ADD, className="button"),
            ]),
        ],
    )
