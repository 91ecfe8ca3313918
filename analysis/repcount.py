"""Streaming rep counter for any periodic movement of an IMU (or a board's COP).

:class:`RepCounter` needs no profile: it finds the movement, its direction and its tempo
in the signal itself.

1. :class:`~analysis.repsignal.MovementSignal` band-passes every axis, turns the
   gyroscope into an angle in the accelerometer's unit and projects all channels on the
   principal axis of the recent motion: a rotation about any axis, a sensor mounted any
   way and a translation all give one signal ``y`` (m/s², or cm for a COP).
2. :class:`~analysis.repsignal.PeriodTracker` estimates the rep period ``P`` from the
   autocorrelation of ``y``; ``y`` is then smoothed by a moving average over
   :data:`SMOOTH` ``× P``, and its recent amplitude is measured over two periods.
3. A :class:`~analysis.repswing.Swing` detector follows ``y``: a rep is a rise of at
   least ``rise`` followed by a return of half of it, stamped at its extreme.
   ``rise`` is :data:`FLOOR` (the smallest deliberate movement) or :data:`ADAPT` times
   the recent amplitude, whichever is larger: fading reps still count, a pause resets
   it, and wiggles far below the reps do not count. Until the first rep both sides of
   ``y`` are watched; the side whose swing closes first — the way a rep leaves rest —
   is kept. A rep closer than :data:`MIN_INTERVAL` ``× P`` to the previous one is the
   same rep (a double bump).
4. :meth:`RepCounter.finish` at the end of a set counts a rep whose excursion is
   (nearly) complete, as fast as the others and most of their size, but whose return
   was cut off.

Every default is physical, none is fitted to a data set. :class:`Sensitivity` shifts
the thresholds by a few steps; a :class:`~analysis.repsettings.Calibration` (learned by
:func:`analysis.repcalib.calibrate`) replaces the defaults for one child and exercise.
A rep appears when its return is half done: within about half a period of its end.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidParameterError, InvalidSignalError
from analysis.repsettings import (
    ADAPT,
    DEFAULT,
    FASTEST_S,
    FLOOR,
    SMOOTH,
    Calibration,
    Sensitivity,
)
from analysis.repsignal import (
    BLOCK_S,
    CHANNELS,
    PERIOD_S,
    UPDATE_S,
    Kind,
    MovementSignal,
    PeriodTracker,
)
from analysis.repswing import Swing

log = logging.getLogger(__name__)

ENVELOPE_S = 4.0
"""Window of the recent amplitude before the period is known, s."""
FINISH_RISE = 0.75
"""At the end of a set, a pending excursion is a rep if it rose within this fraction of
a period (half a rep's cycle, with room for an irregular tempo)."""
FINISH_RECENT = 0.5
"""... and if its extreme is at most this fraction of a period before the end: the
recording stopped while the rep was moving. A rep closes about a quarter of a period
after its extreme; one whose extreme is older and that never returned half way has
stopped there (the return to rest of a rep that swings to both sides, then stillness)."""
_HISTORY = 5


@dataclass(frozen=True, slots=True)
class Rep:
    """One counted repetition.

    Attributes
    ----------
    t : time of the rep's extreme, in the time base of the pushed samples (s), corrected
        for the delay of the smoothing (not for that of the causal band-pass).
    confidence : 0–1: how far the swing cleared its threshold (60 %) and how well the
        interval fits the period (40 %).
    period_s : the rep period estimated when it was counted (the calibrated tempo, or
        nan, until the signal shows its own).
    """

    t: float
    confidence: float
    period_s: float = field(default=math.nan)


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the front end's output: what the swing detector needs."""

    t: FloatArray
    y: FloatArray
    period: float
    envelope: float
    delay: float


class RepCounter:
    """Count reps of any periodic movement, streaming and causal.

    Parameters
    ----------
    fs : sampling rate, Hz.
    kind : ``"imu"``: columns acc x, y, z (m/s²), gyr x, y, z (deg/s), any orientation;
        ``"cop"``: columns ml, ap (cm).
    sensitivity : a :class:`Sensitivity` step (or its name).
    calibration : learned settings for this child and exercise, or None for defaults.

    Samples are processed in blocks of 0.1 s counted from the first sample, so the reps
    do not depend on how the samples are cut into pushes (a rep may wait up to one block).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 24, 0.02)
    >>> angle = np.radians(40) * np.sin(2 * np.pi * t / 2.0) * (t > 2) * (t < 22)
    >>> acc = 9.81 * np.column_stack([np.sin(angle), np.zeros_like(t), np.cos(angle)])
    >>> gyr = np.column_stack([0 * t, np.degrees(np.gradient(angle, t)), 0 * t])
    >>> counter = RepCounter(fs=50, kind="imu")
    >>> reps = counter.push(t, np.hstack([acc, gyr]))
    >>> counter.count
    10
    """

    def __init__(
        self,
        *,
        fs: float,
        kind: Kind = "imu",
        sensitivity: Sensitivity | str = Sensitivity.NORMAL,
        calibration: Calibration | None = None,
    ) -> None:
        self.fs = positive("fs", fs)
        if kind not in CHANNELS:
            raise InvalidParameterError(f"kind must be 'imu' or 'cop', got {kind!r}")
        self.kind: Kind = kind
        try:
            self.sensitivity = Sensitivity(sensitivity)
        except ValueError:
            steps = ", ".join(s.value for s in Sensitivity)
            raise InvalidParameterError(
                f"sensitivity must be one of {steps}, got {sensitivity!r}"
            ) from None
        self.calibration = calibration or DEFAULT
        self._scale = self.sensitivity.factor * self.calibration.threshold
        lo, hi = self.calibration.period_s
        # a range that admits twice its shortest period admits a doubled period too
        self._free_period = hi >= 2 * lo
        self._prior = math.nan if (lo, hi) == PERIOD_S else math.sqrt(lo * hi)
        self._block = max(1, round(BLOCK_S * self.fs))
        self._every = max(1, round(UPDATE_S / BLOCK_S))
        self._signal = MovementSignal(fs=self.fs, kind=kind, component=self.calibration.component)
        self._period = PeriodTracker(fs=self.fs, period_s=self.calibration.period_s)
        self.reset()

    # ------------------------------------------------------------------ public
    @property
    def period_s(self) -> float:
        """Current estimate of the rep period, s (nan until known)."""
        return self._period.period

    def reset(self) -> None:
        """Start a new set: forget every state, keep the settings."""
        self._signal.reset()
        self._period.reset()
        self._pending_t = np.zeros(0)
        self._pending_x = np.zeros((0, CHANNELS[self.kind]))
        self._last_row = np.zeros(CHANNELS[self.kind])
        self._blocks = 0
        self._width = 1
        self._now_period = math.nan
        self._now = -math.inf
        self._envelope = 0.0
        self._delay = 0.0
        # until the first rep both sides are watched; the first to close a swing is the
        # side of the excursions (from rest, a rep first moves away and comes back)
        self._sides = (Swing(1.0), Swing(-1.0))
        self._swing: Swing | None = None
        self._last_t = -math.inf
        self._swings: deque[float] = deque(maxlen=_HISTORY)
        self._intervals: deque[float] = deque(maxlen=_HISTORY)
        self.count = 0

    def push(self, t: ArrayLike, samples: ArrayLike) -> list[Rep]:
        """Feed samples; return the reps they complete (possibly none).

        Parameters
        ----------
        t : array_like, shape (n,)
            Sample times, s (increasing, at the rate ``fs``).
        samples : array_like, shape (n, 6) for an IMU or (n, 2) for a COP
            NaN samples hold the previous value.
        """
        tt = as_1d("t", t)
        x = np.asarray(samples, dtype=np.float64)
        width = CHANNELS[self.kind]
        if x.ndim != 2 or x.shape[1] != width:
            raise InvalidSignalError(f"samples: expected shape (n, {width}), got {x.shape}")
        if x.shape[0] != tt.size:
            raise InvalidSignalError(f"t and samples lengths differ: {tt.size} and {x.shape[0]}")
        if np.isinf(x).any():
            row = int(np.flatnonzero(np.isinf(x).any(axis=1))[0])
            raise InvalidSignalError(f"samples: infinite value at sample {row}")
        self._pending_t = np.concatenate([self._pending_t, tt])
        self._pending_x = np.vstack([self._pending_x, self._hold(x)])
        reps: list[Rep] = []
        b = self._block
        while self._pending_t.size >= b:
            reps += self._detect(self._front(self._pending_t[:b], self._pending_x[:b]))
            self._pending_t, self._pending_x = self._pending_t[b:], self._pending_x[b:]
        return reps

    def finish(self) -> list[Rep]:
        """End of the set: count a rep whose excursion is complete but whose return was
        cut off, and the samples still waiting for a full block.

        Call once, when the set stops; then :meth:`reset` before the next set.
        """
        reps: list[Rep] = []
        if self._pending_t.size:
            reps += self._detect(self._front(self._pending_t, self._pending_x))
            self._pending_t = self._pending_t[:0]
            self._pending_x = self._pending_x[:0]
        return reps + self._end()

    # ------------------------------------------------------------------ front end
    def _hold(self, x: FloatArray) -> FloatArray:
        """Replace NaN by the previous value of the same column."""
        bad = ~np.isfinite(x)
        if bad.any():
            x = x.copy()
            for i in np.flatnonzero(bad.any(axis=1)):
                last = self._last_row if i == 0 else x[i - 1]
                x[i, bad[i]] = last[bad[i]]
        if x.shape[0]:
            self._last_row = x[-1].copy()
        return x

    def _front(self, t: FloatArray, x: FloatArray) -> Block:
        """Movement signal of one block, smoothed, with the period and the amplitude."""
        y = self._signal.project(x)
        self._period.add(y)
        self._blocks += 1
        if self._blocks % self._every == 0:
            self._period.update()
        period = self._period.period
        if not math.isfinite(period):
            period = self._prior  # a calibrated tempo until the signal shows its own
        known = math.isfinite(period)
        # a causal moving average over a fraction of the period; its width follows the
        # period one sample per block, so that the smoothed signal has no steps
        target = max(1, round(SMOOTH * period * self.fs)) if known else 1
        self._width += int(np.sign(target - self._width))
        if self._width > 1:
            history = self._period.recent_samples(y.size + self._width - 1)
            kernel = np.full(self._width, 1.0 / self._width)
            y = np.convolve(history, kernel, mode="valid")[-y.size :]
        recent = self._period.recent(2 * period if known else ENVELOPE_S)
        envelope = 2 * math.sqrt(2) * float(np.std(recent))
        delay = (self._width - 1) / (2 * self.fs)  # of the moving average
        return Block(t, np.asarray(y, dtype=np.float64), period, envelope, delay)

    # ------------------------------------------------------------------ detection
    def _detect(self, block: Block) -> list[Rep]:
        self._now_period, self._envelope, self._delay = block.period, block.envelope, block.delay
        if block.t.size:
            self._now = float(block.t[-1])
        reps: list[Rep] = []
        rise = self._rise()
        for ti, yi in zip(block.t.tolist(), block.y.tolist(), strict=True):
            for sw in self._sides if self._swing is None else (self._swing,):
                if not sw.step(ti, yi, rise):
                    continue
                if self._swing is None and self.calibration.side == "second":
                    # the set starts with a return: count on the other side
                    self._swing = self._sides[1] if sw is self._sides[0] else self._sides[0]
                    sw.restart(ti, yi)
                    break
                self._swing = sw
                rep = self._close(sw, rise)
                sw.restart(ti, yi)
                if rep is not None:
                    reps.append(rep)
                break
        return reps

    def _end(self) -> list[Rep]:
        sw, finish = self._swing, self.calibration.finish
        reps: list[Rep] = []
        if sw is not None and sw.armed and finish is not None and self._swings:
            typical = float(np.median(self._swings))
            # as fast as a rep, most of its size, and moving when the recording stopped:
            # not a slow drift, not the return to rest of a rep that swings to both sides
            if (
                sw.peak_t - sw.low_t <= FINISH_RISE * self._now_period
                and self._now - sw.peak_t <= FINISH_RECENT * self._now_period
                and sw.size >= finish * typical
            ):
                rep = self._close(sw, self._rise())
                if rep is not None:
                    reps.append(rep)
        if sw is not None:
            sw.armed = False
        return reps

    def _rise(self) -> float:
        return self._scale * max(FLOOR[self.kind], ADAPT * self._envelope)

    def _shortest(self) -> float:
        period = self._now_period
        if not math.isfinite(period):
            return FASTEST_S
        if self._free_period and len(self._intervals) >= 2:
            # the autocorrelation may lock on a multiple of the period when the tempo
            # wavers: the intervals counted so far bound it (unless a calibrated range
            # excludes it)
            period = min(period, float(np.median(self._intervals)))
        return self.calibration.min_interval * period

    def _close(self, sw: Swing, rise: float) -> Rep | None:
        interval = sw.peak_t - self._last_t
        if interval < self._shortest():
            log.debug("rep at %.2f s dropped: %.2f s after the previous", sw.peak_t, interval)
            return None
        period = self._now_period
        known = math.isfinite(period)
        margin = 1.0 - math.exp(-2.0 * max(sw.size / rise - 1.0, 0.0))
        if known and math.isfinite(interval):
            ratio = interval / period
            regular = 0.7 if ratio > 2.5 else math.exp(-2.0 * abs(math.log(ratio)))
        else:
            regular = 0.5
        confidence = round(min(1.0, max(0.0, 0.6 * margin + 0.4 * regular)), 3)
        self._swings.append(sw.size)
        if math.isfinite(interval):
            self._intervals.append(interval)
        self._last_t = sw.peak_t
        self.count += 1
        stamp = round(sw.peak_t - self._delay, 6)
        return Rep(stamp, confidence, round(period, 3) if known else period)
