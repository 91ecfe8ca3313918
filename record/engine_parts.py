"""The session engine's building blocks: profile table, outgoing messages, the rep
tally (the store's counting rule in memory) and per-room state."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from analysis.imu import TrunkTilt
from analysis.reps import DEFAULT_PROFILES, RepDetector, RepProfile
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

PROFILES: dict[str, RepProfile] = {
    **DEFAULT_PROFILES,
    "ap_shift": replace(DEFAULT_PROFILES["weight_shift"], signal="cop_ap_cm"),
}
PROFILE_FOR_CATALOG: dict[str, str | None] = {
    "vertical-transfer": "squat",
    "ml-shift": "weight_shift",
    "ap-shift": "ap_shift",
    "reach": "reach",
    "step": "step",
    "static-hold": None,
    "perturbation": None,
}
BOARD_COLUMNS = ("fl", "fr", "bl", "br")
IMU_COLUMNS = ("ax", "ay", "az", "gx", "gy", "gz")
SWAY_WINDOW_S = 10.0
SNAPSHOT_PERIOD_S = 0.1
STALE_S = 2.0
MAX_SESSION_AGE_S = 12 * 3600.0
_SEEN_IDS = 20_000

ExerciseLookup = Callable[[str], "str | None"]
"""Exercise key → its catalog ``signal_profile``; None when the exercise is unknown."""


def rep_profile(signal_profile: str) -> tuple[str, RepProfile] | None:
    """The analysis profile (name, profile) for a catalog profile, None for no auto count."""
    name = PROFILE_FOR_CATALOG.get(signal_profile, signal_profile)
    if name is None or name not in PROFILES:
        return None
    return name, PROFILES[name]


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
    profile: tuple[str, RepProfile] | None
    tally: RepTally = field(default_factory=RepTally)
    applied: list[Event] = field(default_factory=list)  # rep events counted live
    detector: RepDetector | None = None
    detector_device: str = ""

    def apply(self, ev: Event) -> bool:
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
