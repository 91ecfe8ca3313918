"""Sliding-window sway metrics for the live screens.

:class:`SlidingSway` keeps the last ``window_s`` seconds of COP in a ring buffer and
computes :class:`~analysis.sway.SwayMetrics` on demand with exactly the batch
definitions of :func:`analysis.sway.sway_metrics` (BDS convention), so a live number
and the number of the same stretch of a recording agree. An update costs a few hundred
microseconds for a 10 s window at 100 Hz (see ``bench/streaming_metrics.py``): callers
simply call :meth:`SlidingSway.metrics` at their display rate (10 Hz or more).

Invalid samples (NaN, e.g. the child stepping off the board) occupy their place in the
window — so the window always spans ``window_s`` of wall time — and are skipped by the
metrics (see :mod:`analysis.sway`). ``metrics()`` returns ``None`` until the window holds
``min_valid_s`` seconds of valid samples.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike

from analysis._checks import as_1d, positive
from analysis.errors import InvalidParameterError, InvalidSignalError
from analysis.sway import MIN_SAMPLES, SwayMetrics, sway_metrics

log = logging.getLogger(__name__)

__all__ = ["SlidingSway", "SwayMetrics"]


class SlidingSway:
    """Sway metrics over the most recent ``window_s`` seconds of COP.

    Parameters
    ----------
    fs : float
        Sampling rate of the pushed samples, Hz.
    window_s : float
        Window length in seconds (default 10).
    min_valid_s : float
        Valid data needed before :meth:`metrics` answers (default 2 s, capped at the
        window length).

    Examples
    --------
    >>> import numpy as np
    >>> sway = SlidingSway(fs=100, window_s=10)
    >>> sway.metrics() is None
    True
    >>> t = np.arange(1500) / 100
    >>> sway.push(np.sin(2 * np.pi * 0.5 * t), np.zeros_like(t))
    >>> m = sway.metrics()
    >>> m.n, round(m.mean_frequency_hz, 1)
    (1000, 0.5)
    """

    def __init__(self, *, fs: float, window_s: float = 10.0, min_valid_s: float = 2.0) -> None:
        self.fs = positive("fs", fs)
        self.window_s = positive("window_s", window_s)
        self.size = int(round(self.window_s * self.fs))
        if self.size < MIN_SAMPLES:
            raise InvalidParameterError(
                f"window_s * fs must give at least {MIN_SAMPLES} samples, got {self.size}"
            )
        self.min_valid = max(MIN_SAMPLES, min(self.size, int(round(min_valid_s * self.fs))))
        self._buf = np.full((2, self.size), np.nan)
        self._head = 0  # next write position
        self._count = 0  # samples held (<= size)

    def reset(self) -> None:
        """Forget every sample (e.g. at the start of a new set)."""
        self._buf.fill(np.nan)
        self._head = 0
        self._count = 0

    def push(self, ml: ArrayLike, ap: ArrayLike) -> None:
        """Append samples (cm); NaN marks an invalid sample."""
        x = np.atleast_1d(as_1d("ml", np.ravel(ml), allow_nan=True))
        y = np.atleast_1d(as_1d("ap", np.ravel(ap), allow_nan=True))
        if x.size != y.size:
            raise InvalidSignalError(f"ml and ap lengths differ: {x.size} and {y.size}")
        if x.size >= self.size:
            self._buf[0], self._buf[1] = x[-self.size :], y[-self.size :]
            self._head, self._count = 0, self.size
            return
        end = self._head + x.size
        if end <= self.size:
            self._buf[0, self._head : end] = x
            self._buf[1, self._head : end] = y
        else:
            cut = self.size - self._head
            self._buf[0, self._head :], self._buf[0, : end - self.size] = x[:cut], x[cut:]
            self._buf[1, self._head :], self._buf[1, : end - self.size] = y[:cut], y[cut:]
        self._head = end % self.size
        self._count = min(self.size, self._count + x.size)

    def window(self) -> tuple[np.ndarray, np.ndarray]:
        """The samples currently held, oldest first (copies)."""
        if self._count < self.size:
            start = (self._head - self._count) % self.size
            idx = (start + np.arange(self._count)) % self.size
            return self._buf[0, idx], self._buf[1, idx]
        return np.roll(self._buf[0], -self._head), np.roll(self._buf[1], -self._head)

    def metrics(self) -> SwayMetrics | None:
        """Sway metrics of the current window, or ``None`` until enough valid data."""
        x, y = self.window()
        n_valid = int(np.count_nonzero(np.isfinite(x) & np.isfinite(y)))
        if n_valid < self.min_valid:
            return None
        return sway_metrics(x, y, fs=self.fs)
