"""Front end of :mod:`analysis.repcount`: one movement signal and its period, streaming.

:class:`MovementSignal` turns raw samples into the one-dimensional signal the counter
watches, whatever the sensor's orientation:

1. every axis goes through a causal band-pass of :data:`BAND_HZ` (posture, gravity and
   drift below, tremor and impacts above); the gyroscope is then integrated (a leaky
   integrator with the band's lower corner) into an angle, in radians times g — the
   change of the accelerometer's gravity reading that a rotation of that angle about a
   horizontal axis causes — so that rotation and acceleration share one unit (m/s²);
2. an exponentially weighted covariance of those channels (time constant
   :data:`COVARIANCE_S`) gives the principal axis of recent motion, followed by one
   power iteration per block: it turns toward a new dominant direction within a few
   blocks, never flips sign, and stays put when two directions are equal (a circle);
   each block is projected on the axis updated with it;
3. :class:`PeriodTracker` estimates the rep period from the normalised autocorrelation
   of the projected signal over the last :data:`WINDOW_S` seconds.

Samples are processed in fixed blocks of :data:`BLOCK_S` counted from the first sample,
so the output does not depend on how the samples were cut into pushes.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import signal

from analysis._checks import FloatArray
from analysis.errors import InvalidParameterError

GRAVITY = 9.80665
BAND_HZ = (0.05, 3.0)
"""Movement band: a rep cycle lasts at most ~20 s (0.05 Hz: a slow reach with a hold is
not distorted into two swings); no voluntary rep is faster than about 2 Hz, and 3 Hz
keeps the shape of the brisk ones."""
COVARIANCE_S = 4.0
"""Memory of the principal axis: a few reps of a brisk exercise, one of a slow one."""
WINDOW_S = 16.0
"""Autocorrelation window: two periods of the slowest rep searched by default."""
PERIOD_S = (0.5, 8.0)
"""Default search range of the rep period: a brisk pendulum to a slow reach-and-hold."""
MAJOR = 0.7
"""An autocorrelation peak at a shorter lag and this close to the highest is taken as the
period: at an irregular tempo the peak at two or three periods can come out higher."""
BLOCK_S = 0.1
"""Processing block, s: the axis, the smoothing and the thresholds change only between
blocks, so any cutting of the pushes gives the same result."""
UPDATE_S = 0.5
"""How often the period is re-estimated, s."""

Kind = Literal["imu", "cop"]
Component = Literal["auto", "gyr", "acc"]
CHANNELS = {"imu": 6, "cop": 2}


def _weights(kind: Kind, component: Component) -> FloatArray:
    if kind == "cop":
        return np.ones(2)
    if component == "gyr":
        return np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    if component == "acc":
        return np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    return np.ones(6)


class MovementSignal:
    """Band-passed channels projected on their principal axis, block by block.

    Parameters
    ----------
    fs : sampling rate, Hz.
    kind : ``"imu"`` (acc m/s², gyr deg/s: 6 columns) or ``"cop"`` (ml, ap cm).
    component : ``"auto"`` (all channels), ``"gyr"`` or ``"acc"`` (IMU only).
    """

    def __init__(self, *, fs: float, kind: Kind, component: Component = "auto") -> None:
        if kind not in CHANNELS:
            raise InvalidParameterError(f"kind must be 'imu' or 'cop', got {kind!r}")
        if component not in ("auto", "gyr", "acc"):
            raise InvalidParameterError(f"component must be auto, gyr or acc, got {component!r}")
        self.fs, self.kind = fs, kind
        high = min(BAND_HZ[1], 0.45 * fs)
        self._sos = signal.butter(2, (BAND_HZ[0], high), btype="bandpass", fs=fs, output="sos")
        leak = math.exp(-2 * math.pi * BAND_HZ[0] / fs)
        # leaky integrator deg/s -> rad * g, as one more second-order section
        gain = math.radians(1.0) * GRAVITY / fs
        self._sos_gyr = np.vstack([self._sos, [gain, 0.0, 0.0, 1.0, -leak, 0.0]])
        self._weights = _weights(kind, component)
        self._decay = math.exp(-BLOCK_S / COVARIANCE_S)
        self.reset()

    def reset(self) -> None:
        """Forget the filter states and the principal axis."""
        self._zi: list[FloatArray] | None = None
        self._cov = np.zeros((CHANNELS[self.kind],) * 2)
        self.axis: FloatArray | None = None

    def _start(self, first: FloatArray) -> None:
        zi: list[FloatArray] = []
        for j, x0 in enumerate(first.mean(axis=0)):
            sos = self._sos_gyr if self.kind == "imu" and j >= 3 else self._sos
            # the accelerometer (and COP) starts at rest on its first value: its offset is
            # gravity (posture); the gyroscope's offset is ~0, its first value is motion
            gyro = self.kind == "imu" and j >= 3
            zi.append(signal.sosfilt_zi(sos) * (0.0 if gyro else x0))
        self._zi = zi

    def channels(self, block: FloatArray) -> FloatArray:
        """Band-passed channels of a block (n, c), in m/s² (IMU) or cm (COP)."""
        if self._zi is None:
            self._start(block)
        assert self._zi is not None
        out = np.empty_like(block)
        for j in range(block.shape[1]):
            if self.kind == "imu" and j >= 3:
                out[:, j], self._zi[j] = signal.sosfilt(self._sos_gyr, block[:, j], zi=self._zi[j])
            else:
                out[:, j], self._zi[j] = signal.sosfilt(self._sos, block[:, j], zi=self._zi[j])
        return out * self._weights

    def project(self, block: FloatArray) -> FloatArray:
        """The block's samples on the principal axis of the motion up to its end."""
        z = self.channels(block)
        self._cov = self._decay * self._cov + (1 - self._decay) * (z.T @ z) / z.shape[0]
        if self.axis is None:
            _, vectors = np.linalg.eigh(self._cov)
            axis = np.asarray(vectors[:, -1], dtype=np.float64)
        else:
            # one power iteration: follows a dominant axis within a few blocks, keeps its
            # sign, and stays put when two axes are equal (a circular movement)
            axis = self._cov @ self.axis
        norm = float(np.linalg.norm(axis))
        if norm > 0:
            self.axis = axis / norm
        elif self.axis is None:
            self.axis = np.full(z.shape[1], 1 / math.sqrt(z.shape[1]))
        assert self.axis is not None
        return np.asarray(z @ self.axis, dtype=np.float64)


