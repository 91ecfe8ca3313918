"""Frozen value objects the store returns (never SQLAlchemy rows); the domain's words are in
:mod:`contract.vocab`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InsertResult:
    inserted: int
    duplicates: int


@dataclass(frozen=True)
class DeviceRow:
    device: str
    kind: str
    site: str | None
    room: str | None
    placement: str
    calibration: dict[str, Any] | None


@dataclass(frozen=True)
class GapRow:
    id: int
    device: str
    boot: str
    t_from: float
    t_to: float
    reason: str
    site: str | None = None
    room: str | None = None


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    t: float
    topic: str
    payload: bytes  # its first tables.QUARANTINE_PAYLOAD bytes
    reason: str
    size: int  # bytes as it came


@dataclass(frozen=True)
class DeviceState:
    """What ``dmi-live status`` says of one device."""

    site: str | None
    room: str | None
    device: str
    kind: str
    last_stored_t: float | None  # host time of its newest stored sample
    samples: int | None  # stored samples (None: not counted)
    gaps: int
    last_gap: GapRow | None


@dataclass(frozen=True)
class ChildRow:
    pseudonym: str
    display_name: str
    created: float

    @property
    def label(self) -> str:
        """What a screen shows: the display name, or the pseudonym when there is none."""
        return self.display_name or self.pseudonym


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    role: str
    password_hash: str
    disabled: bool
    created: float


@dataclass(frozen=True)
class FamilyLinkRow:
    id: int
    child: str
    token_hash: str
    created_by: str
    created: float
    expires: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def is_valid(self, now: float) -> bool:
        """True while the link may be used: not revoked and not expired at ``now``."""
        return self.revoked_at is None and now < self.expires


@dataclass(frozen=True)
class AuditRow:
    id: int
    t: float
    who: str
    action: str
    child: str | None
    detail: str


@dataclass(frozen=True)
class ExerciseRow:
    key: str
    name: str
    domain: str
    default_reps: int
    signal_profile: str
    editable: bool


@dataclass(frozen=True)
class SessionRow:
    id: str
    child: str
    site: str
    room: str
    therapist: str | None
    start: float
    end: float | None


@dataclass(frozen=True)
class SetRow:
    id: str
    session: str
    exercise: str
    surface: str
    support: str
    planned_reps: int
    start: float
    end: float | None
    quality: str | None


@dataclass(frozen=True)
class RepRow:
    id: int
    event_id: str
    set: str
    t: float
    source: str
    confidence: float | None
    peak: float | None
    revoked_by: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_by is not None


@dataclass(frozen=True)
class AnnotationRow:
    id: str
    session: str
    set: str | None
    t: float
    author: str | None
    tag: str | None
    text: str
    family_visible: bool


@dataclass(frozen=True)
class SignInRow:
    """A staff member's sign-in (one browser); ``id`` is the hash of the cookie's token."""

    id: str
    username: str
    address: str
    created: float
    last_seen: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class ThrottleRow:
    """Failed sign-ins counted under one key, and until when that key must wait."""

    key: str
    failures: int
    last_failure: float
    blocked_until: float


@dataclass(frozen=True)
class KioskLinkRow:
    """A wall-screen link for one room, until it expires or is revoked."""

    id: str
    room: str
    created_by: str
    created: float
    expires: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def is_valid(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires


@dataclass(frozen=True)
class RepCalibrationRow:
    """The rep counter's settings for one child and exercise.

    ``calibration``: the learned settings as JSON (``analysis.repsettings.Calibration``),
    None until a corrected set taught something; ``sensitivity``: fewer, normal or more.
    """

    child: str
    exercise: str
    calibration: str | None
    sensitivity: str
    updated_at: float
