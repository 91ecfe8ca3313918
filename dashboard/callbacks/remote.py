"""Remote page callbacks: check the user, turn the tap into events, publish them."""

from __future__ import annotations

import time
from typing import Any

import flask
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import actions, auth, ids
from dashboard.callbacks.registry import callback, clientside_callback
from store import Store

BUTTONS = (ids.REMOTE_REP_PLUS, ids.REMOTE_REP_MINUS, ids.REMOTE_SET_START,
           ids.REMOTE_SET_END, ids.REMOTE_NOTE_ADD, ids.REMOTE_SESSION_START,
           ids.REMOTE_SESSION_END)


def author_id(principal: auth.Principal, store: Store) -> str:
    """A pseudonymous author for events: the user's row id, never the user name."""
    if principal.kind == "kiosk":
        return "kiosk"
    user = store.get_user(principal.name)
    return f"u{user.id}" if user is not None else "unknown"


def startable_children(principal: auth.Principal, store: Store) -> frozenset[str]:
    """The children ``principal`` may start a session for: registered ones it may see."""
    return frozenset(c.pseudonym for c in store.children()
                     if principal.can_see_child(c.pseudonym))


def perform(room: str, trigger: str, form: dict[str, object]) -> str:
    """Authorise, build the events from the server's own room state, publish."""
    principal = auth.current()
    if principal is None or not (is_staff(principal) and principal.can_see_room(room)):
        raise PermissionError("not allowed in this room")
    dmi = flask.current_app.extensions["dmi"]
    hub, store = dmi["hub"], dmi["store"]
    children = (startable_children(principal, store)
                if trigger == ids.REMOTE_SESSION_START else None)
    events, done = actions.dispatch(trigger, form, hub.room_state(room),
                                    author=author_id(principal, store), now=time.time(),
                                    children=children)
    for event in events:
        hub.publish_event(room, event)
    return done


@callback(
    Output(ids.REMOTE_FEEDBACK, "children"),
    Output(ids.REMOTE_FEEDBACK, "data-kind"),
    Output(ids.REMOTE_NOTE, "value"),
    *[Input(b, "n_clicks") for b in BUTTONS],
    Input({"type": ids.REMOTE_TAG, "tag": ALL}, "n_clicks"),
    State(ids.REMOTE_ROOM, "data"),
    State(ids.REMOTE_CHILD, "value"),
    State(ids.REMOTE_EXERCISE, "value"),
    State(ids.REMOTE_SURFACE, "value"),
    State(ids.REMOTE_SUPPORT, "value"),
    State(ids.REMOTE_PLANNED, "value"),
    State(ids.REMOTE_QUALITY, "value"),
    State(ids.REMOTE_NOTE, "value"),
    State(ids.REMOTE_SHARE, "value"),
    prevent_initial_call=True,
)
def remote_action(*values: Any) -> tuple[Any, Any, Any]:
    if not ctx.triggered or not any(t["value"] for t in ctx.triggered):
        raise PreventUpdate
    room, child, exercise, surface, support, planned, quality, note, share = values[-9:]
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):
        trigger = f"tag:{trigger['tag']}"
    form = {"child": child, "exercise": exercise, "surface": surface, "support": support,
            "planned": planned, "quality": quality, "note": note,
            "family": "family" in (share or [])}
    try:
        done = perform(str(room), str(trigger), form)
    except actions.ActionError as exc:
        return str(exc), "error", no_update
    except PermissionError:
        return "You are not signed in for this room.", "error", no_update
    except ConnectionError as exc:
        return str(exc), "error", no_update
    return f"✓ {done}", "ok", ("" if trigger == ids.REMOTE_NOTE_ADD else no_update)


# Picking an exercise fills in its default reps at once, in the browser: no round trip
# that could arrive after the therapist has already typed a number.
clientside_callback(
    """function (exercise, defaults) {
        if (!exercise || !defaults || defaults[exercise] === undefined) {
            return window.dash_clientside.no_update;
        }
        return defaults[exercise];
    }""",
    Output(ids.REMOTE_PLANNED, "value"),
    Input(ids.REMOTE_EXERCISE, "value"),
    State(ids.REMOTE_DEFAULT_REPS, "data"),
    prevent_initial_call=True,
)
