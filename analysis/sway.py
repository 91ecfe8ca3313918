"""Classic sway measures of a centre-of-pressure (or acceleration) trajectory.

The functions here follow the BDS recipe of Santos & Duarte (2016), computed on the raw
trajectory without filtering:

* area: 95 % *prediction* ellipse, covariance with N − 1, F quantile::

      area = π · F₀.₉₅(2, N−2) · 2(N−1)(N+1) / (N(N−2)) · sqrt(det cov)

* mean velocity: total path length ``Σ‖Δp‖`` divided by ``N / fs``
* mean frequency: see :func:`analysis.spectral.bds_mean_frequency`
* RMS: ``sqrt(mean(‖p − p̄‖²))`` (radial RMS about the mean, 1/N)

The same functions work on any planar signal: the IMU module feeds them horizontal
acceleration (ISway). NaN marks invalid samples (board unloaded): path length only sums
steps between two valid samples, the other measures use the valid samples, and the
spectrum bridges interior gaps by linear interpolation.

References
----------
Santos DA, Duarte M. (2016) A public data set of human balance evaluations. PeerJ
4:e2648. doi:10.7717/peerj.2648
Prieto TE et al. (1996) IEEE Trans Biomed Eng 43:956-966.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from analysis._checks import FloatArray, as_xy, positive
from analysis.errors import InvalidParameterError, SignalTooShortError
from analysis.spectral import bds_mean_frequency

log = logging.getLogger(__name__)

MIN_SAMPLES = 8
"""Fewest valid samples for which :func:`sway_metrics` returns a result."""


@dataclass(frozen=True, slots=True)
class SwayMetrics:
    """Sway of one window or trial (BDS convention; units as for COP in cm).

    Attributes
    ----------
    ellipse_area_cm2 : 95 % prediction ellipse area.
    mean_velocity_cm_s : path length / (n / fs).
    rms_cm : radial RMS distance from the mean position.
    mean_frequency_hz : power-weighted Welch mean frequency (NaN if the signal is still).
    path_length_cm : total path length between consecutive valid samples.
    n : number of valid samples used.
    duration_s : ``n / fs``.
    """

    ellipse_area_cm2: float
    mean_velocity_cm_s: float
    rms_cm: float
    mean_frequency_hz: float
    path_length_cm: float
    n: int
    duration_s: float

    def as_dict(self) -> dict[str, float | int]:
        """Plain ``{name: value}`` mapping (JSON friendly)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _valid(ml: FloatArray, ap: FloatArray) -> tuple[FloatArray, FloatArray]:
    keep = np.isfinite(ml) & np.isfinite(ap)
    return ml[keep], ap[keep]


def f_quantile_2(n: int, level: float = 0.95) -> float:
    """Quantile ``F_level(2, n − 2)`` of the F distribution (needs n > 2)."""
    if n <= 2:
        raise SignalTooShortError(f"the F quantile needs more than 2 samples, got {n}")
    return float(special.fdtri(2.0, n - 2.0, level))


def prediction_ellipse_area(ml: ArrayLike, ap: ArrayLike, *, level: float = 0.95) -> float:
    """Area of the ``level`` prediction ellipse of a planar trajectory (BDS convention).

    Parameters
    ----------
    ml, ap : array_like
        Coordinates (NaN = invalid sample, skipped); at least 3 valid samples.
    level : float
        Probability that a new sample falls inside the ellipse (default 0.95).

    Returns
    -------
    float
        Area in the squared unit of the input.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    >>> round(prediction_ellipse_area(np.cos(a), np.sin(a)), 2)  # circle of radius 1
    9.47
    """
    if not 0.0 < level < 1.0:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    x, y = _valid(*as_xy(ml, ap, allow_nan=True, min_samples=3))
    n = x.size
    cov = np.cov(x, y, ddof=1)
    det = max(float(cov[0, 0] * cov[1, 1] - cov[0, 1] ** 2), 0.0)
    coeff = 2.0 * (n - 1) * (n + 1) / (n * (n - 2))
    return math.pi * f_quantile_2(n, level) * coeff * math.sqrt(det)


