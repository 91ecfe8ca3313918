"""The rep detector DMI Live used before issue 14, kept only as the baseline of
``bench/rep_accuracy.py`` (the product counts with :mod:`analysis.repcount`).

Streaming repetition detection for DMI exercises.

One :class:`RepDetector` watches one signal — trunk pitch, vertical trunk acceleration,
or the COP along one axis — described by a :class:`RepProfile`:

1. the samples go through a causal Butterworth band-pass (``band_hz``, second-order
   sections, state carried between pushes) that removes posture offsets and slow drift
   and smooths noise; the first sample initialises the filter at steady state;
2. a swing detector on the filtered signal (times ``polarity``) follows the lowest
   point since the last rep; once the signal has risen ``rise`` above it it follows the
   highest point, and the rep closes when the signal has fallen back by ``release`` of
   that swing. ``rise = max(threshold, adapt × median of the last 5 swings)``;
3. a closed rep is emitted, stamped at its highest point, unless it comes less than
   ``min_period_s`` after the previous rep (a double bump is one rep). For a
   ``two_sided`` profile the first rep after a reset needs only half the rise: from rest
   it swings to one side only.

Measuring each rep from its own trough makes the count insensitive to baseline shifts
(the filter's own transient after a pause, a child leaning on one side); following the
child's own swing lets smaller reps late in a set count while noise well below the recent
reps does not; tempo can change freely within the band; a pause counts nothing.

``Rep.peak`` is the swing (trough to peak of the band-passed signal, in the signal's
unit). ``Rep.confidence`` (0–1) is ``0.6 × margin + 0.4 × regularity``: *margin* is
``1 − exp(−2 (swing/rise − 1))`` and *regularity* is
``exp(−2 |ln(interval / median recent interval)|)``, 0.5 for the first rep and 0.7 after
a pause (interval > 2.5 × median).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidParameterError, InvalidSignalError

log = logging.getLogger(__name__)

SIGNALS = ("pitch_deg", "roll_deg", "vertical_acc_ms2", "cop_ml_cm", "cop_ap_cm")
"""Signal names a profile may watch (units in the suffix)."""

_HISTORY = 5


@dataclass(frozen=True, slots=True)
class RepProfile:
    """How to count one kind of exercise.

    Attributes
    ----------
    signal : one of :data:`SIGNALS`.
    band_hz : (low, high) pass band of the rep rhythm, Hz (``0 < low < high``).
    min_period_s : shortest time between two reps, s.
    threshold : smallest swing (trough to peak of the band-passed signal) that counts,
        in the signal's unit — about the peak-to-peak excursion of the smallest rep that
        should count.
    polarity : +1 to count maxima (e.g. forward lean), −1 to count minima.
    adapt : required rise as a fraction of the recent swings (0 disables adaptation).
    release : fraction of its swing the signal must fall back for the rep to close.
    two_sided : the signal swings to both sides of its resting level (a weight shift
        goes right then left; vertical acceleration goes up then down), so the first rep
        after rest rises only about half a swing: it needs half the rise.
    order : Butterworth order of each band edge.
    """

    signal: str
    band_hz: tuple[float, float]
    min_period_s: float
    threshold: float
    polarity: Literal[1, -1] = 1
    adapt: float = 0.4
    release: float = 0.5
    two_sided: bool = False
    order: int = 2

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise InvalidParameterError(f"signal must be one of {SIGNALS}, got {self.signal!r}")
        low, high = self.band_hz
        if not (0 < low < high and math.isfinite(high)):
            raise InvalidParameterError(f"band_hz must satisfy 0 < low < high, got {self.band_hz}")
        positive("min_period_s", self.min_period_s)
        positive("threshold", self.threshold)
        if self.polarity not in (1, -1):
            raise InvalidParameterError(f"polarity must be 1 or -1, got {self.polarity!r}")
        if not 0.0 <= self.adapt < 1.0:
            raise InvalidParameterError(f"adapt must be in [0, 1), got {self.adapt!r}")
        if not 0.0 < self.release < 1.0:
            raise InvalidParameterError(f"release must be in (0, 1), got {self.release!r}")
        if self.order not in (1, 2, 3, 4):
            raise InvalidParameterError(f"order must be 1-4, got {self.order!r}")


DEFAULT_PROFILES: dict[str, RepProfile] = {
    # trunk leans forward at the bottom of each squat
    "squat": RepProfile("pitch_deg", (0.04, 1.2), min_period_s=1.2, threshold=8.0),
    # COP swings right then left; one rep per right-hand excursion
    "weight_shift": RepProfile(
        "cop_ml_cm", (0.05, 1.0), min_period_s=1.0, threshold=2.0, two_sided=True
    ),
    # reaching forward moves the COP forward
    "reach": RepProfile("cop_ap_cm", (0.05, 1.0), min_period_s=1.5, threshold=2.0),
    # each step-up pushes the trunk upward
    "step": RepProfile(
        "vertical_acc_ms2", (0.1, 1.5), min_period_s=0.8, threshold=1.5, two_sided=True
    ),
}
"""Starting profiles for typical DMI exercises; tune per child from the remote page."""


@dataclass(frozen=True, slots=True)
class Rep:
    """One detected repetition.

    Attributes
    ----------
    t : time of the peak, in the time base of the pushed samples (s).
    peak : swing of the rep (trough to peak of the band-passed signal), signal unit.
    confidence : 0–1, see the module docstring.
    """

    t: float
    peak: float
    confidence: float


class RepDetector:
    """Streaming rep counter for one signal.

    Parameters
    ----------
    profile : RepProfile
    fs : float
        Sampling rate of the pushed samples, Hz (the band must lie below fs / 2).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 20, 0.01)
    >>> pitch = 5 + 15 * (1 - np.cos(2 * np.pi * t / 2.5)) / 2  # 8 squats
    >>> det = RepDetector(DEFAULT_PROFILES["squat"], fs=100)
    >>> len(det.push(t, pitch))
    8
    """

    def __init__(self, profile: RepProfile, *, fs: float) -> None:
        self.profile = profile
        self.fs = positive("fs", fs)
        if profile.band_hz[1] >= self.fs / 2:
            raise InvalidParameterError(
                f"band_hz upper edge {profile.band_hz[1]} Hz must be below fs/2 = {self.fs / 2}"
            )
        self._sos = signal.butter(
            profile.order, profile.band_hz, btype="bandpass", fs=self.fs, output="sos"
        )
        self._zi_unit = signal.sosfilt_zi(self._sos)
        self.reset()

    def reset(self) -> None:
        """Forget the filter state, the current candidate and the rep history."""
        self._zi: FloatArray | None = None
        self._last_x = math.nan
        self._armed = False
        self._low = math.inf
        self._cand_t = 0.0
        self._cand_y = 0.0
        self._last_rep_t = -math.inf
        self._peaks: deque[float] = deque(maxlen=_HISTORY)
        self._intervals: deque[float] = deque(maxlen=_HISTORY)
        self.count = 0

    def _rise(self) -> float:
        p = self.profile
        if p.adapt > 0 and self._peaks:
            return max(p.threshold, p.adapt * float(np.median(self._peaks)))
        return 0.5 * p.threshold if p.two_sided else p.threshold

    def _confidence(self, swing: float, rise: float, interval: float) -> float:
        margin = 1.0 - math.exp(-2.0 * max(swing / rise - 1.0, 0.0))
        if not self._intervals:
            regular = 0.5
        else:
            typical = float(np.median(self._intervals))
            ratio = interval / typical
            regular = 0.7 if ratio > 2.5 else math.exp(-2.0 * abs(math.log(ratio)))
        return round(min(1.0, max(0.0, 0.6 * margin + 0.4 * regular)), 3)

    def _filter(self, x: FloatArray) -> FloatArray:
        # hold the last finite value across NaN so the filter state stays finite
        bad = ~np.isfinite(x)
        if bad.any():
            x = x.copy()
            for i in np.flatnonzero(bad):
                x[i] = x[i - 1] if i > 0 else self._last_x
            if not np.isfinite(x).any():
                return np.full(x.size, np.nan)
            first = int(np.flatnonzero(np.isfinite(x))[0])
            x[:first] = x[first]
        if self._zi is None:
            self._zi = self._zi_unit * x[0]
        y, self._zi = signal.sosfilt(self._sos, x, zi=self._zi)
        self._last_x = float(x[-1])
        return np.asarray(y, dtype=np.float64)

    def push(self, t: ArrayLike, x: ArrayLike) -> list[Rep]:
        """Feed samples; return the reps completed by them (possibly none).

        Parameters
        ----------
        t : array_like, shape (n,)
            Sample times in seconds (increasing).
        x : array_like, shape (n,)
            Signal values; NaN samples hold the previous value.
        """
        tt = as_1d("t", t)
        xx = as_1d("x", x, allow_nan=True)
        if tt.size != xx.size:
            raise InvalidSignalError(f"t and x lengths differ: {tt.size} and {xx.size}")
        if tt.size == 0:
            return []
        y = self._filter(xx) * self.profile.polarity
        reps: list[Rep] = []
        rise = self._rise()
        for ti, yi in zip(tt.tolist(), y.tolist(), strict=True):
            if not self._armed:
                if yi < self._low:
                    self._low = yi
                elif yi - self._low >= rise:
                    self._armed, self._cand_t, self._cand_y = True, ti, yi
            elif yi > self._cand_y:
                self._cand_t, self._cand_y = ti, yi
            elif self._cand_y - yi >= self.profile.release * (self._cand_y - self._low):
                rep = self._close(rise)
                self._armed, self._low = False, yi
                if rep is not None:
                    reps.append(rep)
                    rise = self._rise()
        return reps

    def _close(self, rise: float) -> Rep | None:
        interval = self._cand_t - self._last_rep_t
        if interval < self.profile.min_period_s:
            log.debug("rep at %.2f s dropped: %.2f s after the previous", self._cand_t, interval)
            return None
        swing = self._cand_y - self._low
        rep = Rep(self._cand_t, swing, self._confidence(swing, rise, interval))
        if math.isfinite(interval):
            self._intervals.append(interval)
        self._peaks.append(swing)
        self._last_rep_t = self._cand_t
        self.count += 1
        return rep