class PeriodTracker:
    """Rep period from the autocorrelation of the recent signal.

    ``period`` is the lag of the highest peak of the normalised autocorrelation inside
    ``period_s`` (``nan`` until one is found); ``strength`` is that peak's height
    (1 = perfectly periodic). A peak must reach :data:`MIN_STRENGTH`.
    """

    MIN_STRENGTH = 0.2

    def __init__(self, *, fs: float, period_s: tuple[float, float] = PERIOD_S) -> None:
        self.fs = fs
        self.period_s = period_s
        self._n = int(round(max(WINDOW_S, 2 * period_s[1]) * fs))
        self.reset()

    def reset(self) -> None:
        self._buf = np.zeros(self._n)
        self._filled = 0
        self.period = math.nan
        self.strength = 0.0

    def add(self, y: FloatArray) -> None:
        k = min(y.size, self._n)
        self._buf = np.roll(self._buf, -k)
        self._buf[-k:] = y[-k:]
        self._filled = min(self._n, self._filled + y.size)

    def recent(self, seconds: float) -> FloatArray:
        """The last ``seconds`` of the signal (fewer if not yet seen)."""
        n = min(self._filled, max(2, int(seconds * self.fs)))
        return self._buf[-n:]

    def recent_samples(self, n: int) -> FloatArray:
        """The last ``n`` samples, zeros (rest) before the first."""
        return self._buf[-n:]

    def update(self) -> None:
        n = self._filled
        lo = max(2, int(self.period_s[0] * self.fs))
        hi = min(int(self.period_s[1] * self.fs), n // 2)
        if hi <= lo + 2:
            return
        x = self._buf[-n:] - self._buf[-n:].mean()
        spec = np.fft.rfft(x, 2 * n)
        r = np.fft.irfft(spec.real**2 + spec.imag**2)[: hi + 2]
        if r[0] <= 0:
            return
        r = r / r[0]
        seg = r[lo - 1 : hi + 2]
        peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + lo
        peaks = peaks[r[peaks] > 0]
        if peaks.size == 0:
            return
        # the fundamental: the shortest lag nearly as periodic as the best one (the
        # multiples of the period are peaks too, as high when the tempo wavers)
        heights = r[peaks]
        best = int(peaks[np.flatnonzero(heights >= MAJOR * heights.max())[0]])
        # unbiased height of the peak: the biased estimate shrinks as (n - lag) / n
        strength = float(r[best]) * n / (n - best)
        if strength < self.MIN_STRENGTH:
            return
        a, b, c = r[best - 1], r[best], r[best + 1]
        den = a - 2 * b + c
        shift = 0.5 * (a - c) / den if den < 0 else 0.0
        self.period = (best + shift) / self.fs
        self.strength = min(1.0, strength)
