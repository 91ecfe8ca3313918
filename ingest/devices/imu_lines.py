"""Wearable IMUs streaming one comma- or semicolon-separated line per sample.

``fields`` names each field as sent: ``t`` (device timestamp, ``time_unit`` seconds per
count), ``ax ay az`` (accelerometer), ``gx gy gz`` (gyroscope), optionally ``mx my mz``
(magnetometer, µT) and ``-`` for a field to ignore. The default is ``t,ax,ay,az,gx,gy,gz``
with time in ms. Accelerometer and gyroscope units are declared (``accel_unit`` "g" or
"m/s2", ``gyro_unit`` "deg/s" or "rad/s") and normalised to g and deg/s, the units of
``IMU_COLUMNS``. Values beyond the sensor's physical range (default ±16 g, ±4000 deg/s,
±5000 µT) mean a garbled line and are rejected.

Example, an x-io style logger sending time in seconds, gyroscope before accelerometer::

    ImuFormat(fields=("t", "gx", "gy", "gz", "ax", "ay", "az"), time_unit=1.0)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.devices.base import IMU_COLUMNS, IMU_MAG_COLUMNS
from ingest.devices.common import (
    ConfigError,
    Frame,
    ParseError,
    check_range,
    number,
    positive,
    split_fields,
)
from ingest.devices.serial_source import SerialConfig, SerialSource

G = 9.80665
ACCEL_UNITS = {"g": 1.0, "m/s2": 1.0 / G, "m/s^2": 1.0 / G}
GYRO_UNITS = {"deg/s": 1.0, "dps": 1.0, "rad/s": 180.0 / math.pi}
_KNOWN = {"t", "-", *IMU_MAG_COLUMNS}


@dataclass(frozen=True, kw_only=True)
class ImuFormat:
    """How to read an IMU line; see the module docstring."""

    fields: tuple[str, ...] = ("t", *IMU_COLUMNS)
    accel_unit: str = "g"
    gyro_unit: str = "deg/s"
    time_unit: float = 0.001
    max_accel_g: float = 16.0
    max_gyro_dps: float = 4000.0
    max_mag_ut: float = 5000.0
    _plan: tuple[tuple[int, int, float, float], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    _time: int = field(init=False, repr=False, compare=False, default=-1)

    def __post_init__(self) -> None:
        ImuFormat._check_format(self)

    @property
    def columns(self) -> tuple[str, ...]:
        return IMU_MAG_COLUMNS if "mx" in self.fields else IMU_COLUMNS

    def _check_format(self) -> None:
        names = self.fields
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise ConfigError(f"fields: expected a list of field names, got {names!r}")
        names = tuple(names)
        unknown = [n for n in names if n not in _KNOWN]
        if unknown:
            known = ", ".join(("t", *IMU_MAG_COLUMNS, "-"))
            raise ConfigError(f"fields: unknown names {unknown!r} (use {known})")
        repeated = {n for n in names if n != "-" and names.count(n) > 1}
        if repeated:
            raise ConfigError(f"fields: {sorted(repeated)!r} appear more than once")
        missing = [c for c in IMU_COLUMNS if c not in names]
        mag = [c for c in ("mx", "my", "mz") if c in names]
        if missing or len(mag) not in (0, 3):
            raise ConfigError(
                f"fields: need ax, ay, az, gx, gy, gz and all or none of mx, my, mz; got {names!r}"
            )
        if self.accel_unit not in ACCEL_UNITS:
            raise ConfigError(f"accel_unit: {self.accel_unit!r} is not one of {list(ACCEL_UNITS)}")
        if self.gyro_unit not in GYRO_UNITS:
            raise ConfigError(f"gyro_unit: {self.gyro_unit!r} is not one of {list(GYRO_UNITS)}")
        positive(self.time_unit, "time_unit")
        limits = {
            "a": positive(self.max_accel_g, "max_accel_g"),
            "g": positive(self.max_gyro_dps, "max_gyro_dps"),
            "m": positive(self.max_mag_ut, "max_mag_ut"),
        }
        factors = {"a": ACCEL_UNITS[self.accel_unit], "g": GYRO_UNITS[self.gyro_unit], "m": 1.0}
        columns = IMU_MAG_COLUMNS if mag else IMU_COLUMNS
        plan = tuple(
            (names.index(col), i, factors[col[0]], limits[col[0]]) for i, col in enumerate(columns)
        )
        object.__setattr__(self, "fields", names)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_time", names.index("t") if "t" in names else -1)


@dataclass(frozen=True, kw_only=True)
class ImuLineConfig(SerialConfig, ImuFormat):
    """Room-file configuration: port settings plus :class:`ImuFormat`."""

    def __post_init__(self) -> None:
        self._check_port()
        self._check_format()


def parse_line(line: bytes, fmt: ImuFormat) -> Frame:
    """Parse one IMU line into ``fmt.columns`` values in g, deg/s (and µT).

    Examples
    --------
    >>> fmt = ImuFormat(accel_unit="m/s2", gyro_unit="rad/s")
    >>> frame = parse_line(b"250,0,0,9.80665,0,3.14159265,0", fmt)
    >>> frame.t_dev, [round(v, 3) for v in frame.values]
    (0.25, [0.0, 0.0, 1.0, 0.0, 180.0, 0.0])
    """
    parts = split_fields(line)
    if len(parts) != len(fmt.fields):
        raise ParseError(f"expected {len(fmt.fields)} fields, got {len(parts)}", line)
    t_dev = None
    if fmt._time >= 0:
        t_raw = number(parts[fmt._time], "time", line)
        if t_raw < 0:
            raise ParseError(f"time {t_raw:g} is negative", line)
        t_dev = t_raw * fmt.time_unit
    values = [0.0] * len(fmt._plan)
    for index, slot, factor, limit in fmt._plan:
        what = fmt.fields[index]
        value = number(parts[index], what, line) * factor
        values[slot] = check_range(value, -limit, limit, what, line)
    return Frame(t_dev, tuple(values))


def imu_source(cfg: ImuLineConfig) -> SerialSource:
    return SerialSource(
        cfg,
        functools.partial(parse_line, fmt=cfg),
        kind="imu",
        columns=cfg.columns,
        time_unit=cfg.time_unit,
    )


__all__ = ["ImuFormat", "ImuLineConfig", "ParseError", "imu_source", "parse_line"]
