"""Settings of :class:`analysis.repcount.RepCounter`: defaults, sensitivity, calibration.

The defaults are physical, fixed a priori, the same for every exercise:

- :data:`FLOOR`: the smallest swing that is a rep;
- :data:`ADAPT`: the fraction of the recent amplitude a rep must swing;
- :data:`MIN_INTERVAL`: two reps closer than this fraction of the period are one;
- :data:`SMOOTH`: the smoothing window as a fraction of the period;
- :data:`FINISH_SWING`: how large, relative to the others, a rep cut off by the end of
  the set must be to count.

:class:`Sensitivity` is the therapist's control (a few steps); :class:`Calibration` is
what :func:`analysis.repcalib.calibrate` learns from one set whose count is known. Both
are small values that serialise to JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Literal

from analysis._checks import positive
from analysis.errors import InvalidParameterError
from analysis.repsignal import PERIOD_S, Component

FLOOR = {"imu": 1.5, "cop": 1.5}
"""Smallest swing that is a rep: 1.5 m/s² for an IMU (a 9° rotation tilts gravity by
that much; a gentle deliberate push), 1.5 cm of COP for a board (a child's quiet sway
is about that, peak to peak)."""
ADAPT = 0.4
"""A rep must swing at least this fraction of the recent peak-to-peak amplitude."""
MIN_INTERVAL = 0.5
"""Two reps closer than this fraction of the period are one (a rep never takes half
the time of the reps around it, even at a child's irregular tempo)."""
FASTEST_S = 0.4
"""Shortest interval between reps before the period is known, s."""
SMOOTH = 0.25
"""Width of the smoothing moving average as a fraction of the period: its zeros fall on
the 4th, 8th, ... harmonics and it halves the 2nd, so a rep's wiggles do not split it."""
FINISH_SWING = 0.9
"""A rep cut off by the end of the set counts if its excursion is at least this
fraction of the recent reps' median swing: nearly a whole rep. (0.7 would count three
more SPAR sets right, cut during a rep's return, but also the return to rest of
irregular weight shifts; ``bench/rep_accuracy.py`` shows it chosen on three subjects at
a time. A calibration can learn 0.5.)"""


Side = Literal["first", "second"]


class Sensitivity(Enum):
    """Steps of the sensitivity control: how readily a movement counts as a rep."""

    FEWER = "fewer"
    NORMAL = "normal"
    MORE = "more"

    @property
    def factor(self) -> float:
        """Multiplier of the thresholds (floor and fraction of the amplitude)."""
        return {"fewer": 1.5, "normal": 1.0, "more": 0.65}[self.value]


@dataclass(frozen=True, slots=True)
class Calibration:
    """What the counter learned from one finished set with a known count.

    Attributes
    ----------
    component : ``"auto"`` (all channels), ``"gyr"`` or ``"acc"``: what the counter watches.
    period_s : (shortest, longest) rep period searched, s.
    threshold : multiplier of the rise thresholds (1 = default).
    min_interval : shortest interval between two reps, as a fraction of the period.
    side : ``"first"``: reps close on the side the movement first swings to (default);
        ``"second"``: on the other side (the set starts with a return).
    finish : minimum size, relative to the others, of a rep cut off by the end of the
        set; None: such a rep never counts.

    Examples
    --------
    >>> cal = Calibration(threshold=1.25)
    >>> Calibration.from_json(cal.to_json()) == cal
    True
    """

    component: Component = "auto"
    period_s: tuple[float, float] = PERIOD_S
    threshold: float = 1.0
    min_interval: float = MIN_INTERVAL
    side: Side = "first"
    finish: float | None = FINISH_SWING

    def __post_init__(self) -> None:
        if self.component not in ("auto", "gyr", "acc"):
            raise InvalidParameterError(f"component must be auto, gyr or acc: {self.component!r}")
        try:
            lo, hi = (float(v) for v in self.period_s)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"period_s must be two numbers: {self.period_s}") from exc
        if not (0.1 <= lo < hi <= 30):
            raise InvalidParameterError(
                f"period_s must satisfy 0.1 <= shortest < longest <= 30 s: {self.period_s}"
            )
        object.__setattr__(self, "period_s", (lo, hi))
        object.__setattr__(self, "threshold", positive("threshold", self.threshold))
        if not (isinstance(self.min_interval, int | float) and 0 <= self.min_interval < 1):
            raise InvalidParameterError(f"min_interval must be in [0, 1): {self.min_interval}")
        if self.side not in ("first", "second"):
            raise InvalidParameterError(f"side must be 'first' or 'second': {self.side!r}")
        if self.finish is not None and not (
            isinstance(self.finish, int | float) and math.isfinite(self.finish)
        ):
            raise InvalidParameterError(f"finish must be a number or None: {self.finish!r}")

    def changes(self) -> dict[str, Any]:
        """The settings that differ from the defaults."""
        default = asdict(DEFAULT)
        return {k: v for k, v in asdict(self).items() if v != default[k]}

    def to_json(self) -> str:
        """One-line JSON, read back by :meth:`from_json`."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> Calibration:
        """A calibration from :meth:`to_json`'s text (or the parsed dict)."""
        try:
            data = json.loads(text) if isinstance(text, str) else dict(text)
            if "period_s" in data:
                data["period_s"] = tuple(data["period_s"])
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(f"not a calibration: {exc}") from exc


DEFAULT = Calibration()
