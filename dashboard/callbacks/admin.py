"""Admin and family-link callbacks: check who asks, run one admin action, redraw.

Every callback first asks :mod:`dashboard.admin_actions` whether this principal may act
(an enabled admin; any enabled staff member for family links), before it reads or
changes anything; anyone else gets an empty answer (PreventUpdate → HTTP 204).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import flask
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from access import Principal
from dashboard import admin_actions as aa
from dashboard import auth, ids, page_data, signins
from dashboard.callbacks.registry import callback
from dashboard.layouts import admin as view
from dashboard.layouts import admin_walls as walls


def _store() -> Any:
    return flask.current_app.extensions["dmi"]["store"]


def _admin() -> tuple[Principal, Any]:
    principal, store = auth.current(), _store()
    if principal is None or not aa.is_admin(principal, store):
        raise PreventUpdate
    return principal, store


def _staff() -> tuple[Principal, Any]:
    principal, store = auth.current(), _store()
    if principal is None or not aa.may_manage_links(principal, store):
        raise PreventUpdate
    return principal, store


def _clicked() -> Any:
    """The id of the button clicked; nothing for a redraw or a click count of zero."""
    if not ctx.triggered or not any(t["value"] for t in ctx.triggered):
        raise PreventUpdate
    return ctx.triggered_id


# ----------------------------------------------------------------------------- accounts

Form = dict[str, Any]
USER_ACTIONS: dict[str, Callable[[Any, str, Form], str]] = {
    ids.ADMIN_USER_ADD: lambda s, who, f: aa.add_user(
        s, who, username=f["name"], role=f["role"], password=f["password"]),
    ids.ADMIN_USER_DISABLE: lambda s, who, f: aa.set_user_disabled(
        s, who, username=f["target"], disabled=True),
    ids.ADMIN_USER_ENABLE: lambda s, who, f: aa.set_user_disabled(
        s, who, username=f["target"], disabled=False),
    ids.ADMIN_USER_SET_ROLE: lambda s, who, f: aa.change_role(
        s, who, username=f["target"], role=f["new_role"]),
    ids.ADMIN_USER_RESET: lambda s, who, f: aa.reset_password(
        s, who, username=f["target"], password=f["new_password"]),
}


@callback(
    Output(ids.ADMIN_USERS_FEEDBACK, "children"),
    Output(ids.ADMIN_USERS_TABLE, "children"),
    Output(ids.ADMIN_USER_TARGET, "options"),
    Output(ids.ADMIN_USER_NEW_NAME, "value"),
    Output(ids.ADMIN_USER_NEW_PASSWORD, "value"),
    Output(ids.ADMIN_USER_PASSWORD, "value"),
    *[Input(button, "n_clicks") for button in USER_ACTIONS],
    State(ids.ADMIN_USER_NEW_NAME, "value"),
    State(ids.ADMIN_USER_NEW_ROLE, "value"),
    State(ids.ADMIN_USER_NEW_PASSWORD, "value"),
    State(ids.ADMIN_USER_TARGET, "value"),
    State(ids.ADMIN_USER_ROLE, "value"),
    State(ids.ADMIN_USER_PASSWORD, "value"),
    prevent_initial_call=True,
)
def user_action(*values: Any) -> tuple[Any, ...]:
    principal, store = _admin()
    action = USER_ACTIONS.get(_clicked())
    if action is None:
        raise PreventUpdate
    form = dict(zip(("name", "role", "password", "target", "new_role", "new_password"),
                    values[-6:], strict=True))
    try:
        done = action(store, principal.name, form)
    except aa.FormError as exc:
        return view.feedback(str(exc), ok=False), *[no_update] * 5
    if ctx.triggered_id == ids.ADMIN_USER_RESET and form["target"] == principal.name:
        # a new password ends every sign-in of the account; this browser starts a new one
        signins.start(store, store.get_user(principal.name), flask.request.remote_addr or "")
    users = store.users()
    added = ctx.triggered_id == ids.ADMIN_USER_ADD
    return (view.feedback(done, ok=True), view.users_table(users, principal.name),
            view.user_options(users), "" if added else no_update, "", "")


# ----------------------------------------------------------------------------- children


@callback(
    Output(ids.ADMIN_CHILDREN_FEEDBACK, "children"),
    Output(ids.ADMIN_CHILDREN_TABLE, "children"),
    Output(ids.LINKS_CHILD, "options"),
    Output(ids.ADMIN_AUDIT_CHILD, "options"),
    Output(ids.ADMIN_CHILD_PSEUDONYM, "value"),
    Output(ids.ADMIN_CHILD_NAME, "value"),
    Input(ids.ADMIN_CHILD_ADD, "n_clicks"),
    State(ids.ADMIN_CHILD_PSEUDONYM, "value"),
    State(ids.ADMIN_CHILD_NAME, "value"),
    prevent_initial_call=True,
)
def add_child(clicks: Any, pseudonym: Any, display_name: Any) -> tuple[Any, ...]:
    principal, store = _admin()
    _clicked()
    try:
        done = aa.add_child(store, principal.name, pseudonym=pseudonym,
                            display_name=display_name)
    except aa.FormError as exc:
        return view.feedback(str(exc), ok=False), *[no_update] * 5
    children = store.children()
    options = view.child_options(children)
    return (view.feedback(done, ok=True), view.children_table(children), options, options,
            "", "")


# ----------------------------------------------------------------------------- family links


@callback(
    Output(ids.LINKS_ONCE, "children"),
    Output(ids.LINKS_FEEDBACK, "children"),
    Output(ids.LINKS_TABLE, "children"),
    Input(ids.LINKS_CREATE, "n_clicks"),
    Input(ids.LINKS_CHILD, "value"),
    Input({"type": ids.LINKS_REVOKE, "link": ALL}, "n_clicks"),
    State(ids.LINKS_EXPIRES, "value"),
    prevent_initial_call=True,
)
def family_link_action(create: Any, child: Any, revoke: Any, expires: Any) -> tuple[Any, ...]:
    principal, store = _staff()
    trigger, now, once, message = ctx.triggered_id, time.time(), None, None
    try:
        if trigger == ids.LINKS_CREATE:
            _clicked()
            created = aa.create_family_link(
                store, principal.name, secret_key=str(flask.current_app.secret_key),
                child=child, expires=expires, base_url=flask.request.host_url, now=now,
                may_see=principal.can_see_child)
            once = view.once_box(created, ids.LINKS_ONCE_URL)
        elif isinstance(trigger, dict) and trigger.get("type") == ids.LINKS_REVOKE:
            _clicked()
            message = view.feedback(aa.revoke_family_link(
                store, principal.name, link_id=trigger.get("link"),
                may_see=principal.can_see_child), ok=True)
        elif trigger != ids.LINKS_CHILD:
            raise PreventUpdate
    except aa.FormError as exc:
        return None, view.feedback(str(exc), ok=False), no_update
    children, views = page_data.family_links(store, principal, now, child)
    return once, message, view.links_table(views, {c.pseudonym: c.label for c in children})


# ----------------------------------------------------------------------------- wall screens


@callback(
    Output(ids.ADMIN_KIOSK_RESULT, "children"),
    Output(ids.ADMIN_KIOSK_TABLE, "children"),
    Input(ids.ADMIN_KIOSK_SHOW, "n_clicks"),
    Input({"type": ids.ADMIN_KIOSK_REVOKE, "link": ALL}, "n_clicks"),
    State(ids.ADMIN_KIOSK_ROOM, "value"),
    State(ids.ADMIN_KIOSK_DAYS, "value"),
    prevent_initial_call=True,
)
def kiosk_link_action(create: Any, revoke: Any, room: Any, days: Any) -> tuple[Any, ...]:
    principal, store = _admin()
    _clicked()
    trigger, now = ctx.triggered_id, time.time()
    try:
        if trigger == ids.ADMIN_KIOSK_SHOW:
            settings = flask.current_app.extensions["dmi"]["settings"]
            created = aa.kiosk_link(
                store, principal.name, secret_key=str(flask.current_app.secret_key), room=room,
                rooms=aa.known_rooms(settings.rooms, store.devices()), days=days,
                base_url=flask.request.host_url, now=now)
            result = view.once_box(created, ids.ADMIN_KIOSK_URL)
        elif isinstance(trigger, dict) and trigger.get("type") == ids.ADMIN_KIOSK_REVOKE:
            result = view.feedback(aa.revoke_kiosk_link(store, principal.name,
                                                        link_id=trigger.get("link")), ok=True)
        else:
            raise PreventUpdate
    except aa.FormError as exc:
        return view.feedback(str(exc), ok=False), no_update
    return result, walls.kiosk_table(aa.kiosk_views(store.kiosk_links(), now))


# ----------------------------------------------------------------------------- exercises


@callback(
    Output(ids.ADMIN_EXERCISE_KEY, "value"),
    Output(ids.ADMIN_EXERCISE_NAME, "value"),
    Output(ids.ADMIN_EXERCISE_DOMAIN, "value"),
    Output(ids.ADMIN_EXERCISE_REPS, "value"),
    Output(ids.ADMIN_EXERCISE_PROFILE, "value"),
    Input(ids.ADMIN_EXERCISE_EDIT, "value"),
    prevent_initial_call=True,
)
def load_exercise(key: Any) -> tuple[Any, ...]:
    _principal, store = _admin()
    row = next((e for e in store.exercises() if e.key == key and e.editable), None)
    if row is None:
        raise PreventUpdate
    return row.key, row.name, row.domain, row.default_reps, row.signal_profile


@callback(
    Output(ids.ADMIN_EXERCISES_FEEDBACK, "children"),
    Output(ids.ADMIN_EXERCISES_TABLE, "children"),
    Output(ids.ADMIN_EXERCISE_EDIT, "options"),
    Input(ids.ADMIN_EXERCISE_SAVE, "n_clicks"),
    State(ids.ADMIN_EXERCISE_KEY, "value"),
    State(ids.ADMIN_EXERCISE_NAME, "value"),
    State(ids.ADMIN_EXERCISE_DOMAIN, "value"),
    State(ids.ADMIN_EXERCISE_REPS, "value"),
    State(ids.ADMIN_EXERCISE_PROFILE, "value"),
    prevent_initial_call=True,
)
def save_exercise(clicks: Any, key: Any, name: Any, domain: Any, reps: Any,
                  profile: Any) -> tuple[Any, ...]:
    principal, store = _admin()
    _clicked()
    try:
        done = aa.save_exercise(store, principal.name, key=key, name=name, domain=domain,
                                default_reps=reps, signal_profile=profile)
    except aa.FormError as exc:
        return view.feedback(str(exc), ok=False), no_update, no_update
    exercises = store.exercises()
    return (view.feedback(done, ok=True), view.exercises_table(exercises),
            view.clinic_exercise_options(exercises))


# ----------------------------------------------------------------------------- audit log


@callback(
    Output(ids.ADMIN_AUDIT_TABLE, "children"),
    Input(ids.ADMIN_AUDIT_CHILD, "value"),
    Input(ids.ADMIN_AUDIT_LIMIT, "value"),
    Input(ids.ADMIN_AUDIT_REFRESH, "n_clicks"),
    prevent_initial_call=True,
)
def show_audit(child: Any, limit: Any, refresh: Any) -> Any:
    _principal, store = _admin()
    return view.audit_table(*page_data.audit_rows(store, child, limit))
