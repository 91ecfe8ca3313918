"""Boards reporting raw counts per corner, calibrated like the Wii Balance Board.

Each corner has three calibration readings, at 0, 17 and 34 kg (the Wii board stores
them in its EEPROM; a bridge such as a Bluetooth-to-serial adapter prints them at
start-up or they are copied into the room file). A raw count becomes kg by linear
interpolation between the points, and by extrapolating the 17–34 kg segment above
34 kg (and the 0–17 kg segment below 0), as the Wii software does.

Wire format, one line per sample, comma- or semicolon-separated::

    [millis,]r1,r2,r3,r4

``order`` names the corner of each raw field; the default is the Wii report order
(top-right, bottom-right, top-left, bottom-left = fr, br, fl, bl).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.devices.base import BOARD_COLUMNS
from ingest.devices.common import (
    ConfigError,
    Frame,
    ParseError,
    check_range,
    counted_fields,
    float_tuple,
    number,
    permutation,
    positive,
)
from ingest.devices.serial_source import SerialConfig, SerialSource

WII_ORDER = ("fr", "br", "fl", "bl")
CAL_KG = (0.0, 17.0, 34.0)


@dataclass(frozen=True, kw_only=True)
class WiiFormat:
    """``calibration``: per corner in ``BOARD_COLUMNS`` order (fl, fr, bl, br), the raw
    counts at 0, 17 and 34 kg, strictly increasing."""

    calibration: tuple[tuple[float, float, float], ...]
    order: tuple[str, ...] = WII_ORDER
    time_unit: float = 0.001
    min_kg: float = -2.0
    max_kg: float = 300.0
    _fields: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        WiiFormat._check_format(self)

    def _check_format(self) -> None:
        cal = self.calibration
        if isinstance(cal, str) or not isinstance(cal, Sequence) or len(cal) != 4:
            raise ConfigError(f"calibration: expected 4 corners × 3 counts, got {cal!r}")
        points = []
        for corner, item in zip(BOARD_COLUMNS, cal, strict=True):
            c0, c17, c34 = float_tuple(item, f"calibration[{corner}]", 3)
            if not c0 < c17 < c34:
                raise ConfigError(
                    f"calibration[{corner}]: counts at 0, 17, 34 kg must increase, "
                    f"got {c0:g}, {c17:g}, {c34:g}"
                )
            points.append((c0, c17, c34))
        order = permutation(self.order, "order", BOARD_COLUMNS)
        positive(self.time_unit, "time_unit")
        if not isinstance(self.min_kg, int | float) or not self.min_kg <= 0:
            raise ConfigError(f"min_kg: must be a number <= 0, got {self.min_kg!r}")
        positive(self.max_kg, "max_kg")
        object.__setattr__(self, "calibration", tuple(points))
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "_fields", tuple(order.index(c) for c in BOARD_COLUMNS))


@dataclass(frozen=True, kw_only=True)
class WiiBoardConfig(SerialConfig, WiiFormat):
    """Room-file configuration: port settings plus :class:`WiiFormat`."""

    def __post_init__(self) -> None:
        self._check_port()
        self._check_format()


def counts_to_kg(raw: float, c0: float, c17: float, c34: float) -> float:
    """Piecewise-linear Wii calibration.

    Examples
    --------
    >>> counts_to_kg(1500, 1000, 2000, 3000), counts_to_kg(3500, 1000, 2000, 3000)
    (8.5, 42.5)
    """
    if raw < c17:
        return CAL_KG[1] * (raw - c0) / (c17 - c0)
    return CAL_KG[1] + (CAL_KG[2] - CAL_KG[1]) * (raw - c17) / (c34 - c17)


def parse_line(line: bytes, fmt: WiiFormat) -> Frame:
    """Parse raw counts into corner loads in kg (``BOARD_COLUMNS`` order); :class:`ParseError`
    if malformed or out of range."""
    t_dev, fields = counted_fields(line, 4, time_unit=fmt.time_unit)
    values = []
    for corner, index, (c0, c17, c34) in zip(
        BOARD_COLUMNS, fmt._fields, fmt.calibration, strict=True
    ):
        raw = number(fields[index], f"{corner} count", line)
        kg = counts_to_kg(raw, c0, c17, c34)
        values.append(check_range(kg, fmt.min_kg, fmt.max_kg, f"{corner} load (kg)", line))
    return Frame(t_dev, tuple(values))


def wiiboard_source(cfg: WiiBoardConfig) -> SerialSource:
    return SerialSource(
        cfg,
        functools.partial(parse_line, fmt=cfg),
        kind="board",
        columns=BOARD_COLUMNS,
        time_unit=cfg.time_unit,
    )


__all__ = ["ParseError", "WiiBoardConfig", "WiiFormat", "counts_to_kg", "parse_line"]
