"""Real-time pacing for generated and replayed readings.

A paced source emits the reading stamped ``t`` (device seconds, counted from the
pacer's start) once ``speed · (now − start) ≥ t``. ``speed`` 0 or infinity means as fast
as possible. ``clock`` and ``sleep`` are injectable so tests can drive time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from ingest.devices.common import ConfigError

_EARLY = 1e-6


def check_speed(speed: float) -> float:
    if isinstance(speed, bool) or not isinstance(speed, int | float) or math.isnan(speed):
        raise ConfigError(f"speed: expected a number >= 0, got {speed!r}")
    if speed < 0:
        raise ConfigError(f"speed: must be >= 0 (0 = as fast as possible), got {speed!r}")
    return float(speed)


class Pacer:
    """When readings become due; shared by every source of one simulated room."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.speed = check_speed(speed)
        self.start = start
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self._lock = threading.Lock()

    @property
    def fast(self) -> bool:
        return self.speed == 0 or math.isinf(self.speed)

    def begin(self) -> None:
        """Start the clock now unless it already runs (or a start time was given)."""
        with self._lock:  # sources of one room may start in different threads
            if self.start is None:
                self.start = self.clock()

    def elapsed(self) -> float:
        """Device seconds due so far (infinite when fast).

        One microsecond early counts as due, so float rounding can never leave a reading
        waiting on a sleep too short to move the clock.
        """
        return self._elapsed() + _EARLY

    def _elapsed(self) -> float:
        if self.fast:
            return math.inf
        self.begin()
        assert self.start is not None
        return max(self.clock() - self.start, 0.0) * self.speed

    def wait_for(self, t: float, timeout: float) -> None:
        """Sleep until device time ``t`` is due, but at most ``timeout`` seconds."""
        if self.fast:
            return
        wall = (t - self._elapsed()) / self.speed
        delay = min(max(timeout, 0.0), wall)
        if delay > 0:
            self.sleep(delay)
