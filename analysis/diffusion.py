"""Stabilogram diffusion analysis and sway density (Quijoux et al. 2021 conventions).

Stabilogram diffusion (Collins & De Luca 1993): the mean squared displacement
``MSD(Δt) = mean((x[i+Δ] − x[i])²)`` for lags up to a third of the trial; two straight
lines are fitted to ``log MSD`` against ``log Δt`` — a short-term region starting at the
first lag and a long-term region ending at the last lag. Each region's extent is chosen
by ordinary least squares among ends/starts between 0.3 s and 2.5 s, keeping the fit with
the lowest RMS residual (the later one on ties), as in the authors' code. Reported:
diffusion coefficients ``exp(intercept)``, scaling exponents ``slope / 2``, and the
critical point where the two lines meet (capped at the last lag).

Sway density (Baratto et al. 2002): for each sample, the time the trajectory stays
within ``radius`` of it, counting contiguous neighbours before and after; the curve is
low-pass filtered (4th-order Butterworth, 2.5 Hz, zero phase) and its local maxima give
the mean peak (s) and the mean distance between successive peak positions (cm).

References
----------
Collins JJ, De Luca CJ. (1993) Exp Brain Res 95:308-318.
Baratto L. et al. (2002) Motor Control 6:246-270.
Quijoux F. et al. (2021) Physiol Rep 9:e15067.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal

from analysis._checks import FloatArray, as_1d, as_xy, positive
from analysis.errors import SignalTooShortError

log = logging.getLogger(__name__)


def mean_squared_displacement(x: ArrayLike, *, max_lag: int) -> FloatArray:
    """``MSD[k] = mean((x[k:] − x[:-k])²)`` for ``k = 0 … max_lag`` (``MSD[0] = 0``)."""
    sig = as_1d("x", x)
    if not 0 < max_lag < sig.size:
        raise SignalTooShortError(f"x: {sig.size} samples, max_lag={max_lag} does not fit")
    msd = np.zeros(max_lag + 1)
    for k in range(1, max_lag + 1):
        d = sig[k:] - sig[:-k]
        msd[k] = float(d @ d) / d.size
    return msd


def _line_fit(x: FloatArray, y: FloatArray) -> tuple[float, float, float]:
    """OLS ``y = a + b x``: return (intercept, slope, RMS residual)."""
    xm, ym = x.mean(), y.mean()
    dx = x - xm
    slope = float(dx @ (y - ym)) / float(dx @ dx)
    intercept = float(ym - slope * xm)
    resid = y - (intercept + slope * x)
    return intercept, slope, math.sqrt(float(resid @ resid) / resid.size)


def diffusion_descriptors(x: ArrayLike, *, fs: float, axis: str) -> dict[str, float]:
    """Stabilogram-diffusion descriptors of one COP axis (keys end in ``_Diffusion_{axis}``).

    Parameters
    ----------
    x : array_like
        One COP coordinate in cm, uniformly sampled; long enough for lags of 2.5 s to be
        less than a third of it (> 7.5 s).
    fs : float
        Sampling rate in Hz.
    axis : str
        ``"ML"`` or ``"AP"``, used in the keys.
    """
    fs = positive("fs", fs)
    sig = as_1d(axis, x)
    max_lag = int(sig.size / 3)
    first, last = int(0.3 * fs) + 1, int(2.5 * fs)
    if max_lag <= last + 1 or first >= last:
        raise SignalTooShortError(
            f"{axis}: {sig.size} samples at {fs:g} Hz; diffusion analysis needs more than "
            f"{3 * (last + 2)} samples (lags up to 2.5 s within a third of the trial)"
        )
    msd = mean_squared_displacement(sig, max_lag=max_lag)
    if np.any(msd[1:] <= 0.0):
        raise SignalTooShortError(f"{axis}: the signal does not move; diffusion is undefined")
    log_t = np.log(np.arange(1, max_lag + 1) / fs)
    log_msd = np.log(msd[1:])

    best_short = (math.inf, 0.0, 0.0)
    best_long = (math.inf, 0.0, 0.0)
    for i in range(first, last + 1):
        a, b, rmse = _line_fit(log_t[:i], log_msd[:i])
        if rmse <= best_short[0]:
            best_short = (rmse, a, b)
        a, b, rmse = _line_fit(log_t[i - 1 :], log_msd[i - 1 :])
        if rmse <= best_long[0]:
            best_long = (rmse, a, b)
    _, a_s, b_s = best_short
    _, a_l, b_l = best_long
    log_tc = (a_l - a_s) / (b_s - b_l) if b_s != b_l else math.inf
    log_tc = min(log_tc, float(log_t[-1]))
    out = {
        "short_time_diffusion": math.exp(a_s),
        "long_time_diffusion": math.exp(a_l),
        "critical_time": math.exp(log_tc),
        "critical_displacement": math.exp(a_s + b_s * log_tc),
        "short_time_scaling": b_s / 2.0,
        "long_time_scaling": b_l / 2.0,
    }
    return {f"{name}_Diffusion_{axis}": value for name, value in out.items()}


def sway_density(ml: ArrayLike, ap: ArrayLike, *, fs: float, radius: float = 0.3) -> FloatArray:
    """Sway-density curve in seconds, one value per sample except the last.

    For sample ``t`` it counts the contiguous samples before and after ``t`` that stay
    within ``radius`` (cm) of it, divides by ``fs`` and low-pass filters the curve at
    2.5 Hz (4th-order Butterworth, zero phase).
    """
    fs = positive("fs", fs)
    radius = positive("radius", radius)
    x, y = as_xy(ml, ap, min_samples=16)
    n = x.size
    r2 = radius * radius
    counts = np.empty(n - 1)
    block = 64
    for t in range(n - 1):
        # forward: first index after t farther than radius
        stop = n
        lo = t + 1
        while lo < n:
            hi = min(lo + block, n)
            far = np.flatnonzero((x[lo:hi] - x[t]) ** 2 + (y[lo:hi] - y[t]) ** 2 > r2)
            if far.size:
                stop = lo + int(far[0])
                break
            lo = hi
        # backward: last index before t farther than radius
        start = -1
        hi = t
        while hi > 0:
            lo = max(hi - block, 0)
            far = np.flatnonzero((x[lo:hi] - x[t]) ** 2 + (y[lo:hi] - y[t]) ** 2 > r2)
            if far.size:
                start = lo + int(far[-1])
                break
            hi = lo
        counts[t] = (stop - 1) - (start + 1)
    sos = signal.butter(4, 2.5, btype="lowpass", fs=fs, output="sos")
    return signal.sosfiltfilt(sos, counts / fs)


def sway_density_descriptors(
    ml: ArrayLike, ap: ArrayLike, *, fs: float, radius: float = 0.3
) -> dict[str, float]:
    """Mean sway-density peak (s) and mean distance between successive peaks (cm)."""
    x, y = as_xy(ml, ap, min_samples=16)
    curve = sway_density(x, y, fs=fs, radius=radius)
    peaks = np.flatnonzero((curve[1:-1] > curve[:-2]) & (curve[1:-1] > curve[2:])) + 1
    if peaks.size < 2:
        raise SignalTooShortError("sway density has fewer than two peaks; record longer")
    dist = np.hypot(np.diff(x[peaks]), np.diff(y[peaks]))
    return {
        "mean_peak_Sway_Density": float(curve[peaks].mean()),
        "mean_distance_peak_Sway_Density": float(dist.mean()),
    }
