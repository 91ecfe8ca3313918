"""The shared vocabulary: ids, roles, kinds, columns, support points, surfaces.

One place for every word two packages must agree on, with the checks that go with them.
Each ``check_*`` returns the value or raises :class:`~contract.errors.SchemaError`
naming the field.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from contract.errors import SchemaError

SCHEMA_VERSION = 1
"""The wire schema's version: every payload's ``v``."""
MAX_TEXT = 2000
"""Characters of a note or any free text at the most."""
MAX_SEQ = 2**63 - 1
"""Sequence numbers are 64-bit integers (the store keeps them so)."""

SEGMENT = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""An id that stands in a topic or a URL: site, room, device, placement, exercise."""
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""An opaque id: a boot, a session, a set, an event, a child's pseudonym, an author."""
COLUMN = r"^[a-z][a-z0-9_]{0,31}$"
"""A sample column name."""
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
"""A staff account's user name."""

_SEGMENT = re.compile(SEGMENT)
_IDENT = re.compile(IDENT)

KINDS = ("board", "imu")
Kind = Literal["board", "imu"]
STATES = ("online", "stale", "offline")
State = Literal["online", "stale", "offline"]

BOARD_COLUMNS = ("fl", "fr", "bl", "br")
"""A balance board's four load cells (kg), front/back × left/right."""
IMU_ACC = ("ax", "ay", "az")
"""An IMU's accelerometer (g)."""
IMU_GYR = ("gx", "gy", "gz")
"""An IMU's gyroscope (deg/s)."""

ROLES = ("therapist", "supervisor", "admin")
"""Staff roles, least to most trusted."""
STAFF_ROLES = frozenset(ROLES)

SUPPORT_POINTS = ("trunk", "pelvis", "thigh", "knee", "shank", "ankle-foot", "none")
"""Where the therapist supports the child, proximal → distal; ``none`` is no support.
The index is the progression level: ``SUPPORT_POINTS.index("knee") == 3``."""
SURFACES = ("floor", "foam-pad", "ladder", "blocks", "ball", "bench", "balance-board", "wedge")
"""Surfaces in the default DMI set-up. Other surface ids are accepted (clinics have more)."""
DOMAINS = ("sitting", "kneeling", "standing", "transitions", "gait", "reactions")
"""Exercise catalog domains, roughly in developmental order."""
QUALITIES = ("independent", "assisted", "passive", "refused")
"""How the child responded to a set."""
REP_SOURCES = ("auto", "manual")

EVENT_TYPES = ("session_start", "session_end", "set_start", "set_end", "rep", "tag", "note")


def is_segment(value: object) -> bool:
    return isinstance(value, str) and _SEGMENT.match(value) is not None


def check_segment(name: str, value: object) -> str:
    if not is_segment(value):
        raise SchemaError(
            name, f"{value!r} is not a valid id (lowercase letters, digits, '-' or '_', ≤64)")
    return value  # type: ignore[return-value]


def check_ident(name: str, value: object) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise SchemaError(name, f"{value!r} is not a valid identifier")
    return value


def check_number(name: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(name, f"expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise SchemaError(name, "a number beyond the float range") from None
    if not math.isfinite(number):
        raise SchemaError(name, f"{value!r} is not a finite number")
    if positive and number <= 0:
        raise SchemaError(name, f"must be > 0, got {value!r}")
    return number


def check_int(name: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(name, f"expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise SchemaError(name, f"must be ≥ {minimum}, got {value}")
    if value > MAX_SEQ:
        raise SchemaError(name, "a whole number beyond 64 bits")
    return value


def check_text(name: str, value: object, *, limit: int = MAX_TEXT, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise SchemaError(name, f"expected text, got {type(value).__name__}")
    if not empty and not value.strip():
        raise SchemaError(name, "must not be empty")
    if len(value) > limit:
        raise SchemaError(name, f"longer than {limit} characters")
    return value


OUTCOME_MEASURES = {"GMFM-66": (0.0, 100.0), "PBS": (0.0, 56.0)}
"""Outcome scores a clinic takes by hand, with their range: Gross Motor Function Measure
(GMFM-66, 0–100) and the Pediatric Balance Scale (PBS, 0–56)."""
GAS_LEVELS = (-2, -1, 0, 1, 2)
"""Goal Attainment Scaling: −2 (much less than expected) … 0 (expected) … +2 (much more)."""
GAS_STAGES = ("start", "middle", "end")
"""When a goal's GAS level is recorded in a block."""
