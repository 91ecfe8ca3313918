"""Four-load-cell boards built from an Arduino and HX711 amplifiers.

Wire format: one line per sample, fields separated by commas or semicolons (mixed is
fine), spaces around fields ignored, line ends CR, LF or CRLF::

    [millis,]v1,v2,v3,v4

``millis`` is an optional unsigned device timestamp (``time_unit`` seconds per count,
default 1 ms); the four values are raw HX711 readings (or kg, with the default
calibration) of the corners listed in ``order``. Each corner is converted with its own
tare and scale, ``kg = (raw − offset) / scale``, and must lie within
``[min_kg, max_kg]``: a corner a little below zero is noise after taring, one far below
or above 300 kg is a broken cell, a saturated amplifier or a misparsed line.

Example Arduino sketch output, corners sent front-right first::

    12034;-1503.0;-1511.0;-1498.5;-1502.25
"""

from __future__ import annotations

import functools
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


@dataclass(frozen=True, kw_only=True)
class Hx711Format:
    """How to read an HX711 board line.

    ``order`` names the corner of each value field as sent; ``offsets`` (raw reading
    with nothing on the board) and ``scales`` (raw counts per kg, negative for a cell
    mounted upside down) are given per corner in ``BOARD_COLUMNS`` order (fl, fr, bl, br).
    """

    order: tuple[str, ...] = BOARD_COLUMNS
    offsets: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    scales: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    time_unit: float = 0.001
    min_kg: float = -2.0
    max_kg: float = 300.0
    _fields: tuple[int, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        Hx711Format._check_format(self)

    def _check_format(self) -> None:
        order = permutation(self.order, "order", BOARD_COLUMNS)
        offsets = float_tuple(self.offsets, "offsets", 4)
        scales = float_tuple(self.scales, "scales", 4)
        for corner, scale in zip(BOARD_COLUMNS, scales, strict=True):
            if scale == 0:
                raise ConfigError(f"scales: the {corner} scale must not be 0")
        positive(self.time_unit, "time_unit")
        if not isinstance(self.min_kg, int | float) or not self.min_kg <= 0:
            raise ConfigError(f"min_kg: must be a number <= 0, got {self.min_kg!r}")
        positive(self.max_kg, "max_kg")
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "scales", scales)
        # value field index of each corner, in BOARD_COLUMNS order
        object.__setattr__(self, "_fields", tuple(order.index(c) for c in BOARD_COLUMNS))


@dataclass(frozen=True, kw_only=True)
class Hx711Config(SerialConfig, Hx711Format):
    """Room-file configuration of an HX711 board: port settings plus :class:`Hx711Format`."""

    def __post_init__(self) -> None:
        self._check_port()
        self._check_format()


def parse_line(line: bytes, fmt: Hx711Format) -> Frame:
    """Parse one line into corner loads in kg (``BOARD_COLUMNS`` order).

    Raises :class:`ParseError` saying what is wrong.

    Examples
    --------
    >>> parse_line(b"1500,4.5,4.6,4.4,4.5", Hx711Format())
    Frame(t_dev=1.5, values=(4.5, 4.6, 4.4, 4.5))
    >>> fmt = Hx711Format(order=("fr", "fl", "br", "bl"), scales=(2.0, 2.0, 2.0, 2.0))
    >>> parse_line(b"10; 20; 30; 40", fmt).values
    (10.0, 5.0, 20.0, 15.0)
    """
    t_dev, fields = counted_fields(line, 4, time_unit=fmt.time_unit)
    values = []
    for corner, index, offset, scale in zip(
        BOARD_COLUMNS, fmt._fields, fmt.offsets, fmt.scales, strict=True
    ):
        raw = number(fields[index], corner, line)
        kg = (raw - offset) / scale
        values.append(check_range(kg, fmt.min_kg, fmt.max_kg, f"{corner} load (kg)", line))
    return Frame(t_dev, tuple(values))


def hx711_source(cfg: Hx711Config) -> SerialSource:
    """The board on ``cfg.url`` as a :class:`~ingest.devices.base.Source`."""
    return SerialSource(
        cfg,
        functools.partial(parse_line, fmt=cfg),
        kind="board",
        columns=BOARD_COLUMNS,
        time_unit=cfg.time_unit,
    )


__all__ = ["Hx711Config", "Hx711Format", "ParseError", "hx711_source", "parse_line"]
