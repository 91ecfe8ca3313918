"""The session engine's building blocks: which signal counts each exercise's reps, the
counter's settings, outgoing messages, the rep tally (the store's counting rule in
memory) and per-room state."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from analysis.imu import TrunkTilt
from analysis.repcount import RepCounter
from analysis.repsettings import Calibration, Sensitivity
from analysis.stream import SlidingSway
from contract import (
    MAX_TEXT,
    Event,
    Note,
    RoomState,
    SchemaError,
    Tilt,
)
from store.errors import NotFound

log = logging.getLogger(__name__)

Source = Literal["imu", "cop"]
"""What a set's reps are counted on: the room's trunk IMU, or its board's COP."""

PROFILE_FOR_CATALOG: dict[str, Source | None] = {
    "vertical-transfer": "imu",
    "step": "imu",
    "ml-shift": "cop",
    "ap-shift": "cop",
    "reach": "cop",
    "static-hold": None,
    "perturbation": None,
}
"""Catalog ``signal_profile`` → the device whose samples count its reps (None: the
therapist counts: a hold has no reps, a protective reaction is elicited, not repeated)."""
BOARD_COLUMNS = ("fl", "fr", "bl", "br")
IMU_COLUMNS = ("ax", "ay", "az", "gx", "gy", "gz")
SWAY_WINDOW_S = 10.0
SNAPSHOT_PERIOD_S = 0.1
STALE_S = 2.0
MAX_SESSION_AGE_S = 12 * 3600.0
_SEEN_IDS = 20_000

ExerciseLookup = Callable[[str], "str | None"]
"""Exercise key → its catalog ``signal_profile``; None when the exercise is unknown."""


MAX_LEARN_S = 600.0
"""A set longer than this is not kept for calibration (its samples would be a lot of
memory for one label)."""


def rep_source(signal_profile: str) -> Source | None:
    """The device kind that counts a catalog profile's reps; None: counted by hand."""
    return PROFILE_FOR_CATALOG.get(signal_profile)


@dataclass(frozen=True)
class RepSetup:
    """The counter's settings for one child and exercise (from the store)."""

    calibration: Calibration | None = None
    sensitivity: Sensitivity = Sensitivity.NORMAL


SetupLookup = Callable[["str | None", str], RepSetup]
"""(child, exercise) → the counter's settings; the child is None when unknown."""


def default_setup(child: str | None, exercise: str) -> RepSetup:
    return RepSetup()


@dataclass(frozen=True)
class Labelled:
    """A finished set whose count the therapist corrected: what calibration learns from.

    ``t``, ``x``: the samples the set's counter was fed (``x``: acc m/s² + gyr deg/s, or
    COP ml, ap cm); ``count``: the set's final count; ``auto``: what the counter counted.
    """

    child: str
    exercise: str
    kind: Source
    fs: float
    t: np.ndarray
    x: np.ndarray
    count: int
    auto: int
    sensitivity: Sensitivity


@dataclass(frozen=True)
class Outgoing:
    """A message for the engine's owner to publish."""

    topic: str
    message: Event | RoomState
    qos: int
    retain: bool

    @property
    def payload(self) -> bytes:
        return self.message.encode()


@dataclass
class EngineStats:
    batches: int = 0
    duplicates: int = 0
    events: int = 0
    ignored_events: int = 0
    rejected: int = 0
    reps_detected: int = 0
    snapshots: int = 0


class RepTally:
    """The reps of one set that stand, by the store's rule (:mod:`store.events`).

    +1 adds a rep; a manual −1 revokes the latest standing rep whatever its source; an
    automatic −1 revokes only the latest automatic one; "latest" is by rep time, then
    by arrival. A −1 with nothing to revoke changes nothing.
    """

    def __init__(self) -> None:
        self._standing: list[tuple[float, int, str]] = []
        self._order = 0

    @property
    def count(self) -> int:
        return len(self._standing)

    def add(self, t: float, source: str) -> None:
        self._order += 1
        self._standing.append((t, self._order, source))

    def revoke(self, source: str) -> bool:
        candidates = [r for r in self._standing if source == "manual" or r[2] == "auto"]
        if not candidates:
            return False
        self._standing.remove(max(candidates))
        return True


@dataclass
class _Device:
    id: str
    kind: str
    fs: float
    boot: str
    next_seq: int
    last_seen: float
    sway: SlidingSway | None = None
    tilt: TrunkTilt | None = None
    last_tilt: Tilt | None = None


@dataclass
class _Set:
    id: str
    session: str
    exercise: str
    surface: str
    support: str
    planned_reps: int
    started: float
    source: Source | None
    setup: RepSetup = field(default_factory=RepSetup)
    child: str | None = None
    tally: RepTally = field(default_factory=RepTally)
    applied: list[Event] = field(default_factory=list)  # rep events counted live
    counter: RepCounter | None = None
    counter_device: str = ""
    corrected: bool = False  # the therapist gave a +1 or −1 in this set
    complete: bool = True  # every sample since the start went to one counter
    kept_t: list[np.ndarray] = field(default_factory=list)  # ... and is kept to learn from
    kept_x: list[np.ndarray] = field(default_factory=list)
    kept_n: int = 0

    def keep(self, t: np.ndarray, x: np.ndarray, fs: float) -> None:
        """Keep what the counter was fed, for calibration, up to :data:`MAX_LEARN_S`."""
        if not self.complete:
            return
        if self.kept_n + t.size > MAX_LEARN_S * fs:
            self.complete = False
            self.kept_t, self.kept_x, self.kept_n = [], [], 0
            return
        self.kept_t.append(t)
        self.kept_x.append(x)
        self.kept_n += t.size

    def labelled(self) -> Labelled | None:
        """This finished set as a label, if the therapist corrected it and the counter
        saw all of it."""
        c = self.counter
        if not (self.corrected and self.complete and c is not None and self.kept_n
                and self.child is not None and self.source is not None):
            return None
        return Labelled(self.child, self.exercise, self.source, c.fs,
                        np.concatenate(self.kept_t), np.vstack(self.kept_x), self.tally.count,
                        c.count, self.setup.sensitivity)

    def apply(self, ev: Event) -> bool:
        if ev.data["source"] == "manual":
            self.corrected = True
        if ev.data["delta"] == 1:
            self.tally.add(ev.t, str(ev.data["source"]))
            return True
        return self.tally.revoke(str(ev.data["source"]))


@dataclass
class _Room:
    name: str
    session: str | None = None
    child: str | None = None
    current: _Set | None = None
    closing: _Set | None = None  # the set just ended: its last reps are still on their way
    note: Note | None = None
    board: _Device | None = None
    imu: _Device | None = None
    placements: dict[str, str] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    shown: tuple[Any, ...] | None = None
    next_due: float = -math.inf
    fresh_samples: bool = False


def _ended(store: Any, session: str) -> bool:
    """True when the store holds ``session`` as ended; False while it does not know it
    yet (the recorder commits a moment after the engine hears an event)."""
    try:
        return store.session(session).end is not None
    except NotFound:
        return False


def _note(t: float, tag: str | None, text: str, visible: bool) -> Note:
    """The snapshot's form of a tag or note (a tag that is no valid id is left out)."""
    try:
        return Note(t, tag, text[:MAX_TEXT], visible)
    except SchemaError:
        return Note(t, None, text[:MAX_TEXT], visible)
