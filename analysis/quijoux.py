"""The COP descriptor set of Quijoux et al. (2021), under the authors' names.

Input is a *preprocessed* stabilogram: uniformly sampled (the authors use 25 Hz),
low-pass filtered at 10 Hz and centred on the mean of the raw trial — see
:func:`analysis.preprocess.quijoux_preprocess`. The signal is used as given (not
re-centred), exactly like the authors' code, so ``mean_value_*`` must be supplied from
the raw trial when it is wanted (otherwise it is the mean of the given signal).

Conventions (from the paper and its public code):

* RMS, covariance: 1/n, about zero (the signal is centred beforehand);
* confidence ellipse: ``2π F₀.₉₅(2, n−2) sqrt(σx²σy² − σxy²) (n+1)(n−1)/(n(n−2))``;
* mean velocity: path length · fs / n; velocity peaks and the phase-plane parameter use a
  Savitzky–Golay derivative (window 5, order 3);
* mean frequency: Prieto's ``v̄ / (2π d̄)`` (planar) and ``v̄ / (4√2 d̄)`` (per axis);
* spectral: :mod:`analysis.spectral`; diffusion and sway density: :mod:`analysis.diffusion`.

References
----------
Quijoux F. et al. (2021) A review of center of pressure (COP) variables to quantify
standing balance in elderly people: algorithms and open-access code. Physiol Rep
9:e15067. doi:10.14814/phy2.15067
Prieto TE et al. (1996) IEEE Trans Biomed Eng 43:956-966.
"""

from __future__ import annotations

import contextlib
import logging
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import signal, spatial

from analysis._checks import FloatArray, as_xy, positive
from analysis.diffusion import diffusion_descriptors, sway_density_descriptors
from analysis.errors import InvalidSignalError
from analysis.spectral import spectral_descriptors
from analysis.sway import f_quantile_2

log = logging.getLogger(__name__)

AXES = ("ML", "AP")


def max_pairwise_distance(x: FloatArray, y: FloatArray) -> float:
    """Largest distance between two points of the trajectory (its diameter)."""
    pts = np.column_stack([x, y])
    with contextlib.suppress(spatial.QhullError, ValueError):  # collinear: use all points
        pts = pts[spatial.ConvexHull(pts).vertices]
    best = 0.0
    for start in range(0, len(pts), 512):
        block = pts[start : start + 512]
        d2 = ((block[:, None, :] - pts[None, :, :]) ** 2).sum(axis=-1)
        best = max(best, float(d2.max()))
    return math.sqrt(best)


def confidence_ellipse_area(x: FloatArray, y: FloatArray) -> float:
    """95 % confidence ellipse area, Quijoux convention (moments about zero, 1/n)."""
    n = x.size
    sxx, syy, sxy = float(x @ x) / n, float(y @ y) / n, float(x @ y) / n
    coeff = (n + 1) * (n - 1) / (n * (n - 2))
    return 2.0 * math.pi * f_quantile_2(n) * math.sqrt(max(sxx * syy - sxy**2, 0.0)) * coeff


def velocity_peaks(speed: FloatArray) -> tuple[int, float, float, float]:
    """Zero crossings and mean positive / negative / all peak speeds of a velocity signal.

    The signal is cut at each change of sign; the first and the last (incomplete) runs
    are ignored; each complete run contributes its largest-magnitude sample.
    """
    nz = np.flatnonzero(speed != 0.0)
    if nz.size == 0:
        return 0, math.nan, math.nan, math.nan
    sign = np.sign(speed[nz])
    crossings = nz[1:][sign[1:] != sign[:-1]]
    pos: list[float] = []
    neg: list[float] = []
    for begin, end in zip(crossings[:-1], crossings[1:], strict=True):
        run = speed[begin:end]
        peak = float(run[np.argmax(np.abs(run))])
        (pos if speed[end] < 0 else neg).append(abs(peak))
    both = pos + neg
    mean = lambda v: float(np.mean(v)) if v else math.nan  # noqa: E731
    return int(crossings.size), mean(pos), mean(neg), mean(both)


def _positional(x: FloatArray, y: FloatArray) -> dict[str, float]:
    n = x.size
    radius = np.hypot(x, y)
    rms = {"ML": math.sqrt(float(x @ x) / n), "AP": math.sqrt(float(y @ y) / n)}
    rng = {"ML": float(x.max() - x.min()), "AP": float(y.max() - y.min())}
    cov = float(x @ y) / n
    out: dict[str, float] = {}
    for name, s in (("ML", x), ("AP", y), ("Radius", radius)):
        out[f"mean_distance_{name}"] = float(np.abs(s).mean())
        out[f"maximal_distance_{name}"] = float(np.abs(s).max())
    out["rms_ML"], out["rms_AP"] = rms["ML"], rms["AP"]
    out["rms_Radius"] = math.sqrt(float(radius @ radius) / n)
    out["range_ML"], out["range_AP"] = rng["ML"], rng["AP"]
    out["range_ML_AND_AP"] = max_pairwise_distance(x, y)
    out["range_ratio_ML_AND_AP"] = rng["ML"] / rng["AP"]
    out["planar_deviation_ML_AND_AP"] = math.hypot(rms["ML"], rms["AP"])
    out["coefficient_sway_direction_ML_AND_AP"] = cov / (rms["ML"] * rms["AP"])
    out["confidence_ellipse_area_ML_AND_AP"] = confidence_ellipse_area(x, y)
    # principal axis of the (mean-centred) covariance; angle from the AP axis
    _, vecs = np.linalg.eigh(np.cov(x, y))
    main = vecs[:, -1]
    out["principal_sway_direction_ML_AND_AP"] = math.degrees(
        math.acos(min(abs(main[1]) / float(np.linalg.norm(main)), 1.0))
    )
    return out


