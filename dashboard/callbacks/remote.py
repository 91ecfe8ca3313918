"""Remote page callbacks: check the user, turn the tap into events, publish them; show
whom the session is for and its sets (automatic or therapist's count); the rep counter's
sensitivity per child and exercise."""

from __future__ import annotations

import time
from typing import Any

import flask
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import actions, auth, ids
from dashboard.callbacks.registry import callback, clientside_callback
from dashboard.remote_view import SetLine, child_label, sensitivity_of, session_sets
from store import Store
from store.errors import StoreError

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


def _allowed(room: str) -> auth.Principal:
    """The signed-in staff member of this room; PermissionError for anyone else."""
    principal = auth.current()
    if principal is None or not (is_staff(principal) and principal.can_see_room(room)):
        raise PermissionError("not allowed in this room")
    return principal


def perform(room: str, trigger: str, form: dict[str, object]) -> str:
    """Authorise, build the events from the server's own room state, publish."""
    principal = _allowed(room)
    dmi = flask.current_app.extensions["dmi"]
    hub, store = dmi["hub"], dmi["store"]
    children = (startable_children(principal, store)
                if trigger == ids.REMOTE_SESSION_START else None)
    state = hub.room_state(room)
    last_set = None
    if trigger.startswith("fix:") and state is not None and state.session:
        sets = session_sets(store, state.session)  # the server's record, not the page's
        last_set = (sets[-1].id, not sets[-1].running) if sets else None
    events, done = actions.dispatch(trigger, form, state,
                                    author=author_id(principal, store), now=time.time(),
                                    children=children, last_set=last_set)
    for event in events:
        hub.publish_event(room, event)
    return done


@callback(
    Output(ids.REMOTE_FEEDBACK, "children"),
    Output(ids.REMOTE_FEEDBACK, "data-kind"),
    Output(ids.REMOTE_NOTE, "value"),
    Output(ids.REMOTE_SHARE, "value"),
    *[Input(b, "n_clicks") for b in BUTTONS],
    Input({"type": ids.REMOTE_TAG, "tag": ALL}, "n_clicks"),
    Input({"type": ids.REMOTE_SET_FIX, "delta": ALL}, "n_clicks"),
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
def remote_action(*values: Any) -> tuple[Any, Any, Any, Any]:
    if not ctx.triggered or not any(t["value"] for t in ctx.triggered):
        raise PreventUpdate
    room, child, exercise, surface, support, planned, quality, note, share = values[-9:]
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):
        trigger = (f"tag:{trigger['tag']}" if trigger["type"] == ids.REMOTE_TAG
                   else f"fix:{trigger['delta']}")
    form = {"child": child, "exercise": exercise, "surface": surface, "support": support,
            "planned": planned, "quality": quality, "note": note,
            "family": "family" in (share or [])}
    try:
        done = perform(str(room), str(trigger), form)
    except actions.ActionError as exc:
        return str(exc), "error", no_update, no_update
    except PermissionError:
        return "You are not signed in for this room.", "error", no_update, no_update
    except ConnectionError as exc:
        return str(exc), "error", no_update, no_update
    noted = trigger == ids.REMOTE_NOTE_ADD
    # "Family may see this" is for one note or tag: the next one is private again
    shared: Any = [] if noted or str(trigger).startswith("tag:") else no_update
    return f"✓ {done}", "ok", ("" if noted else no_update), shared


def _set_item(line: SetLine, *, fixable: bool) -> html.Li:
    """One set; the last one, once it ended, with −1 / +1 to correct its final count."""
    attributes: dict[str, Any] = {"data-counted-by": line.counted_by, "data-set": line.id}
    children: list[Any] = [html.Span(line.text, className="remote-set-text")]
    if fixable:
        children.append(html.Span(className="remote-set-fix", children=[
            html.Button("−1", id={"type": ids.REMOTE_SET_FIX, "delta": -1},
                        className="button", title="One rep fewer in the last set"),
            html.Button("+1", id={"type": ids.REMOTE_SET_FIX, "delta": 1},
                        className="button", title="One rep more in the last set"),
        ]))
    return html.Li(children, className="remote-set", **attributes)


@callback(
    Output(ids.REMOTE_SESSION_FOR, "children"),
    Output(ids.REMOTE_SETS, "children"),
    Output(ids.REMOTE_SESSION_CHILD, "data"),
    Input(ids.REMOTE_POLL, "n_intervals"),
    State(ids.REMOTE_ROOM, "data"),
    State(ids.REMOTE_SESSION_CHILD, "data"),
)
def remote_overview(_: Any, room: str, shown_child: str | None) -> tuple[Any, Any, Any]:
    """Whom the running session is for and its sets, from the server's room state and the
    store (a set's count: automatic, or the therapist's when they corrected it)."""
    try:
        principal = _allowed(str(room))
    except PermissionError:
        raise PreventUpdate from None
    dmi = flask.current_app.extensions["dmi"]
    hub, store = dmi["hub"], dmi["store"]
    state = hub.room_state(str(room))
    if state is None or not state.session:
        nothing = [html.Li("No sets yet", className="remote-hint")]
        return "No session running", nothing, (None if shown_child is not None else no_update)
    child = state.child if state.child and principal.can_see_child(state.child) else None
    who = f"Session for {child_label(store, child)}" if child else "Session running"
    lines = session_sets(store, state.session)
    items = [_set_item(line, fixable=(i == 0 and not line.running))
             for i, line in enumerate(reversed(lines))] or \
        [html.Li("No sets yet", className="remote-hint")]
    return who, items, (child if child != shown_child else no_update)


@callback(
    Output(ids.REMOTE_SENSITIVITY, "value"),
    Output(ids.REMOTE_SENSITIVITY_NOTE, "children"),
    Input(ids.REMOTE_SENSITIVITY, "value"),
    Input(ids.REMOTE_EXERCISE, "value"),
    Input(ids.REMOTE_SESSION_CHILD, "data"),
    Input(ids.REMOTE_CHILD, "value"),
    State(ids.REMOTE_ROOM, "data"),
)
def remote_sensitivity(step: Any, exercise: str | None, session_child: str | None,
                       picked: str | None, room: str) -> tuple[Any, Any]:
    """Show the counter's sensitivity for the session's (or the picked) child and the
    exercise; a tap on a step stores it — the next set counts with it."""
    try:
        principal = _allowed(str(room))
    except PermissionError:
        return no_update, "You are not signed in for this room."
    store = flask.current_app.extensions["dmi"]["store"]
    child = session_child or picked
    tapped = ctx.triggered_id == ids.REMOTE_SENSITIVITY
    if not tapped and (not exercise or not child):
        return "normal", "Pick the exercise (and the child) to see how its reps are counted."
    try:
        child, exercise, chosen = actions.sensitivity(
            child=child, exercise=exercise, step=step,
            children=startable_children(principal, store))
        current, learned = sensitivity_of(store, child, exercise)
        saved = tapped and chosen != current
        if saved:
            store.set_rep_sensitivity(child, exercise, chosen)
            store.audit(principal.name, "rep sensitivity", child, f"{exercise}: {chosen}")
            current = chosen
    except actions.ActionError as exc:
        return "normal" if not (exercise and child) else no_update, str(exc)
    except StoreError as exc:
        return no_update, f"Not saved: {exc}"
    note = ("Learned from a set the therapist corrected." if learned
            else "Nothing learned yet: a set you correct teaches it.")
    if saved:
        note = f"✓ Saved: {actions.SENSITIVITIES[current].lower()} from the next set on. {note}"
    return current, note


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
