"""Pieces every device module shares: errors, the parsed :class:`Frame`, strict numbers.

Exception tree of ``ingest.devices``::

    ValueError
    ├── ParseError          one input line or row is malformed; the source counts it in
    │                       ``rejects``, logs it and skips it (never raised by ``read``)
    └── ConfigError         a device configuration value is wrong (raised on creation)
    OSError
    └── DeviceUnavailable   (base.py) the port or file is gone; the service reopens it

Parsers are pure ``bytes -> Frame`` functions that raise only :class:`ParseError`.
Numbers are parsed strictly: plain decimal or scientific notation, ASCII only; ``nan``,
``inf``, ``1_000``, hex and empty fields are errors.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""Device ids are topic segments (same rule as ``contract``)."""

_NUMBER = re.compile(rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_UINT = re.compile(rb"\d{1,20}")
_SEPARATOR = re.compile(rb"[,;]")
_PREVIEW = 60


class ParseError(ValueError):
    """One line (or file row) could not be parsed; the message says what and shows it."""

    def __init__(self, message: str, line: bytes | None = None) -> None:
        text = f"{message} in {preview(line)}" if line is not None else message
        super().__init__(text)
        self.line = line


class ConfigError(ValueError):
    """A device configuration value is invalid; the message names the field."""


def preview(line: bytes) -> str:
    """A short printable form of a raw line for log messages."""
    shown = line[:_PREVIEW]
    more = "…" if len(line) > _PREVIEW else ""
    return repr(shown) + more


@dataclass(frozen=True, slots=True)
class Frame:
    """What a line parser returns.

    ``t_dev`` is the device timestamp in seconds exactly as sent (it may wrap around),
    or ``None`` when the line carries none; ``values`` are in the source's column order
    and units (kg, g, deg/s, µT).
    """

    t_dev: float | None
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.t_dev is not None and not (math.isfinite(self.t_dev) and self.t_dev >= 0):
            raise ParseError(f"device time {self.t_dev!r} is not a finite number >= 0")
        if not all(math.isfinite(v) for v in self.values):
            raise ParseError(f"values {self.values!r} are not all finite")


def split_fields(line: bytes) -> list[bytes]:
    """Split a comma- or semicolon-separated line into stripped fields."""
    return [field.strip() for field in _SEPARATOR.split(line.strip())]


def number(field: bytes, what: str, line: bytes) -> float:
    """Parse one decimal field strictly, or raise :class:`ParseError` naming ``what``."""
    if not _NUMBER.fullmatch(field):
        raise ParseError(f"{what} is not a number ({preview(field)})", line)
    value = float(field)
    if not math.isfinite(value):
        raise ParseError(f"{what} is out of range ({preview(field)})", line)
    return value


def counter(field: bytes, what: str, line: bytes) -> int:
    """Parse an unsigned integer counter field (a device timestamp)."""
    if not _UINT.fullmatch(field):
        raise ParseError(f"{what} is not an unsigned integer ({preview(field)})", line)
    return int(field)


def check_range(value: float, low: float, high: float, what: str, line: bytes) -> float:
    if not low <= value <= high:
        raise ParseError(f"{what} = {value:g} is outside [{low:g}, {high:g}]", line)
    return value


def counted_fields(
    line: bytes, n_values: int, *, time_unit: float
) -> tuple[float | None, list[bytes]]:
    """Split ``[timestamp,] v1, …, vn``: the timestamp is an unsigned counter, optional.

    Returns the timestamp in seconds (``counter * time_unit``) or ``None``, and the
    ``n_values`` value fields.
    """
    fields = split_fields(line)
    if len(fields) == n_values:
        return None, fields
    if len(fields) == n_values + 1:
        return counter(fields[0], "timestamp", line) * time_unit, fields[1:]
    raise ParseError(
        f"expected {n_values} values (or a timestamp and {n_values}), got {len(fields)} fields",
        line,
    )


# ----------------------------------------------------------------------------- config helpers


def check_device_id(value: object, field: str = "device") -> str:
    if not isinstance(value, str) or not DEVICE_ID.match(value):
        raise ConfigError(
            f"{field}: {value!r} is not a valid device id "
            "(lowercase letters, digits, '-' or '_', at most 64)"
        )
    return value


def check_placement(value: object) -> str:
    if not isinstance(value, str) or (value and not DEVICE_ID.match(value)):
        raise ConfigError(f"placement: {value!r} is not a valid placement name")
    return value


def float_tuple(value: object, field: str, size: int) -> tuple[float, ...]:
    """A sequence of ``size`` finite numbers (lists from TOML accepted) as a tuple."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigError(f"{field}: expected {size} numbers, got {value!r}")
    items = list(value)
    if len(items) != size:
        raise ConfigError(f"{field}: expected {size} numbers, got {len(items)}")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise ConfigError(f"{field}[{i}]: {item!r} is not a finite number")
        out.append(float(item))
    return tuple(out)


def positive(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{field}: must be a number > 0, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{field}: must be finite, got {value!r}")
    return float(value)


def permutation(value: object, field: str, names: Iterable[str]) -> tuple[str, ...]:
    """Each of ``names`` exactly once, in any order (lists from TOML accepted)."""
    wanted = tuple(names)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(f"{field}: expected a list of {', '.join(wanted)}, got {value!r}")
    items = tuple(value)
    if sorted(items) != sorted(wanted):
        raise ConfigError(f"{field}: expected each of {', '.join(wanted)} once, got {items!r}")
    return items


def new_boot_id(prefix: str = "boot") -> str:
    """A boot id unique across process restarts (the recorder dedupes on device+boot+seq)."""
    return f"{prefix[:40]}-{uuid.uuid4().hex[:16]}"


# ----------------------------------------------------------------------------- reject logging


def log_reject(
    logger: logging.Logger, count: int, device: str, where: str, error: Exception
) -> None:
    """Log a rejected input: the first ten at WARNING, then every 1000th, the rest at DEBUG."""
    level = logging.WARNING if count <= 10 or count % 1000 == 0 else logging.DEBUG
    logger.log(level, "%s: rejected input #%d from %s: %s", device, count, where, error)
