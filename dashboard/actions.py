"""What the therapist's taps and keys mean: pure functions from an action and the room's
live state to the :class:`~contract.Event` to publish.

The state comes from the session engine's snapshot on the server, never from the
browser, so a tampered page cannot end another room's set. Every refusal is an
:class:`ActionError` whose message the remote shows as it is.

A session starts only for a child the store knows (and the user may see): children are
added by an admin, never by a session start, so a forged child id is refused here before
anything is published (and the store refuses it too).
"""

from __future__ import annotations

import secrets
from collections.abc import Container
from typing import Protocol

from contract import Event, SchemaError

DEFAULT_TAGS = ("catch", "independent", "support-moved-distal", "fatigue", "upset")
QUALITIES = ("independent", "assisted", "passive", "refused")
SENSITIVITIES = {"fewer": "Fewer reps", "normal": "Normal", "more": "More reps"}
"""The rep counter's sensitivity steps (``analysis.repsettings.Sensitivity``), as shown."""


class ActionError(ValueError):
    """An action that cannot be done now; the message is for the therapist."""


class RoomStateLike(Protocol):
    @property
    def session(self) -> str | None: ...

    @property
    def set(self) -> str | None: ...


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def _event(kind: str, *, now: float, author: str, session: str | None = None,
           set_id: str | None = None, data: dict[str, object] | None = None) -> Event:
    try:
        return Event(type=kind, t=now, session=session, set=set_id, author=author,
                     data=data or {})
    except SchemaError as exc:
        raise ActionError(f"cannot send that: {exc}") from None


def start_session(state: RoomStateLike | None, *, child: str | None, author: str,
                  now: float, children: Container[str] | None = None) -> Event:
    """``children``: the children this user may start a session for (None: not checked
    here; the store still refuses a child it does not know)."""
    if state is not None and state.session:
        raise ActionError("A session is already running in this room. End it first.")
    if not child:
        raise ActionError("Pick the child first.")
    if children is not None and child not in children:
        raise ActionError(f"No child {child!r} in the records. An admin adds children on "
                          "the admin page.")
    return _event("session_start", now=now, author=author, session=new_id("ses"),
                  data={"child": child})


def end_session(state: RoomStateLike | None, *, author: str, now: float) -> list[Event]:
    """End the session (and the running set, if any)."""
    if state is None or not state.session:
        raise ActionError("No session is running.")
    events = []
    if state.set:
        events.append(_event("set_end", now=now, author=author, session=state.session,
                             set_id=state.set))
    events.append(_event("session_end", now=now, author=author, session=state.session))
    return events


def start_set(state: RoomStateLike | None, *, exercise: str | None, surface: str | None,
              support: str | None, planned_reps: int | None, author: str,
              now: float) -> Event:
    if state is None or not state.session:
        raise ActionError("Start a session first.")
    if state.set:
        raise ActionError("A set is running. End it before starting the next.")
    missing = [name for name, value in (("exercise", exercise), ("surface", surface),
                                        ("support point", support)) if not value]
    if missing:
        raise ActionError("Pick the " + " and ".join(missing) + ".")
    if planned_reps is None or not 0 <= planned_reps <= 100:
        raise ActionError("Planned reps must be a number from 0 to 100.")
    return _event("set_start", now=now, author=author, session=state.session,
                  set_id=new_id("set"),
                  data={"exercise": exercise, "surface": surface, "support": support,
                        "planned_reps": int(planned_reps)})


def end_set(state: RoomStateLike | None, *, quality: str | None, author: str,
            now: float) -> Event:
    if state is None or not state.set:
        raise ActionError("No set is running.")
    data: dict[str, object] = {}
    if quality:
        if quality not in QUALITIES:
            raise ActionError(f"Unknown response quality {quality!r}.")
        data["quality"] = quality
    return _event("set_end", now=now, author=author, session=state.session,
                  set_id=state.set, data=data)


def toggle_set(state: RoomStateLike | None, *, last: dict[str, object] | None, author: str,
               now: float) -> Event:
    """The wall's ``s`` key: end the running set, or repeat the last set's settings."""
    if state is not None and state.set:
        return end_set(state, quality=None, author=author, now=now)
    if not last:
        raise ActionError("Set up the first set on the remote.")
    reps = last.get("planned_reps")
    return start_set(state, exercise=str(last.get("exercise") or ""),
                     surface=str(last.get("surface") or ""),
                     support=str(last.get("support") or ""),
                     planned_reps=reps if isinstance(reps, int) else None,
                     author=author, now=now)


def rep(state: RoomStateLike | None, *, delta: int, author: str, now: float) -> Event:
    if state is None or not state.set:
        raise ActionError("Start a set to count reps.")
    return _event("rep", now=now, author=author, session=state.session, set_id=state.set,
                  data={"delta": delta, "source": "manual"})


