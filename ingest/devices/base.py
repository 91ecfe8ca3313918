"""The one interface every sample source implements (serial protocols, simulator, replayer).

A source is set up once, then ``read()`` is called in a loop by the ingest service; it
blocks for at most ``timeout`` seconds and returns whatever complete readings arrived
(possibly none). It never raises for bad input: malformed lines are counted in
``rejects`` and logged. It raises :class:`DeviceUnavailable` when the device itself
is gone (port unplugged), which the service turns into a gap and a reopen with back-off.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from contract import Kind

BOARD_COLUMNS = ("fl", "fr", "bl", "br")
"""Board load cells in kg: front-left, front-right, back-left, back-right."""

IMU_COLUMNS = ("ax", "ay", "az", "gx", "gy", "gz")
"""IMU accelerometer in g and gyroscope in deg/s, sensor frame (x forward, y left, z up)."""

IMU_MAG_COLUMNS = (*IMU_COLUMNS, "mx", "my", "mz")
"""IMU with magnetometer in µT."""


class DeviceUnavailable(OSError):
    """The device cannot be read right now (unplugged, port missing); the service retries."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample: device time in seconds (its own clock), values in ``Source.columns`` order.

    ``boot`` changes when the device restarts (counters reset), so sequence numbers and
    device times of different boots are never mixed.
    """

    t_dev: float
    values: tuple[float, ...]


class Source(abc.ABC):
    """A device that yields readings.

    Subclasses set ``device``, ``kind``, ``columns`` and ``period``.
    """

    device: str
    kind: Kind
    columns: tuple[str, ...]
    period: float
    placement: str = ""

    def __init__(self) -> None:
        self.rejects = 0
        self.boot = "boot-0"

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Open the device. May raise :class:`DeviceUnavailable`."""

    @abc.abstractmethod
    def read(self, timeout: float) -> list[Reading]:
        """Return the readings that arrived within ``timeout`` seconds (maybe none)."""

    def cleanup(self) -> None:  # noqa: B027 - optional hook
        """Close the device; safe to call twice."""