@dataclass(frozen=True)
class Ellipse:
    """A prediction ellipse: centre, semi-axes (same unit as the data), orientation.

    ``angle_rad`` is the direction of the major axis from +ML toward +AP.
    """

    cx: float
    cy: float
    semi_major: float
    semi_minor: float
    angle_rad: float

    @property
    def area(self) -> float:
        return math.pi * self.semi_major * self.semi_minor

    def outline(self, points: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Closed outline (``points + 1`` vertices) for drawing."""
        a = np.linspace(0.0, 2.0 * math.pi, points + 1)
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        u, v = self.semi_major * np.cos(a), self.semi_minor * np.sin(a)
        return self.cx + c * u - s * v, self.cy + s * u + c * v


def prediction_ellipse(ml: ArrayLike, ap: ArrayLike, *, level: float = 0.95) -> Ellipse:
    """The ``level`` prediction ellipse itself; its area equals :func:`prediction_ellipse_area`.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    >>> e = prediction_ellipse(np.cos(a), np.sin(a))
    >>> round(e.area, 2), round(e.cx, 6) + 0.0
    (9.47, 0.0)
    """
    if not 0.0 < level < 1.0:
        raise InvalidParameterError(f"level must be in (0, 1), got {level!r}")
    x, y = _valid(*as_xy(ml, ap, allow_nan=True, min_samples=3))
    n = x.size
    cov = np.cov(x, y, ddof=1)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    scale = f_quantile_2(n, level) * 2.0 * (n - 1) * (n + 1) / (n * (n - 2))
    minor, major = (math.sqrt(max(float(v), 0.0) * scale) for v in eigenvalues)
    angle = math.atan2(float(eigenvectors[1, 1]), float(eigenvectors[0, 1]))
    return Ellipse(float(x.mean()), float(y.mean()), major, minor, angle)


def path_length(ml: ArrayLike, ap: ArrayLike) -> float:
    """Total length ``Σ‖Δp‖`` of the trajectory, skipping steps that touch a NaN sample."""
    x, y = as_xy(ml, ap, allow_nan=True, min_samples=0)
    steps = np.hypot(np.diff(x), np.diff(y))
    return float(steps[np.isfinite(steps)].sum())


def mean_velocity(ml: ArrayLike, ap: ArrayLike, *, fs: float) -> float:
    """Mean sway velocity: path length divided by ``n / fs`` (n = valid samples)."""
    fs = positive("fs", fs)
    x, y = as_xy(ml, ap, allow_nan=True, min_samples=2)
    n = int(np.count_nonzero(np.isfinite(x) & np.isfinite(y)))
    return path_length(x, y) * fs / n


def rms_distance(ml: ArrayLike, ap: ArrayLike) -> float:
    """Radial RMS distance of the valid samples from their mean position."""
    x, y = _valid(*as_xy(ml, ap, allow_nan=True, min_samples=1))
    return math.sqrt(float(np.mean((x - x.mean()) ** 2 + (y - y.mean()) ** 2)))


def _bridge_gaps(v: FloatArray) -> FloatArray:
    """Drop leading/trailing NaN and linearly interpolate interior ones."""
    ok = np.isfinite(v)
    if ok.all():
        return v
    idx = np.flatnonzero(ok)
    seg = np.arange(idx[0], idx[-1] + 1)
    return np.interp(seg, idx, v[idx])


def sway_mean_frequency(ml: ArrayLike, ap: ArrayLike, *, fs: float) -> float:
    """BDS mean frequency; interior NaN gaps are bridged by linear interpolation."""
    x, y = as_xy(ml, ap, allow_nan=True, min_samples=MIN_SAMPLES)
    both = np.isfinite(x) & np.isfinite(y)
    x = np.where(both, x, np.nan)
    y = np.where(both, y, np.nan)
    return bds_mean_frequency(_bridge_gaps(x), _bridge_gaps(y), fs=fs)


def sway_metrics(ml: ArrayLike, ap: ArrayLike, *, fs: float) -> SwayMetrics:
    """All BDS-convention sway measures of one trajectory.

    Parameters
    ----------
    ml, ap : array_like
        Medio-lateral (+right) and antero-posterior (+forward) COP in cm; NaN marks an
        invalid sample. At least :data:`MIN_SAMPLES` valid samples.
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    SwayMetrics

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> m = sway_metrics(rng.normal(size=3000), rng.normal(size=3000), fs=100)
    >>> m.n, round(m.duration_s, 1)
    (3000, 30.0)
    """
    fs = positive("fs", fs)
    x, y = as_xy(ml, ap, allow_nan=True, min_samples=MIN_SAMPLES)
    xv, yv = _valid(x, y)
    n = xv.size
    path = path_length(x, y)
    return SwayMetrics(
        ellipse_area_cm2=prediction_ellipse_area(xv, yv),
        mean_velocity_cm_s=path * fs / n,
        rms_cm=rms_distance(xv, yv),
        mean_frequency_hz=sway_mean_frequency(x, y, fs=fs),
        path_length_cm=path,
        n=n,
        duration_s=n / fs,
    )
