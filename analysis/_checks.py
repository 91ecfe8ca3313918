"""Input validation shared by the analysis modules (private)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.errors import InvalidParameterError, InvalidSignalError, SignalTooShortError

FloatArray = NDArray[np.float64]


def positive(name: str, value: float) -> float:
    """Return ``value`` as float, or raise if it is not a finite number > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a number, got {value!r}") from exc
    if not math.isfinite(number) or number <= 0:
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def as_1d(name: str, values: ArrayLike, *, allow_nan: bool = False) -> FloatArray:
    """Return ``values`` as a 1-D float64 array, naming ``name`` in any error."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidSignalError(f"{name}: cannot be read as numbers ({exc})") from exc
    if arr.ndim != 1:
        raise InvalidSignalError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bad.any():
        idx = int(np.flatnonzero(bad)[0])
        raise InvalidSignalError(f"{name}: non-finite value {float(arr[idx])!r} at sample {idx}")
    return arr


def as_xy(
    ml: ArrayLike, ap: ArrayLike, *, allow_nan: bool = False, min_samples: int = 2
) -> tuple[FloatArray, FloatArray]:
    """Validate a pair of equally long 1-D COP coordinates."""
    x = as_1d("ml", ml, allow_nan=allow_nan)
    y = as_1d("ap", ap, allow_nan=allow_nan)
    if x.shape != y.shape:
        raise InvalidSignalError(
            f"ml and ap must have the same length, got {x.size} and {y.size} samples"
        )
    n_valid = int(np.count_nonzero(np.isfinite(x) & np.isfinite(y))) if allow_nan else x.size
    if n_valid < min_samples:
        raise SignalTooShortError(f"ml/ap: {n_valid} valid samples, need at least {min_samples}")
    return x, y