def _dynamic(x: FloatArray, y: FloatArray, *, fs: float) -> dict[str, float]:
    n = x.size
    dx, dy = np.diff(x), np.diff(y)
    path = float(np.hypot(dx, dy).sum())
    area = confidence_ellipse_area(x, y)
    out: dict[str, float] = {
        "mean_velocity_ML": float(np.abs(dx).sum()) * fs / n,
        "mean_velocity_AP": float(np.abs(dy).sum()) * fs / n,
        "mean_velocity_ML_AND_AP": path * fs / n,
        "sway_area_per_second_ML_AND_AP": float(np.abs(x[1:] * y[:-1] - y[1:] * x[:-1]).sum())
        / (2.0 * (n - 1) / fs),
        "LFS_ML_AND_AP": path / area,
        "fractal_dimension_ML_AND_AP": math.log(n)
        / (math.log(n) + math.log(math.sqrt(4.0 * area / math.pi)) - math.log(path)),
    }
    for axis, s, d in (("ML", x, dx), ("AP", y, dy)):
        speed = signal.savgol_filter(s, window_length=5, polyorder=3, deriv=1, delta=1.0 / fs)
        rms = math.sqrt(float(s @ s) / n)
        out[f"phase_plane_parameter_{axis}"] = math.sqrt(rms**2 + float(np.var(speed)))
        zc, pos, neg, both = velocity_peaks(speed)
        out[f"zero_crossing_SPD_{axis}"] = float(zc)
        out[f"peak_velocity_pos_SPD_{axis}"] = pos
        out[f"peak_velocity_neg_SPD_{axis}"] = neg
        out[f"peak_velocity_all_SPD_{axis}"] = both
        out[f"mean_frequency_{axis}"] = (
            float(np.abs(d).mean()) * fs / float(np.abs(s).mean()) / (4.0 * math.sqrt(2.0))
        )
    out["mean_frequency_ML_AND_AP"] = (
        float(np.hypot(dx, dy).mean()) * fs / float(np.hypot(x, y).mean()) / (2.0 * math.pi)
    )
    return out


def quijoux_descriptors(
    ml: ArrayLike,
    ap: ArrayLike,
    *,
    fs: float = 25.0,
    sway_density_radius: float = 0.3,
    mean_value: tuple[float, float] | None = None,
) -> dict[str, float]:
    """All 72 Quijoux et al. descriptors of a preprocessed stabilogram.

    Parameters
    ----------
    ml, ap : array_like
        Preprocessed COP in cm (uniform, filtered, centred on the raw mean), finite.
    fs : float
        Sampling rate in Hz (the authors use 25).
    sway_density_radius : float
        Radius for the sway-density curve, cm.
    mean_value : (float, float), optional
        Mean ML and AP of the raw trial before centring; defaults to the mean of the
        given signal.

    Returns
    -------
    dict
        ``{descriptor name: value}`` with the names used by the authors' code
        (e.g. ``"rms_ML"``, ``"mean_velocity_ML_AND_AP"``,
        ``"total_power_Power_Spectrum_Density_AP"``, ``"critical_time_Diffusion_ML"``).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(750) / 25
    >>> d = quijoux_descriptors(np.sin(2 * np.pi * 0.3 * t), np.cos(2 * np.pi * 0.2 * t))
    >>> round(d["rms_ML"], 3)
    0.707
    """
    fs = positive("fs", fs)
    x, y = as_xy(ml, ap, min_samples=16)
    if float(x.max() - x.min()) == 0.0 or float(y.max() - y.min()) == 0.0:
        raise InvalidSignalError("ml/ap: a coordinate is constant; the descriptors are undefined")
    mean = (float(x.mean()), float(y.mean())) if mean_value is None else mean_value
    out: dict[str, float] = {"mean_value_ML": float(mean[0]), "mean_value_AP": float(mean[1])}
    out.update(_positional(x, y))
    out.update(_dynamic(x, y, fs=fs))
    out.update(sway_density_descriptors(x, y, fs=fs, radius=sway_density_radius))
    for axis, s in (("ML", x), ("AP", y)):
        out.update(spectral_descriptors(s, fs=fs, axis=axis))
    for axis, s in (("ML", x), ("AP", y)):
        out.update(diffusion_descriptors(s, fs=fs, axis=axis))
    return out
