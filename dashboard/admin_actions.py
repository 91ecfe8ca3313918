"""Administration: form input → checked store calls, each one written to the audit log.

No Dash, no Flask: every action takes the store, the acting user's name and the form
values as the browser sent them (anything at all: a forged request may send any JSON),
and either makes the whole change, audits it and returns what to tell the user, or
raises :class:`FormError` naming the field and changes nothing.

Example::

    >>> add_child(store, "ada", pseudonym="c-0417", display_name="Mia")
    'Added child c-0417 (Mia).'
    >>> add_child(store, "ada", pseudonym="c 0417", display_name="")
    Traceback (most recent call last):
    dashboard.admin_actions.FormError: Pseudonym: 'c 0417' may use only letters, digits …

Who may act is decided here too (:func:`is_admin`, :func:`may_manage_links`), from the
session principal *and* the account as it is now in the store, so a demoted or disabled
admin loses the page on their next click, not at their next sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from access import Principal
from access.passwords import PasswordError, check_password_rules, hash_password
from contract.vocab import DOMAINS, ROLES, STAFF_ROLES
from dashboard import kiosk_links
from dashboard.family_links import new_token, parse_duration
from record.engine_parts import PROFILE_FOR_CATALOG
from store import Store
from store.errors import ExerciseLocked, StoreError
from store.rows import ExerciseRow, FamilyLinkRow, KioskLinkRow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")  # as in /progress/<child>
EXERCISE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
ROOM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # as in /wall/<room>
EXPIRY_CHOICES = {"12h": "12 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}
SIGNAL_PROFILES = tuple(PROFILE_FOR_CATALOG)
AUDIT_LIMITS = (100, 500, 2000)
MAX_REPS = 999


class FormError(ValueError):
    """Bad form input or a refused change; ``str()`` is the message for the user."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field


@dataclass(frozen=True)
class Created:
    """A link made for someone: shown once, never stored (only a hash is, for family links)."""

    message: str
    url: str


@dataclass(frozen=True)
class LinkView:
    id: int
    child: str
    state: str  # "active" | "expired" | "revoked"
    created_by: str
    created: float
    expires: float


@dataclass(frozen=True)
class KioskView:
    id: str
    room: str
    state: str  # "active" | "expired" | "revoked"
    created_by: str
    created: float
    expires: float


# ----------------------------------------------------------------------------- who may act


def _account_ok(principal: Principal | None, store: Store, roles: Iterable[str]) -> bool:
    if principal is None or principal.kind != "user" or principal.role not in roles:
        return False
    user = store.get_user(principal.name)
    return user is not None and not user.disabled and user.role in roles


def is_admin(principal: Principal | None, store: Store) -> bool:
    """A signed-in admin whose account is, right now, an enabled admin."""
    return _account_ok(principal, store, ("admin",))


def may_manage_links(principal: Principal | None, store: Store) -> bool:
    """Any signed-in, enabled staff member (therapist, supervisor, admin)."""
    return _account_ok(principal, store, STAFF_ROLES)


# ----------------------------------------------------------------------------- form values


