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
from record.engine_parts import PROFILE_FOR_CATALOG, ExerciseLookup, _note, _Room, _Set, rep_profile

log = logging.getLogger(__name__)

__all__ = ["apply_event"]


def apply_event(r: _Room, ev: Event, exercise_profile: ExerciseLookup) -> str | None:
    """Apply ``ev`` to room ``r``; None if applied, else why it was not."""
    return _HANDLERS[ev.type](r, ev, exercise_profile)


def _session_start(r: _Room, ev: Event, _: ExerciseLookup) -> str | None:
    if ev.session is None:
        return "session_start without a session id"
    if ev.session != r.session:
        r.current, r.note = None, None
    r.session, r.child = ev.session, str(ev.data["child"])
    return None


def _session_end(r: _Room, ev: Event, _: ExerciseLookup) -> str | None:
    if ev.session is None or ev.session != r.session:
        return f"session_end for session {ev.session!r}, not the room's {r.session!r}"
    r.session = r.child = r.current = r.note = None
    return None


def _set_start(r: _Room, ev: Event, exercise_profile: ExerciseLookup) -> str | None:
    if ev.session is None or ev.set is None:
        return "set_start without a session or set id"
    if r.session is None:
        r.session = ev.session  # joined mid-session without the store: child unknown
    if ev.session != r.session:
        return f"set_start for session {ev.session!r}, not the room's {r.session!r}"
    if r.current is not None and r.current.id == ev.set:
        return None  # the same set started again: nothing changes
    exercise, support = str(ev.data["exercise"]), str(ev.data["support"])
    catalog = exercise_profile(exercise)
    if catalog is None or support not in SUPPORT_POINTS:
        return f"set {ev.set}: unknown exercise {exercise!r} or support point {support!r}"
    profile = rep_profile(catalog)
    if profile is None and catalog not in PROFILE_FOR_CATALOG:
        log.info("engine: exercise %s has profile %r, not one the engine counts: the "
                 "therapist counts its reps", exercise, catalog)
    r.current = _Set(ev.set, ev.session, exercise, str(ev.data["surface"]), support,
                     int(ev.data["planned_reps"]), ev.t, profile)
    return None


def _set_end(r: _Room, ev: Event, _: ExerciseLookup) -> str | None:
    if r.current is None or ev.set != r.current.id:
        running = None if r.current is None else r.current.id
        return f"set_end for set {ev.set!r}, not the running set {running!r}"
    r.current = None
    return None


def _rep(r: _Room, ev: Event, _: ExerciseLookup) -> str | None:
    s = r.current
    if ev.set is None and ev.session is None:
        return "rep without a set or session id"
    if s is None or (ev.set or s.id) != s.id or (ev.session or s.session) != s.session:
        running = None if s is None else f"{s.id} of {s.session}"
        return (f"rep for set {ev.set!r} of session {ev.session!r}, not the running set "
                f"{running!r}")
    s.applied.append(ev)
    s.apply(ev)  # a −1 with nothing to revoke changes nothing, as in the store
    return None


def _annotation(r: _Room, ev: Event, _: ExerciseLookup) -> str | None:
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


_Handler = Callable[[_Room, Event, ExerciseLookup], "str | None"]
_HANDLERS: dict[str, _Handler] = {
    "session_start": _session_start,
    "session_end": _session_end,
    "set_start": _set_start,
    "set_end": _set_end,
    "rep": _rep,
    "tag": _annotation,
    "note": _annotation,
}
