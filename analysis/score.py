"""Stability score for the family view: 0–100 from sway relative to the child's own reference.

The score compares a sway measure (e.g. the 95 % ellipse area of a set, or its mean
velocity) with the same measure on the child's *reference* — by default the first session
on that exercise — so it shows the child's progress, never a comparison with other
children::

    r = sway / reference
    score = 100 / (1 + r ** steepness)        (steepness = 2 by default)

=================  =====  ===========================================
sway / reference   score  reads as
=================  =====  ===========================================
0 (no sway)        100    perfectly still
0.5                80     half the sway of the reference
1                  50     same as the reference
2                  20     twice the sway
→ ∞                → 0
=================  =====  ===========================================

The mapping is continuous and strictly decreasing in sway, bounded to [0, 100], and
depends only on the ratio, so it does not matter which sway unit is used as long as
sway and reference are the same measure.
"""

from __future__ import annotations

import math

from analysis._checks import positive
from analysis.errors import InvalidParameterError


def stability_score(sway: float, reference: float, *, steepness: float = 2.0) -> float:
    """Map sway relative to the child's reference onto a 0–100 stability score.

    Parameters
    ----------
    sway : float
        Sway measure of the current set (>= 0, finite).
    reference : float
        Same measure on the child's reference set (> 0, finite).
    steepness : float
        Exponent of the ratio (> 0); higher values make the score change faster
        around the reference.

    Returns
    -------
    float
        Score in [0, 100]; 50 means "as steady as the reference", higher is steadier.

    Examples
    --------
    >>> stability_score(1.0, 1.0)
    50.0
    >>> stability_score(2.0, 4.0)
    80.0
    """
    try:
        value = float(sway)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"sway must be a number, got {sway!r}") from exc
    if not math.isfinite(value) or value < 0:
        raise InvalidParameterError(f"sway must be a finite number >= 0, got {sway!r}")
    reference = positive("reference", reference)
    steepness = positive("steepness", steepness)
    ratio = value / reference
    if ratio == 0.0:
        return 100.0
    log_term = steepness * math.log(ratio)
    if log_term > 700:  # r**k would overflow; the score is 0 to double precision
        return 0.0
    return 100.0 / (1.0 + math.exp(log_term))
