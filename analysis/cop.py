"""Centre of pressure (COP) from the four load cells of a balance board.

Board frame, seen from above with the child facing the front edge::

        fl ─────── fr        +AP (forward)
        │           │           ▲
        │     ●     │           │
        │           │           └──► +ML (right)
        bl ─────── br

``ML = (W/2) · ((fr + br) − (fl + bl)) / F`` and ``AP = (L/2) · ((fl + fr) − (bl + br)) / F``
with ``F = fl + fr + bl + br``, ``W`` the left–right and ``L`` the front–back sensor
spacing. The defaults are the Wii Balance Board (433 × 238 mm between sensor centres).
While the total load is below ``min_load_kg`` (a child stepping on or off) the COP is
meaningless: those samples are flagged invalid and their coordinates are NaN.

References
----------
Clark RA. et al. (2010) Validity and reliability of the Nintendo Wii Balance Board for
assessment of standing balance. Gait Posture 31:307-310.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis._checks import FloatArray, as_1d, positive
from analysis.errors import InvalidParameterError, InvalidSignalError

log = logging.getLogger(__name__)

WII_WIDTH_CM = 43.3
"""Left–right distance between the Wii Balance Board sensors, cm."""
WII_LENGTH_CM = 23.8
"""Front–back distance between the Wii Balance Board sensors, cm."""


def cop_from_loads(
    fl: ArrayLike,
    fr: ArrayLike,
    bl: ArrayLike,
    br: ArrayLike,
    *,
    width_cm: float = WII_WIDTH_CM,
    length_cm: float = WII_LENGTH_CM,
    min_load_kg: float = 2.0,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Centre of pressure from four load-cell signals.

    Parameters
    ----------
    fl, fr, bl, br : array_like, shape (n,)
        Loads in kg on the front-left, front-right, back-left and back-right cells.
        NaN marks a missing reading (the sample is then invalid).
    width_cm, length_cm : float
        Left–right and front–back spacing of the sensors, cm.
    min_load_kg : float
        Samples whose total load is below this are invalid (``>= 0``).

    Returns
    -------
    ml_cm : ndarray
        Medio-lateral COP, +right, cm from the board centre; NaN where invalid.
    ap_cm : ndarray
        Antero-posterior COP, +forward, cm; NaN where invalid.
    valid : ndarray of bool
        True where the total load reached ``min_load_kg`` and every reading was finite.

    Examples
    --------
    >>> ml, ap, ok = cop_from_loads([10.0, 0.4], [10.0, 0.4], [20.0, 0.4], [20.0, 0.4])
    >>> ml.tolist(), round(float(ap[0]), 3), ok.tolist()
    ([0.0, nan], -3.967, [True, False])
    """
    width_cm = positive("width_cm", width_cm)
    length_cm = positive("length_cm", length_cm)
    if not np.isfinite(min_load_kg) or min_load_kg < 0:
        raise InvalidParameterError(
            f"min_load_kg must be a finite number >= 0, got {min_load_kg!r}"
        )
    cells = {}
    for name, values in (("fl", fl), ("fr", fr), ("bl", bl), ("br", br)):
        cells[name] = as_1d(name, values, allow_nan=True)
    sizes = {name: arr.size for name, arr in cells.items()}
    if len(set(sizes.values())) != 1:
        raise InvalidSignalError(f"load cells must have the same length, got {sizes}")
    total = cells["fl"] + cells["fr"] + cells["bl"] + cells["br"]
    valid = np.isfinite(total) & (total >= max(min_load_kg, np.finfo(float).tiny))
    with np.errstate(divide="ignore", invalid="ignore"):
        right = (cells["fr"] + cells["br"]) - (cells["fl"] + cells["bl"])
        front = (cells["fl"] + cells["fr"]) - (cells["bl"] + cells["br"])
        ml = np.where(valid, 0.5 * width_cm * right / total, np.nan)
        ap = np.where(valid, 0.5 * length_cm * front / total, np.nan)
    if not valid.all():
        log.debug("cop: %d of %d samples below %.1f kg", (~valid).sum(), valid.size, min_load_kg)
    return ml, ap, valid
