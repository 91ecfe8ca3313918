"""The derived room snapshot: what every screen shows about one room, decided in one place.

The session engine (:mod:`record.engine`) publishes a :class:`RoomState` on
``dmi/v1/{site}/{room}/derived`` (retained, so a screen that connects late gets the
current state at once) whenever the room's state changes and about ten times a second
while samples flow. The wall, the tablet remote and the family view all read the rep
count from here, so they never disagree.

Payload (JSON, schema v1)::

    {"v": 1, "room": "room-1", "t": 1700000000.1,
     "session": "s-42", "child": "c-7f3a",                 # pseudonym, never a name
     "set": "set-3", "exercise": "sit-to-stand-foam", "surface": "foam-pad",
     "support": "pelvis", "planned_reps": 5, "reps": 2, "set_started_t": 1699999990.0,
     "auto_count": true,                                   # the engine detects reps
     "metrics": {"ellipse_area_cm2": 4.1, "mean_velocity_cm_s": 1.9,
                 "rms_cm": 0.8, "mean_frequency_hz": 0.31},  # or null
     "tilt": {"pitch": 4.2, "roll": -1.0},                   # degrees, or null
     "last_note": {"t": 1699999995.0, "tag": "fatigue", "text": "…",
                   "family_visible": false}}                 # or null

Set fields (``set`` … ``set_started_t``) are all null when no set is active; ``reps``
is then 0. A sway metric that cannot be computed (a perfectly still signal has no mean
frequency) is null. Privacy: the snapshot carries only identifiers; ``last_note.text``
is the therapist's note as it went over the events topic, and ``family_visible`` says
whether the family view may show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from contract.errors import SchemaError
from contract.plain import dumps as _dumps
from contract.plain import load as _load
from contract.plain import require as _require
from contract.vocab import MAX_TEXT, SCHEMA_VERSION
from contract.vocab import check_ident as _check_ident
from contract.vocab import check_int as _check_int
from contract.vocab import check_number as _check_number
from contract.vocab import check_segment as _check_segment
from contract.vocab import check_text as _check_text

SWAY_FIELDS = ("ellipse_area_cm2", "mean_velocity_cm_s", "rms_cm", "mean_frequency_hz")
_SET_FIELDS = ("set", "exercise", "surface", "support", "planned_reps", "set_started_t")


def _optional_number(name: str, value: object) -> float | None:
    return None if value is None else _check_number(name, value)


@dataclass(frozen=True)
class SwaySnapshot:
    """Sway of the room's board over the last window (cm, cm², cm/s, Hz; null = n/a)."""

    ellipse_area_cm2: float | None
    mean_velocity_cm_s: float | None
    rms_cm: float | None
    mean_frequency_hz: float | None

    def __post_init__(self) -> None:
        for name in SWAY_FIELDS:
            value = _optional_number(f"metrics.{name}", getattr(self, name))
            if value is not None and value < 0:
                raise SchemaError(f"metrics.{name}", f"must be ≥ 0, got {value!r}")

    @classmethod
    def from_values(cls, **values: float) -> SwaySnapshot:
        """Build from raw floats: NaN or infinite becomes null, finite ones are rounded."""
        clean = {
            name: round(float(values[name]), 4) if math.isfinite(values[name]) else None
            for name in SWAY_FIELDS
        }
        return cls(**clean)

    def as_dict(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in SWAY_FIELDS}


@dataclass(frozen=True)
class Tilt:
    """Trunk lean in degrees: pitch > 0 forward, roll > 0 to the right."""

    pitch: float
    roll: float

    def __post_init__(self) -> None:
        for name in ("pitch", "roll"):
            value = _check_number(f"tilt.{name}", getattr(self, name))
            if abs(value) > 180:
                raise SchemaError(f"tilt.{name}", f"{value!r} is not an angle in degrees")


@dataclass(frozen=True)
class Note:
    """The session's latest tag or note."""

    t: float
    tag: str | None
    text: str
    family_visible: bool = False

    def __post_init__(self) -> None:
        _check_number("last_note.t", self.t, positive=True)
        if self.tag is not None:
            _check_segment("last_note.tag", self.tag)
        _check_text("last_note.text", self.text, limit=MAX_TEXT, empty=True)
        if not isinstance(self.family_visible, bool):
            raise SchemaError("last_note.family_visible", "expected true or false")


