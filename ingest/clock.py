"""Map a device's clock to the host clock: offset and drift, from receive times only.

A reading stamped ``t_dev`` by the device arrives at the host at
``t_host = t_dev + offset + drift·(t_dev − t_ref) + latency`` with ``latency ≥ 0``
(USB buffering, the OS, a busy process). The smallest latencies are the ones that tell
the truth, so :class:`ClockFit` keeps the *minimum* of ``t_host − t_dev`` in each bin of
device time (the minimum-latency envelope) and fits a robust line through the last
``window`` bin minima (Theil–Sen slope, median intercept). Drift is clamped to
``max_drift`` (1 % covers a ceramic-resonator Arduino). A stalled host only raises
latencies, so it cannot drag the fit.

Device counters wrap (a 32-bit millisecond counter every 49.7 days; pass
``wrap=2**32 / 1000``): a step backwards that is a short step forward modulo ``wrap``
is unwrapped. Any other backwards step, or a device clock that runs ahead of the host by
more than ``jump_tolerance`` seconds, is a device reset: ``boot`` increments and the fit
starts again.

Pure: no clocks are read here; the caller passes host receive times.
"""

from __future__ import annotations

import collections
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClockModel:
    """``t_host = t_dev + offset + drift·(t_dev − t_ref)``."""

    offset: float
    drift: float
    t_ref: float

    def __post_init__(self) -> None:
        for name in ("offset", "drift", "t_ref"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"ClockModel.{name} must be finite")

    def to_host(self, t_dev: float) -> float:
        return t_dev + self.offset + self.drift * (t_dev - self.t_ref)


class ClockFit:
    """Online device → host time fit for one device; see the module docstring.

    Examples
    --------
    >>> fit = ClockFit()
    >>> for i in range(200):  # device 0.1 % slow, host 1000 s ahead, 2 ms latency
    ...     _ = fit.update(i * 0.5, 1000.0 + i * 0.5 * 1.001 + 0.002)
    >>> round(fit.to_host(100.0), 3), round(fit.model.drift, 6)
    (1100.102, 0.001)
    """

    _raw_last: float | None
    _t_last: float
    _t_ref: float
    _count: int
    _bins: collections.OrderedDict[int, tuple[float, float]]
    _model: ClockModel | None

    def __init__(
        self,
        *,
        wrap: float | None = None,
        bin_seconds: float = 2.0,
        window: int = 150,
        max_drift: float = 0.01,
        jump_tolerance: float = 1.0,
        max_step: float = 60.0,
    ) -> None:
        if wrap is not None and not (math.isfinite(wrap) and wrap > 0):
            raise ValueError(f"wrap must be a positive number of seconds, got {wrap!r}")
        if not bin_seconds > 0 or window < 2 or not max_drift >= 0 or not jump_tolerance > 0:
            raise ValueError("bin_seconds, window ≥ 2, max_drift ≥ 0, jump_tolerance must be > 0")
        self.wrap = wrap
        self.bin_seconds = bin_seconds
        self.window = window
        self.max_drift = max_drift
        self.jump_tolerance = jump_tolerance
        self.max_step = min(max_step, wrap / 2) if wrap else max_step
        self.boot = 0
        self._restart()

    # ------------------------------------------------------------------ public

    @property
    def model(self) -> ClockModel:
        """The current fit (raises ``ValueError`` before the first update)."""
        model = self._model
        if model is None:
            model = self._model = self._fit()
        return model

    @property
    def samples(self) -> int:
        """Updates since the current boot started."""
        return self._count

    def update(self, t_dev: float, t_host: float) -> bool:
        """Add one reading's device time (raw, maybe wrapped) and host receive time.

        Returns True when this reading starts a new device boot (the fit restarted).
        """
        if not (math.isfinite(t_dev) and math.isfinite(t_host)):
            raise ValueError(f"times must be finite, got t_dev={t_dev!r}, t_host={t_host!r}")
        reset = False
        if self._raw_last is None:
            t = t_dev
        else:
            step = self._forward_step(t_dev)
            if step is None:
                reset = True
                t = t_dev
            else:
                t = self._t_last + step
                if t_host - t < self.model.to_host(t) - t - self.jump_tolerance:
                    reset = True  # the device clock leapt ahead of the host's
                    t = t_dev
        if reset:
            self.boot += 1
            self._restart()
        if self._raw_last is None:
            self._t_ref = t
        self._raw_last, self._t_last = t_dev, t
        self._count += 1
        self._add(t, t_host - t)
        return reset

    def unwrap(self, t_dev: float) -> float:
        """Device time on the continuous scale, nearest to the last update."""
        if self._raw_last is None or self.wrap is None:
            return t_dev
        k = round((self._t_last - t_dev) / self.wrap)
        return t_dev + k * self.wrap

    def to_host(self, t_dev: float) -> float:
        """Host time of a device time of the current boot (raw, maybe wrapped)."""
        return self.model.to_host(self.unwrap(t_dev))

    # ------------------------------------------------------------------ internals

    def _restart(self) -> None:
        self._raw_last = None
        self._t_last = 0.0
        self._t_ref = 0.0
        self._count = 0
        self._bins = collections.OrderedDict()
        self._model = None

    def _forward_step(self, raw: float) -> float | None:
        assert self._raw_last is not None
        step = raw - self._raw_last
        if step < 0 and self.wrap is not None and step + self.wrap <= self.max_step:
            step += self.wrap
        return step if step >= 0 else None

    def _add(self, t: float, y: float) -> None:
        key = math.floor((t - self._t_ref) / self.bin_seconds)
        best = self._bins.get(key)
        if best is not None and best[1] <= y:
            return
        self._bins[key] = (t, y)
        self._bins.move_to_end(key)
        while len(self._bins) > self.window:
            self._bins.popitem(last=False)
        self._model = None

    def _fit(self) -> ClockModel:
        if not self._bins:
            raise ValueError("no readings yet: call update() first")
        pts = np.array(list(self._bins.values()))
        x, y = pts[:, 0] - self._t_ref, pts[:, 1]
        drift = 0.0
        if len(x) >= 2:
            i, j = np.triu_indices(len(x), 1)
            dx = x[j] - x[i]
            ok = dx > 0
            if ok.any():
                drift = float(np.median((y[j] - y[i])[ok] / dx[ok]))
                drift = max(-self.max_drift, min(self.max_drift, drift))
        offset = float(np.median(y - drift * x))
        return ClockModel(offset=offset, drift=drift, t_ref=self._t_ref)