def correct_last_set(state: RoomStateLike | None, *, delta: int, last_set: str | None,
                     last_ended: bool, author: str, now: float) -> Event:
    """+1 / −1 on the final count of the session's last set, after it ended (the counter
    learns from it as from a correction during the set)."""
    if state is None or not state.session:
        raise ActionError("Start a session first.")
    if state.set:
        raise ActionError("A set is running: correct its count with +1 / −1 above.")
    if last_set is None or not last_ended:
        raise ActionError("No finished set to correct.")
    return _event("rep", now=now, author=author, session=state.session, set_id=last_set,
                  data={"delta": delta, "source": "manual"})


def tag(state: RoomStateLike | None, *, name: str, author: str, now: float,
        family_visible: bool = False) -> Event:
    if state is None or not state.session:
        raise ActionError("Start a session to tag it.")
    return _event("tag", now=now, author=author, session=state.session, set_id=state.set,
                  data={"tag": name, "family_visible": family_visible})


def note(state: RoomStateLike | None, *, text: str | None, author: str, now: float,
         family_visible: bool = False) -> Event:
    if state is None or not state.session:
        raise ActionError("Start a session to add notes.")
    text = (text or "").strip()
    if not text:
        raise ActionError("Write the note first.")
    if len(text) > 2000:
        raise ActionError("Notes can be at most 2,000 characters.")
    return _event("note", now=now, author=author, session=state.session, set_id=state.set,
                  data={"text": text, "family_visible": family_visible})


def sensitivity(*, child: str | None, exercise: str | None, step: object,
                children: Container[str]) -> tuple[str, str, str]:
    """(child, exercise, step) for a sensitivity change, or why it cannot be made."""
    if not exercise:
        raise ActionError("Pick the exercise to set how readily its reps count.")
    if not child:
        raise ActionError("Start a session or pick the child first.")
    if child not in children:
        raise ActionError(f"No child {child!r} in the records.")
    if not isinstance(step, str) or step not in SENSITIVITIES:
        raise ActionError(f"Sensitivity must be one of {', '.join(SENSITIVITIES)}.")
    return child, exercise, step


def dispatch(trigger: str, form: dict[str, object], state: RoomStateLike | None, *,
             author: str, now: float, children: Container[str] | None = None,
             last_set: tuple[str, bool] | None = None) -> tuple[list[Event], str]:
    """The events a remote button means, and the confirmation to show (``children``: as
    for :func:`start_session`; ``last_set``: the session's last set and whether it
    ended, for a correction of its final count)."""
    from dashboard import ids  # local: ids is a leaf module, keeps this module UI-free

    def text(key: str) -> str | None:
        value = form.get(key)
        return value if isinstance(value, str) and value else None

    if trigger == ids.REMOTE_REP_PLUS:
        return [rep(state, delta=1, author=author, now=now)], "+1 rep"
    if trigger == ids.REMOTE_REP_MINUS:
        return [rep(state, delta=-1, author=author, now=now)], "−1 rep"
    if trigger == ids.REMOTE_SET_START:
        planned = form.get("planned")
        reps = planned if isinstance(planned, int) and not isinstance(planned, bool) else None
        return [start_set(state, exercise=text("exercise"), surface=text("surface"),
                          support=text("support"), planned_reps=reps, author=author,
                          now=now)], "Set started"
    if trigger == ids.REMOTE_SET_END:
        return [end_set(state, quality=text("quality"), author=author, now=now)], "Set ended"
    shared = bool(form.get("family"))
    if trigger == ids.REMOTE_NOTE_ADD:
        return [note(state, text=text("note"), author=author, now=now, family_visible=shared)], \
            "Note added" + (" (the family sees it)" if shared else "")
    if trigger == ids.REMOTE_SESSION_START:
        return [start_session(state, child=text("child"), author=author, now=now,
                              children=children)], "Session started"
    if trigger == ids.REMOTE_SESSION_END:
        return end_session(state, author=author, now=now), "Session ended"
    if trigger in ("fix:1", "fix:-1"):
        delta = 1 if trigger == "fix:1" else -1
        set_id, ended = last_set or (None, False)
        return [correct_last_set(state, delta=delta, last_set=set_id, last_ended=ended,
                                 author=author, now=now)], \
            f"Last set {'+1' if delta == 1 else '−1'}"
    if trigger.startswith("tag:"):
        name = trigger.removeprefix("tag:")
        return [tag(state, name=name, author=author, now=now, family_visible=shared)], \
            f"Tagged: {name}"
    raise ActionError("Unknown action.")