@dataclass(frozen=True)
class RoomState:
    """One room's live state (see the module docstring for the wire form)."""

    room: str
    t: float
    session: str | None = None
    child: str | None = None
    set: str | None = None
    exercise: str | None = None
    surface: str | None = None
    support: str | None = None
    planned_reps: int | None = None
    reps: int = 0
    set_started_t: float | None = None
    auto_count: bool = False
    metrics: SwaySnapshot | None = None
    tilt: Tilt | None = None
    last_note: Note | None = None

    def __post_init__(self) -> None:
        _check_segment("room", self.room)
        _check_number("t", self.t, positive=True)
        for name in ("session", "child", "set", "exercise"):
            value = getattr(self, name)
            if value is not None:
                _check_ident(name, value)
        for name in ("surface", "support"):
            value = getattr(self, name)
            if value is not None:
                _check_segment(name, value)
        if self.planned_reps is not None:
            _check_int("planned_reps", self.planned_reps)
        _check_int("reps", self.reps)
        if self.set_started_t is not None:
            _check_number("set_started_t", self.set_started_t, positive=True)
        present = [name for name in _SET_FIELDS if getattr(self, name) is not None]
        if present and len(present) != len(_SET_FIELDS):
            missing = sorted(set(_SET_FIELDS) - set(present))
            raise SchemaError(missing[0], "a set needs all of " + ", ".join(_SET_FIELDS))
        if self.set is not None and self.session is None:
            raise SchemaError("session", "an active set needs its session")
        if self.set is None and (self.reps or self.auto_count):
            raise SchemaError("reps", "reps and auto_count need an active set")
        if self.child is not None and self.session is None:
            raise SchemaError("child", "a child needs a session")
        if not isinstance(self.auto_count, bool):
            raise SchemaError("auto_count", "expected true or false")
        for name, kind in (("metrics", SwaySnapshot), ("tilt", Tilt), ("last_note", Note)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise SchemaError(name, f"expected {kind.__name__} or null")

    def encode(self) -> bytes:
        note = self.last_note
        return _dumps(
            {
                "v": SCHEMA_VERSION,
                "room": self.room,
                "t": self.t,
                "session": self.session,
                "child": self.child,
                "set": self.set,
                "exercise": self.exercise,
                "surface": self.surface,
                "support": self.support,
                "planned_reps": self.planned_reps,
                "reps": self.reps,
                "set_started_t": self.set_started_t,
                "auto_count": self.auto_count,
                "metrics": None if self.metrics is None else self.metrics.as_dict(),
                "tilt": None if self.tilt is None else {
                    "pitch": self.tilt.pitch, "roll": self.tilt.roll},
                "last_note": None if note is None else {
                    "t": note.t, "tag": note.tag, "text": note.text,
                    "family_visible": note.family_visible},
            }
        )


def _object(name: str, value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SchemaError(name, "expected an object or null")
    return value


def _inner(data: dict[str, Any], name: str, key: str) -> Any:
    if key not in data:
        raise SchemaError(f"{name}.{key}", "missing")
    return data[key]


def decode_room_state(payload: bytes | str) -> RoomState:
    """Parse a derived snapshot; raises :class:`SchemaError` naming the field at fault."""
    data = _load(payload)
    metrics = _object("metrics", data.get("metrics"))
    tilt = _object("tilt", data.get("tilt"))
    note = _object("last_note", data.get("last_note"))
    return RoomState(
        room=_require(data, "room"),
        t=_require(data, "t"),
        session=data.get("session"),
        child=data.get("child"),
        set=data.get("set"),
        exercise=data.get("exercise"),
        surface=data.get("surface"),
        support=data.get("support"),
        planned_reps=data.get("planned_reps"),
        reps=_require(data, "reps"),
        set_started_t=data.get("set_started_t"),
        auto_count=data.get("auto_count", False),
        metrics=None if metrics is None else SwaySnapshot(
            **{name: metrics.get(name) for name in SWAY_FIELDS}),
        tilt=None if tilt is None else Tilt(
            pitch=_inner(tilt, "tilt", "pitch"), roll=_inner(tilt, "tilt", "roll")),
        last_note=None if note is None else Note(
            t=_inner(note, "last_note", "t"), tag=note.get("tag"), text=note.get("text", ""),
            family_visible=note.get("family_visible", False)),
    )
