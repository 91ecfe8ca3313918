"""The admin page (``/admin``, admins only) and the family-links page (``/family-links``,
any staff member): accounts, children, family links, wall-screen links, the exercise
catalog and the audit log.

Layout builders only: each section is built from the rows it is given by the small
functions here, which the callbacks of :mod:`dashboard.callbacks.admin` reuse after an
action. Who may see a page is checked by the router (:mod:`dashboard.routes`), which
reads the rows (:func:`dashboard.page_data.admin_page`), and again by every callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from dash import dcc, html

from access import Principal
from access.passwords import MIN_PASSWORD
from contract.vocab import DOMAINS, ROLES
from dashboard import admin_actions as aa
from dashboard import ids
from dashboard.layouts.admin_walls import create_walls_section

if TYPE_CHECKING:
    from dashboard.page_data import AdminPage
    from store.rows import AuditRow, ChildRow, ExerciseRow, UserRow

SECTIONS = ((ids.ADMIN_SECTION_USERS, "Accounts"), (ids.ADMIN_SECTION_CHILDREN, "Children"),
            (ids.ADMIN_SECTION_LINKS, "Family links"), (ids.ADMIN_SECTION_WALLS, "Wall screens"),
            (ids.ADMIN_SECTION_EXERCISES, "Exercises"), (ids.ADMIN_SECTION_AUDIT, "Audit log"))
PROFILE_HELP = {
    "vertical-transfer": "vertical-transfer (stand-ups, squats: counted)",
    "ml-shift": "ml-shift (side-to-side shifts: counted)",
    "ap-shift": "ap-shift (forward-backward shifts: counted)",
    "reach": "reach (reaches: counted)",
    "step": "step (steps: counted)",
    "static-hold": "static-hold (holds: not counted automatically)",
    "perturbation": "perturbation (reactions: not counted automatically)",
}


# ----------------------------------------------------------------------------- small parts


def feedback(text: str, *, ok: bool) -> html.P:
    return html.P(text, className="admin-feedback " + ("admin-ok" if ok else "admin-error"))


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]], empty: str,
           row_attrs: Callable[[int], dict[str, Any]] | None = None) -> Any:
    body = [html.Tr([html.Td(cell) for cell in row], **(row_attrs(i) if row_attrs else {}))
            for i, row in enumerate(rows)]
    if not body:
        return html.P(empty, className="admin-empty")
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                      className="admin-table")


def _field(label: str, control: Any) -> html.Label:
    return html.Label([html.Span(label, className="admin-label"), control],
                      className="admin-field")


InputKind = Literal["text", "password", "number"]


def _input(id_: str, *, kind: InputKind = "text", placeholder: str = "", **extra: Any) -> dcc.Input:
    return dcc.Input(id=id_, type=kind, placeholder=placeholder, debounce=False,
                     className="admin-input", **extra)


def _button(text: str, id_: str, *, primary: bool = False) -> html.Button:
    return html.Button(text, id=id_, n_clicks=0, type="button",
                       className="button" + (" button-primary" if primary else ""))


def _options(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in pairs]


def _section(key: str, title: str, *children: Any) -> html.Section:
    return html.Section(id=key, className="admin-card", children=[html.H2(title), *children])


def once_box(created: aa.Created, url_id: str) -> html.Div:
    """A link shown once, selectable, with a copy button."""
    return html.Div(className="admin-once", role="status", children=[
        html.P(created.message),
        html.Div(className="admin-once-row", children=[
            dcc.Input(id=url_id, value=created.url, readOnly=True, className="admin-once-url",
                      type="text"),
            dcc.Clipboard(target_id=url_id, title="Copy the link", className="button",
                          children="Copy", copied_children="Copied ✓"),
        ]),
    ])


# ----------------------------------------------------------------------------- accounts


def users_table(users: Sequence[UserRow], actor: str) -> Any:
    rows = [(u.username + (" (you)" if u.username == actor else ""), u.role,
             "disabled" if u.disabled else "active", aa.when(u.created)) for u in users]
    return _table(("User name", "Role", "State", "Since"), rows, "No accounts yet.",
                  lambda i: {"data-user": users[i].username,
                             "className": "admin-off" if users[i].disabled else ""})


def user_options(users: Sequence[UserRow]) -> list[dict[str, str]]:
    return _options((u.username, f"{u.username} · {u.role}" + (" · disabled" if u.disabled
                                                               else "")) for u in users)


def _users_section(users: Sequence[UserRow], actor: str) -> html.Section:
    roles = _options((r, r) for r in ROLES)
    return _section(ids.ADMIN_SECTION_USERS, "Accounts",
        html.Div(users_table(users, actor), id=ids.ADMIN_USERS_TABLE),
        html.Div(className="admin-forms", children=[
            html.Fieldset(className="admin-form", children=[
                html.Legend("Add an account"),
                _field("User name", _input(ids.ADMIN_USER_NEW_NAME, autoComplete="off")),
                _field("Role", dcc.Dropdown(id=ids.ADMIN_USER_NEW_ROLE, options=roles,
                                            value="therapist", clearable=False)),
                _field(f"First password (at least {MIN_PASSWORD} characters)",
                       _input(ids.ADMIN_USER_NEW_PASSWORD, kind="password",
                              autoComplete="new-password")),
                _button("Add account", ids.ADMIN_USER_ADD, primary=True),
            ]),
            html.Fieldset(className="admin-form", children=[
                html.Legend("Change an account"),
                _field("Account", dcc.Dropdown(id=ids.ADMIN_USER_TARGET,
                                               options=user_options(users),
                                               placeholder="choose an account")),
                html.Div(className="admin-row", children=[
                    _button("Disable", ids.ADMIN_USER_DISABLE),
                    _button("Enable", ids.ADMIN_USER_ENABLE)]),
                html.Div(className="admin-row", children=[
                    _field("New role", dcc.Dropdown(id=ids.ADMIN_USER_ROLE, options=roles,
                                                    placeholder="role")),
                    _button("Change role", ids.ADMIN_USER_SET_ROLE)]),
                html.Div(className="admin-row", children=[
                    _field("New password", _input(ids.ADMIN_USER_PASSWORD, kind="password",
                                                  autoComplete="new-password")),
                    _button("Set password", ids.ADMIN_USER_RESET)]),
            ]),
        ]),
        html.Div(id=ids.ADMIN_USERS_FEEDBACK, role="status"),
    )


# ----------------------------------------------------------------------------- children


def children_table(children: Sequence[ChildRow]) -> Any:
    rows = [(dcc.Link(c.pseudonym, href=f"/progress/{c.pseudonym}"), c.display_name or "–",
             aa.when(c.created)) for c in children]
    return _table(("Pseudonym", "Display name", "Added"), rows, "No children yet.")


def child_options(children: Iterable[ChildRow]) -> list[dict[str, str]]:
    return _options((c.pseudonym, c.label if c.label == c.pseudonym else
                     f"{c.label} ({c.pseudonym})") for c in children)


def _children_section(children: Sequence[ChildRow]) -> html.Section:
    return _section(ids.ADMIN_SECTION_CHILDREN, "Children",
        html.Div(children_table(children), id=ids.ADMIN_CHILDREN_TABLE),
        html.Fieldset(className="admin-form admin-inline", children=[
            html.Legend("Add a child"),
            _field("Pseudonym", _input(ids.ADMIN_CHILD_PSEUDONYM, placeholder="c-0417")),
            _field("Display name (optional; shown on screens)",
                   _input(ids.ADMIN_CHILD_NAME, placeholder="first name or nickname")),
            _button("Add child", ids.ADMIN_CHILD_ADD, primary=True),
        ]),
        html.Div(id=ids.ADMIN_CHILDREN_FEEDBACK, role="status"),
    )


# ----------------------------------------------------------------------------- family links


def links_table(views: Sequence[aa.LinkView], labels: Mapping[str, str]) -> Any:
    def revoke(view: aa.LinkView) -> Any:
        if view.state != "active":
            return ""
        return html.Button("Revoke", id={"type": ids.LINKS_REVOKE, "link": view.id},
                           n_clicks=0, type="button", className="button admin-small")

    rows = [(str(v.id), labels.get(v.child, v.child),
             html.Span(v.state, className=f"admin-state admin-state-{v.state}"),
             v.created_by, aa.when(v.created), aa.when(v.expires), revoke(v)) for v in views]
    return _table(("#", "Child", "State", "Made by", "Made", "Works until", ""), rows,
                  "No family links yet.", lambda i: {"data-link": str(views[i].id)})


def create_links_section(children: Sequence[ChildRow], views: Sequence[aa.LinkView],
                         *, key: str = ids.ADMIN_SECTION_LINKS) -> html.Section:
    labels = {c.pseudonym: c.label for c in children}
    return _section(key, "Family links",
        html.P("A family link lets one family follow one child's sessions from home, until "
               "it expires or is revoked. The link is shown once; only its fingerprint is "
               "kept.", className="admin-help"),
        html.Fieldset(className="admin-form admin-inline", children=[
            html.Legend("Make a link"),
            _field("Child", dcc.Dropdown(id=ids.LINKS_CHILD, options=child_options(children),
                                         placeholder="every child")),
            _field("Works for", dcc.RadioItems(
                id=ids.LINKS_EXPIRES, value="30d", className="admin-radios",
                options=_options(aa.EXPIRY_CHOICES.items()), inline=True)),
            _button("Make link", ids.LINKS_CREATE, primary=True),
        ]),
        html.Div(id=ids.LINKS_ONCE),
        html.Div(id=ids.LINKS_FEEDBACK, role="status"),
        html.Div(links_table(views, labels), id=ids.LINKS_TABLE),
    )


# ----------------------------------------------------------------------------- exercises


def exercises_table(exercises: Sequence[ExerciseRow]) -> Any:
    rows = [(e.key, e.name, e.domain, str(e.default_reps), e.signal_profile,
             "clinic" if e.editable else "built-in") for e in exercises]
    return _table(("Key", "Name", "Domain", "Reps", "Signal profile", ""), rows,
                  "No exercises.", lambda i: {"data-exercise": exercises[i].key})


def clinic_exercise_options(exercises: Iterable[ExerciseRow]) -> list[dict[str, str]]:
    return _options((e.key, f"{e.name} ({e.key})") for e in exercises if e.editable)


def _exercises_section(exercises: Sequence[ExerciseRow]) -> html.Section:
    return _section(ids.ADMIN_SECTION_EXERCISES, "Exercises",
        html.P("Built-in DMI exercises are read-only so reports compare across clinics; add "
               "the clinic's own variants here.", className="admin-help"),
        html.Div(exercises_table(exercises), id=ids.ADMIN_EXERCISES_TABLE),
        html.Fieldset(className="admin-form admin-inline", children=[
            html.Legend("Add or edit a clinic exercise"),
            _field("Edit", dcc.Dropdown(id=ids.ADMIN_EXERCISE_EDIT,
                                        options=clinic_exercise_options(exercises),
                                        placeholder="a new exercise")),
            _field("Key", _input(ids.ADMIN_EXERCISE_KEY, placeholder="reach-high-foam")),
            _field("Name", _input(ids.ADMIN_EXERCISE_NAME, placeholder="Reach high on foam")),
            _field("Domain", dcc.Dropdown(id=ids.ADMIN_EXERCISE_DOMAIN,
                                          options=_options((d, d) for d in DOMAINS),
                                          value="standing", clearable=False)),
            _field("Default reps", _input(ids.ADMIN_EXERCISE_REPS, kind="number", value=5,
                                          min=0, max=aa.MAX_REPS, step=1)),
            _field("Signal profile", dcc.Dropdown(
                id=ids.ADMIN_EXERCISE_PROFILE, value="static-hold", clearable=False,
                options=_options((p, PROFILE_HELP.get(p, p)) for p in aa.SIGNAL_PROFILES))),
            _button("Save exercise", ids.ADMIN_EXERCISE_SAVE, primary=True),
        ]),
        html.Div(id=ids.ADMIN_EXERCISES_FEEDBACK, role="status"),
    )


# ----------------------------------------------------------------------------- audit log


def audit_table(rows: Sequence[AuditRow], labels: Mapping[str, str]) -> Any:
    cells = [(aa.when(r.t), r.who, r.action,
              "" if r.child is None else labels.get(r.child, r.child), r.detail) for r in rows]
    return _table(("When", "Who", "What", "Child", "Detail"), cells, "Nothing recorded.")


def _audit_section(children: Sequence[ChildRow], rows: Sequence[AuditRow]) -> html.Section:
    labels = {c.pseudonym: c.label for c in children}
    return _section(ids.ADMIN_SECTION_AUDIT, "Audit log",
        html.Div(className="admin-form admin-inline", children=[
            _field("Child", dcc.Dropdown(id=ids.ADMIN_AUDIT_CHILD,
                                         options=child_options(children),
                                         placeholder="every child")),
            _field("Latest", dcc.RadioItems(id=ids.ADMIN_AUDIT_LIMIT, value=aa.AUDIT_LIMITS[0],
                                            className="admin-radios", inline=True,
                                            options=[{"label": str(n), "value": n}
                                                     for n in aa.AUDIT_LIMITS])),
            _button("Refresh", ids.ADMIN_AUDIT_REFRESH),
        ]),
        html.Div(audit_table(rows, labels), id=ids.ADMIN_AUDIT_TABLE),
    )


# ----------------------------------------------------------------------------- pages


def _header(title: str, principal: Principal, nav: Sequence[tuple[str, str]]) -> list[Any]:
    parts: list[Any] = [
        html.Header(className="page-header", children=[
            html.H1(title),
            html.Form(method="POST", action="/logout", children=[
                dcc.Link("Home", href="/", className="button"),
                html.Span(f"{principal.name} · {principal.role}", className="who"),
                html.Button("Sign out", type="submit", className="button"),
            ]),
        ]),
    ]
    if nav:
        parts.append(html.Nav(className="admin-nav", children=[
            html.A(text, href=f"#{key}") for key, text in nav]))
    return parts


def create_admin_layout(principal: Principal, page: AdminPage) -> html.Div:
    """The whole admin page, for an admin (checked by the caller)."""
    return html.Div(id=ids.ADMIN_ROOT, className="admin-page", children=[
        *_header("Administration", principal, SECTIONS),
        _users_section(page.users, principal.name),
        _children_section(page.children),
        create_links_section(page.children, page.links),
        create_walls_section(page.rooms, page.kiosks),
        _exercises_section(page.exercises),
        _audit_section(page.children, page.audit),
    ])


def create_family_links_layout(principal: Principal, children: Sequence[ChildRow],
                               links: Sequence[aa.LinkView]) -> html.Div:
    """Family links for a staff member: ``children`` and ``links`` are those they may see."""
    return html.Div(id=ids.LINKS_ROOT, className="admin-page", children=[
        *_header("Family links", principal, ()),
        create_links_section(children, links, key=ids.LINKS_SECTION),
    ])
