"""Session events → a room's live state: the session engine's event side.

:func:`apply_event` applies one validated :class:`~contract.Event` to a room and
returns None, or the reason it does not apply to the room as the engine knows it (a rep
for a set that is not running, a note for another session, an exercise not in the
catalog …). The engine counts such an event as a reject with that reason; the store
refuses the same events, so the wall and the record never disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from contract import Event
from contract.vocab import SUPPORT_POINTS
from record.engine_parts import (
    PROFILE_FOR_CATALOG,
    ExerciseLookup,
    RepSetup,
    SetupLookup,
    _note,
    _Room,
    _Set,
    rep_source,
)

log = logging.getLogger(__name__)

__all__ = ["apply_event"]


class Lookups:
    """What the event side asks the rest of the system: an exercise's catalog profile and
    the rep counter's settings for a child and exercise."""

    def __init__(self, exercise_profile: ExerciseLookup, setup: SetupLookup) -> None:
        self.exercise_profile = exercise_profile
        self.setup = setup


def apply_event(r: _Room, ev: Event, lookups: Lookups) -> str | None:
    """Apply ``ev`` to room ``r``; None if applied, else why it was not."""
    return _HANDLERS[ev.type](r, ev, lookups)


def _session_start(r: _Room, ev: Event, _: Lookups) -> str | None:
    if ev.session is None:
        return "session_start without a session id"
    if ev.session != r.session:
        r.current, r.note = None, None
    r.session, r.child = ev.session, str(ev.data["child"])
    return None


def _session_end(r: _Room, ev: Event, _: Lookups) -> str | None:
    if ev.session is None or ev.session != r.session:
        return f"session_end for session {ev.session!r}, not the room's {r.session!r}"
    r.session = r.child = r.current = r.note = None
    return None


def _set_start(r: _Room, ev: Event, lookups: Lookups) -> str | None:
    if ev.session is None or ev.set is None:
        return "set_start without a session or set id"
    if r.session is None:
        r.session = ev.session  # joined mid-session without the store: child unknown
    if ev.session != r.session:
        return f"set_start for session {ev.session!r}, not the room's {r.session!r}"
    if r.current is not None and r.current.id == ev.set:
        return None  # the same set started again: nothing changes
    exercise, support = str(ev.data["exercise"]), str(ev.data["support"])
    catalog = lookups.exercise_profile(exercise)
    if catalog is None or support not in SUPPORT_POINTS:
        return f"set {ev.set}: unknown exercise {exercise!r} or support point {support!r}"
    source = rep_source(catalog)
    if source is None and catalog not in PROFILE_FOR_CATALOG:
        log.info("engine: exercise %s has profile %r, not one the engine counts: the "
                 "therapist counts its reps", exercise, catalog)
    r.current = new_set(r, ev.set, ev.session, exercise, str(ev.data["surface"]), support,
                        int(ev.data["planned_reps"]), ev.t, source, lookups)
    return None


def new_set(r: _Room, set_id: str, session: str, exercise: str, surface: str, support: str,
            planned: int, started: float, source: str | None, lookups: Lookups) -> _Set:
    """A set with the counter settings for the room's child and the exercise (defaults
    when the settings cannot be read: counting goes on)."""
    setup = RepSetup()
    if source is not None:
        try:
            setup = lookups.setup(r.child, exercise)
        except Exception as exc:  # a store hiccup must not stop the set
            log.warning("engine: rep settings for %s/%s not read (%s); defaults", r.child,
                        exercise, exc)
    return _Set(set_id, session, exercise, surface, support, planned, started,
                source if source in ("imu", "cop") else None,  # type: ignore[arg-type]
                setup, r.child)


def _set_end(r: _Room, ev: Event, _: Lookups) -> str | None:
    if r.current is None or ev.set != r.current.id:
        running = None if r.current is None else r.current.id
        return f"set_end for set {ev.set!r}, not the running set {running!r}"
    r.current = None
    return None


def _rep(r: _Room, ev: Event, _: Lookups) -> str | None:
    s = r.current
    if ev.set is None and ev.session is None:
        return "rep without a set or session id"
    if r.closing is not None and ev.set == r.closing.id and (s is None or s.id != ev.set):
        r.closing.apply(ev)  # the last reps of the set that just ended
        return None
    if s is None or (ev.set or s.id) != s.id or (ev.session or s.session) != s.session:
        running = None if s is None else f"{s.id} of {s.session}"
        return (f"rep for set {ev.set!r} of session {ev.session!r}, not the running set "
                f"{running!r}")
    s.applied.append(ev)
    s.apply(ev)  # a −1 with nothing to revoke changes nothing, as in the store
    return None


def _annotation(r: _Room, ev: Event, _: Lookups) -> str | None:
    tag, text = ev.data.get("tag"), ev.data.get("text", "")
    visible = ev.data.get("family_visible", False)
    if ev.session is None or ev.session != r.session:
        return f"{ev.type} for session {ev.session!r}, not the room's {r.session!r}"
    if not isinstance(text, str) or not isinstance(visible, bool) \
            or not isinstance(tag, str | None):
        return f"{ev.type} with text, tag or family_visible of the wrong type"
    if r.note is None or ev.t >= r.note.t:
        r.note = _note(ev.t, tag, text, visible)
    return None


_Handler = Callable[[_Room, Event, Lookups], "str | None"]
_HANDLERS: dict[str, _Handler] = {
    "session_start": _session_start,
    "session_end": _session_end,
    "set_start": _set_start,
    "set_end": _set_end,
    "rep": _rep,
    "tag": _annotation,
    "note": _annotation,
}