def _text(field: str, value: Any, *, limit: int = 64, required: bool = True,
          pattern: re.Pattern[str] | None = None, allowed: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FormError(field, "expected text")
    value = value.strip()
    if required and not value:
        raise FormError(field, "is required")
    if len(value) > limit:
        raise FormError(field, f"is longer than {limit} characters")
    if value and pattern is not None and not pattern.match(value):
        raise FormError(field, f"{value!r} may use only {allowed}")
    return value


def _choice(field: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        shown = "nothing" if value in (None, "") else repr(value)
        raise FormError(field, f"choose one of {', '.join(choices)} (got {shown})")
    return str(value)


def _password(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FormError(field, "is required")
    try:
        check_password_rules(value)
    except PasswordError as exc:
        raise FormError(field, str(exc)) from None
    return value


def _whole(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormError(field, f"enter a whole number from {low} to {high}")
    if not low <= value <= high:
        raise FormError(field, f"{value} is not between {low} and {high}")
    return value


def _existing_user(store: Store, field: str, value: Any) -> Any:
    name = _text(field, value, limit=200)
    user = store.get_user(name)
    if user is None:
        raise FormError(field, f"there is no account {name!r}")
    return user


def _store(call: Callable[[], Any]) -> Any:
    """Run one store call; a store refusal becomes a message for the user."""
    try:
        return call()
    except StoreError as exc:
        raise FormError("", str(exc)) from exc


# ----------------------------------------------------------------------------- accounts


def _enabled_admins(store: Store) -> set[str]:
    return {u.username for u in store.users() if u.role == "admin" and not u.disabled}


def add_user(store: Store, actor: str, *, username: Any, role: Any, password: Any) -> str:
    name = _text("User name", username, pattern=USERNAME,
                 allowed="letters, digits and . _ @ - (no spaces)")
    role = _choice("Role", role, ROLES)
    password = _password("Password", password)
    taken = next((u.username for u in store.users() if u.username.lower() == name.lower()), None)
    if taken is not None:
        raise FormError("User name", f"{name!r} is taken already (by {taken!r})")
    _store(lambda: store.add_user(name, role, hash_password(password)))
    store.audit(actor, "add user", None, f"{name} as {role}")
    return f"Added {role} {name}. They can sign in now with the password you chose."


def set_user_disabled(store: Store, actor: str, *, username: Any, disabled: bool) -> str:
    user = _existing_user(store, "Account", username)
    if disabled and user.username == actor:
        raise FormError("Account", "you cannot disable your own account")
    if disabled and _enabled_admins(store) == {user.username}:
        raise FormError("Account", f"{user.username!r} is the last enabled admin")
    _store(lambda: store.set_user_disabled(user.username, disabled))
    verb = "disable" if disabled else "enable"
    store.audit(actor, f"{verb} user", None, user.username)
    return (f"Disabled {user.username}: they are signed out on their next click."
            if disabled else f"Enabled {user.username}.")


def reset_password(store: Store, actor: str, *, username: Any, password: Any) -> str:
    user = _existing_user(store, "Account", username)
    password = _password("New password", password)
    _store(lambda: store.set_password_hash(user.username, hash_password(password)))
    store.audit(actor, "reset password", None, user.username)
    return f"New password set for {user.username}."


def change_role(store: Store, actor: str, *, username: Any, role: Any) -> str:
    user = _existing_user(store, "Account", username)
    role = _choice("New role", role, ROLES)
    if role == user.role:
        raise FormError("New role", f"{user.username} is a {role} already")
    if user.username == actor:
        raise FormError("Account", "you cannot change your own role")
    if user.role == "admin" and _enabled_admins(store) == {user.username}:
        raise FormError("Account", f"{user.username!r} is the last enabled admin")
    _store(lambda: store.set_user_role(user.username, role))
    store.audit(actor, "change role", None, f"{user.username}: {user.role} → {role}")
    return (f"{user.username} is a {role} now (from their next sign-in; the admin page "
            "closes for a former admin at once).")


# ----------------------------------------------------------------------------- children


def add_child(store: Store, actor: str, *, pseudonym: Any, display_name: Any) -> str:
    child = _text("Pseudonym", pseudonym, pattern=PSEUDONYM,
                  allowed="letters, digits and . _ : - (no spaces; e.g. c-0417)")
    name = _text("Display name", display_name, limit=200, required=False)
    if any(c.pseudonym == child for c in store.children()):
        raise FormError("Pseudonym", f"{child!r} exists already")
    _store(lambda: store.add_child(child, name))
    store.audit(actor, "add child", child, name and "with a display name")
    return f"Added child {child}" + (f" ({name})." if name else ".")


# ----------------------------------------------------------------------------- family links


def when(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def link_state(link: FamilyLinkRow, now: float) -> str:
    return "revoked" if link.revoked else "active" if link.is_valid(now) else "expired"


def link_views(links: Iterable[FamilyLinkRow], now: float) -> list[LinkView]:
    return [LinkView(k.id, k.child, link_state(k, now), k.created_by, k.created, k.expires)
            for k in links]


def visible_links(store: Store, may_see: Callable[[str], bool], child: Any,
                  now: float) -> list[LinkView]:
    """The links of ``child`` (or of every child this principal may see), newest first."""
    if isinstance(child, str) and child:
        return link_views(store.family_links(child), now) if may_see(child) else []
    return link_views((k for k in store.family_links() if may_see(k.child)), now)


def create_family_link(store: Store, actor: str, *, secret_key: str, child: Any, expires: Any,
                       base_url: str, now: float,
                       may_see: Callable[[str], bool] = lambda _: True) -> Created:
    known = {c.pseudonym for c in store.children()}
    if not isinstance(child, str) or child not in known or not may_see(child):
        raise FormError("Child", "choose a child from the list")
    expires = _choice("Works for", expires, tuple(EXPIRY_CHOICES))
    until = now + parse_duration(expires)
    token, digest = new_token(secret_key)
    link = _store(lambda: store.add_family_link(child, digest, until, actor))
    store.audit(actor, "create family link", child, f"link {link.id}, until {when(until)}")
    return Created(f"Link {link.id} for {child} works until {when(until)}. Copy it now: "
                   "it is shown only this once.",
                   f"{base_url.rstrip('/')}/family/link/{token}")


def revoke_family_link(store: Store, actor: str, *, link_id: Any,
                       may_see: Callable[[str], bool] = lambda _: True) -> str:
    link = next((k for k in store.family_links() if k.id == link_id
                 and not isinstance(link_id, bool)), None)
    if link is None or not may_see(link.child):
        raise FormError("Link", f"there is no family link {link_id!r}")
    if link.revoked:
        raise FormError("Link", f"link {link.id} is revoked already")
    _store(lambda: store.revoke_family_link(link.id))
    store.audit(actor, "revoke family link", link.child, f"link {link.id}")
    return f"Revoked link {link.id} of {link.child}: it stops working at once."


# ----------------------------------------------------------------------------- wall screens


def known_rooms(settings_rooms: Iterable[str], devices: Iterable[Any]) -> list[str]:
    """The rooms of the settings and of every device the store knows, sorted."""
    rooms = set(settings_rooms) | {d.room for d in devices if d.room}
    return sorted(r for r in rooms if ROOM.match(r))


def kiosk_views(links: Iterable[KioskLinkRow], now: float) -> list[KioskView]:
    return [KioskView(k.id, k.room, kiosk_links.state(k, now), k.created_by, k.created,
                      k.expires) for k in links]


def kiosk_link(store: Store, actor: str, *, secret_key: str, room: Any, rooms: Sequence[str],
               base_url: str, now: float, days: Any = kiosk_links.DEFAULT_DAYS) -> Created:
    """A new wall-screen link for ``room``, working for ``days`` days; audited."""
    if not isinstance(room, str) or room not in rooms:
        raise FormError("Room", "choose a room from the list")
    days = _whole("Works for (days)", days, 1, kiosk_links.MAX_DAYS)
    token, link = kiosk_links.create(store, secret_key, room, created_by=actor, now=now,
                                     days=days)
    store.audit(actor, "create kiosk link", None,
                f"link {link.id} for {room}, until {when(link.expires)}")
    return Created(f"Wall-screen link {link.id} for {room} works until {when(link.expires)}. "
                   "Open it once on the room's screen; copy it now: it is shown only this once.",
                   kiosk_links.url(base_url, room, token))


def revoke_kiosk_link(store: Store, actor: str, *, link_id: Any) -> str:
    link = store.kiosk_link(link_id) if isinstance(link_id, str) and link_id else None
    if link is None:
        raise FormError("Link", f"there is no wall-screen link {link_id!r}")
    if link.revoked:
        raise FormError("Link", f"wall-screen link {link.id} is revoked already")
    _store(lambda: store.revoke_kiosk_link(link.id))
    store.audit(actor, "revoke kiosk link", None, f"link {link.id} for {link.room}")
    return (f"Revoked wall-screen link {link.id} of {link.room}: that screen is signed out "
            "at its next request.")


# ----------------------------------------------------------------------------- exercises


def save_exercise(store: Store, actor: str, *, key: Any, name: Any, domain: Any,
                  default_reps: Any, signal_profile: Any) -> str:
    key = _text("Key", key, pattern=EXERCISE_KEY,
                allowed="lowercase letters, digits and - (at least 2; e.g. reach-high-foam)")
    name = _text("Name", name, limit=200)
    domain = _choice("Domain", domain, DOMAINS)
    reps = _whole("Default reps", default_reps, 0, MAX_REPS)
    profile = _choice("Signal profile", signal_profile, SIGNAL_PROFILES)
    old: ExerciseRow | None = next((e for e in store.exercises() if e.key == key), None)
    if old is not None and not old.editable:
        raise FormError("Key", f"{key!r} is a built-in DMI exercise and cannot be changed; "
                        "choose a new key for the clinic's variant")
    try:
        store.upsert_exercise(key, name, domain, reps, profile)
    except ExerciseLocked:
        raise FormError("Key", f"{key!r} is a built-in DMI exercise") from None
    except StoreError as exc:
        raise FormError("", str(exc)) from exc
    verb = "add exercise" if old is None else "edit exercise"
    store.audit(actor, verb, None, f"{key}: {name} ({domain}, {reps} reps, {profile})")
    return f"{'Added' if old is None else 'Saved'} exercise {key} ({name})."


# ----------------------------------------------------------------------------- audit log


def audit_filter(child: Any, limit: Any) -> tuple[str | None, int]:
    """The (child, limit) to read the audit log with; anything unexpected → the defaults."""
    child = child if isinstance(child, str) and child else None
    return child, limit if limit in AUDIT_LIMITS and not isinstance(limit, bool) else \
        AUDIT_LIMITS[0]
