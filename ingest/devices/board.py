"""Balance-board geometry: four corner loads ⇄ total load and centre of pressure (COP).

Same frame as :mod:`analysis.cop` (seen from above, child facing the front edge)::

        fl ─────── fr        +AP forward, +ML right, cm from the board centre
        bl ─────── br

``ML = (W/2)·((fr+br) − (fl+bl))/F`` and ``AP = (L/2)·((fl+fr) − (bl+br))/F``.

Four loads have one degree of freedom more than (F, AP, ML). :func:`corners_from_cop`
picks the *bilinear* split, which is what a rigid plate on four cells resting on a point
load gives: every corner stays ≥ 0 while the COP lies inside the sensor rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ingest.devices.common import positive

WII_WIDTH_CM = 43.3
WII_LENGTH_CM = 23.8


@dataclass(frozen=True)
class BoardGeometry:
    """Sensor spacing in cm: ``width_cm`` left–right, ``length_cm`` front–back."""

    width_cm: float = WII_WIDTH_CM
    length_cm: float = WII_LENGTH_CM

    def __post_init__(self) -> None:
        positive(self.width_cm, "width_cm")
        positive(self.length_cm, "length_cm")

    def contains(self, ap_cm: float, ml_cm: float) -> bool:
        """Whether a COP lies inside the sensor rectangle (all corner loads ≥ 0)."""
        return abs(ml_cm) <= self.width_cm / 2 and abs(ap_cm) <= self.length_cm / 2


def corners_from_cop(
    total: ArrayLike, ap_cm: ArrayLike, ml_cm: ArrayLike, geometry: BoardGeometry | None = None
) -> NDArray[np.float64]:
    """Corner loads ``(fl, fr, bl, br)`` (last axis) reproducing a total load and a COP.

    Examples
    --------
    >>> corners_from_cop(20.0, 0.0, 0.0).tolist()
    [5.0, 5.0, 5.0, 5.0]
    >>> loads = corners_from_cop(18.0, 2.0, -3.0)
    >>> [round(float(v), 9) for v in cop_from_corners(loads)]
    [18.0, 2.0, -3.0]
    """
    geo = geometry or BoardGeometry()
    f = np.asarray(total, dtype=float)
    u = 2.0 * np.asarray(ml_cm, dtype=float) / geo.width_cm  # -1 left … +1 right
    v = 2.0 * np.asarray(ap_cm, dtype=float) / geo.length_cm  # -1 back … +1 front
    left, right = (1.0 - u) / 2.0, (1.0 + u) / 2.0
    back, front = (1.0 - v) / 2.0, (1.0 + v) / 2.0
    return np.stack([f * front * left, f * front * right, f * back * left, f * back * right], -1)


def cop_from_corners(
    loads: ArrayLike, geometry: BoardGeometry | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Total load, AP and ML COP (cm) from corner loads ``(fl, fr, bl, br)`` on the last axis.

    The COP is NaN where the total load is not positive.
    """
    geo = geometry or BoardGeometry()
    arr = np.asarray(loads, dtype=float)
    fl, fr, bl, br = arr[..., 0], arr[..., 1], arr[..., 2], arr[..., 3]
    total = fl + fr + bl + br
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(total > 0, total, np.nan)
        ap = geo.length_cm / 2.0 * ((fl + fr) - (bl + br)) / safe
        ml = geo.width_cm / 2.0 * ((fr + br) - (fl + bl)) / safe
    return total, ap, ml
