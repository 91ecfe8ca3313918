"""The swing detector of :mod:`analysis.repcount`: one rep is one rise and one return.

A :class:`Swing` follows one signal, sample by sample, on one side (``polarity``): it
follows the lowest point since the last rep; once the signal has risen ``rise`` above
it, it follows the highest point (the rep's extreme), and the swing closes when the
signal has come back :data:`RELEASE` of the way. Measuring each swing from its own
trough makes it insensitive to a drifting baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RELEASE = 0.5
"""Fraction of its swing the signal must return for a rep to close."""


@dataclass(slots=True)
class Swing:
    """State of one swing detector (see the module docstring)."""

    polarity: float = 1.0
    armed: bool = False
    low: float = math.inf
    low_t: float = 0.0
    peak: float = -math.inf
    peak_t: float = 0.0

    def step(self, t: float, y: float, rise: float) -> bool:
        """Feed one sample; True when it closes a swing (then read ``peak``, ``low``)."""
        y *= self.polarity
        if not self.armed:
            if y < self.low:
                self.low, self.low_t = y, t
            elif y - self.low >= rise:
                self.armed, self.peak, self.peak_t = True, y, t
            return False
        if y > self.peak:
            self.peak, self.peak_t = y, t
            return False
        return self.peak - y >= RELEASE * (self.peak - self.low)

    def restart(self, t: float, y: float) -> None:
        """After a closed swing: follow the trough from this sample on."""
        self.armed, self.low, self.low_t = False, y * self.polarity, t

    @property
    def size(self) -> float:
        """Trough-to-peak size of the current swing (0 if not armed)."""
        return self.peak - self.low if self.armed else 0.0
