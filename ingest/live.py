"""Live frames: what the screens draw of a device, computed once, here, beside the device.

A :class:`LiveFramer` per device turns readings, as they arrive, into
:class:`~contract.LiveFrame` s every :data:`FRAME_EVERY_S` seconds: a board's centre of
pressure (cm) and total load (kg), an IMU's trunk pitch and roll (degrees), with the
same functions the session engine uses (:func:`analysis.cop.cop_from_loads`,
:class:`analysis.imu.TrunkTilt`, :func:`analysis.sway.prediction_ellipse`), so the wall
and the engine cannot disagree. Points are thinned to :data:`DISPLAY_HZ` (what an SVG
plot can redraw) counting on the device's sample numbers; a frame goes out with a drawn
reading as its newest (or, when a device's chunks never end on one, with its newest
reading anyway), so a frame is as fresh as the data. The IMU's orientation filter still
sees every sample.

While the load on a board is below :data:`MIN_LOAD_KG` nobody stands on it: the centre of
pressure is ``null`` (its value would be noise, or a foot stepping off) and the ellipse
is left out, so a screen can say so instead of drawing nonsense.

Frames are never spooled or stored: the forwarder publishes them at QoS 0 and drops them
while the broker is away (a screen wants the next fresh frame, not an old one).
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.imu import TrunkTilt
from analysis.sway import prediction_ellipse
from contract import LIVE_COLUMNS, MAX_LIVE_ROWS, LiveFrame
from contract.messages import MAX_LIVE_VALUE
from ingest.devices.base import BOARD_COLUMNS, IMU_COLUMNS, Reading, Source

log = logging.getLogger(__name__)

FRAME_EVERY_S = 0.02
"""At most one frame per device this often: a board at 100 Hz sends 50 a second of one
point each (its display rate), an IMU 25; slower devices as often as they have a point."""
DISPLAY_HZ = {"board": 50.0, "imu": 25.0}
"""Points per second a screen draws, per kind."""
MIN_LOAD_KG = 5.0
"""Below this total load nobody stands on the board (a 3-year-old weighs about 14 kg)."""
ELLIPSE_WINDOW_S = 10.0
ELLIPSE_MIN_POINTS = 25
"""Half a second of points on the board before an ellipse means anything."""
STANDING_SHARE = 0.8
"""Of the median load of the last 10 s: below, the child is stepping on or off."""


class LiveFramer:
    """One device's live frames; not thread-safe (its reader thread owns it).

    ``every_s``: the least time between two frames (``monotonic`` seconds).
    """

    def __init__(self, source: Source, *, every_s: float = FRAME_EVERY_S,
                 monotonic: Callable[[], float]) -> None:
        self.device = source.device
        self.kind = source.kind
        self.period = source.period
        self.every_s = every_s
        self.monotonic = monotonic
        wanted = BOARD_COLUMNS if source.kind == "board" else IMU_COLUMNS
        missing = [c for c in wanted if c not in source.columns]
        if missing:
            raise ValueError(f"{source.device}: a {source.kind} needs the columns "
                             f"{', '.join(missing)} to be drawn")
        self._index = [source.columns.index(c) for c in wanted]
        self._step = max(1, round(1.0 / (DISPLAY_HZ[source.kind] * source.period)))
        self._boot = ""
        self._tilt: TrunkTilt | None = None
        self._pending: list[tuple[float, ...]] = []  # (t_dev, values…) not sent yet
        self._newest: tuple[float, ...] | None = None
        self._recent: deque[tuple[float, float, float, float]] = deque(
            maxlen=int(ELLIPSE_WINDOW_S * DISPLAY_HZ["board"]) + 1)
        self._last_sent = -math.inf
        self.frames = 0

    def add(self, readings: Sequence[Reading], *, boot: str, first_seq: int,
            host_time: Callable[[float], float]) -> LiveFrame | None:
        """Take ``readings`` (sample numbers ``first_seq`` on, of ``boot``); return a frame
        when one is due. ``host_time(t_dev)`` is the host time of a device time."""
        if not readings:
            return None
        if boot != self._boot:
            self._start(boot)
        values = np.array([r.values for r in readings], dtype=np.float64)[:, self._index]
        times = np.array([r.t_dev for r in readings], dtype=np.float64)
        drawn = self._drawn(values)
        keep = (np.arange(first_seq, first_seq + len(readings)) % self._step) == 0
        rows = np.column_stack([times, drawn])
        for row in rows[keep]:
            self._pending.append(tuple(row))
        self._newest = tuple(rows[-1])
        if self.kind == "board":
            self._remember(rows[keep])
        now = self.monotonic()
        waited = now - self._last_sent
        on_grid = bool(keep[-1])
        # a frame ends on a drawn point (so a frame adds no extra one), unless that would
        # keep the screen waiting twice the frame time (devices sending odd chunks)
        if waited < self.every_s - 1e-6 or not (on_grid or waited >= 2 * self.every_s):
            return None
        # on a steady schedule (readings arrive on their own clock), never in a burst
        self._last_sent = max(self._last_sent + self.every_s, now - self.every_s / 2)
        return self._frame(first_seq + len(readings) - 1, host_time)

    # ------------------------------------------------------------------ internals

    def _start(self, boot: str) -> None:
        """A new boot: the filter and the points of the old one are of no use."""
        self._boot = boot
        self._pending.clear()
        self._recent.clear()
        self._newest = None
        if self.kind == "imu":
            self._tilt = TrunkTilt(fs=1.0 / self.period)

    def _drawn(self, values: np.ndarray) -> np.ndarray:
        """The drawn columns (without ``t``) of every reading."""
        with np.errstate(all="ignore"):
            if self.kind == "board":
                ml, ap, _ = cop_from_loads(values[:, 0], values[:, 1], values[:, 2],
                                           values[:, 3], min_load_kg=MIN_LOAD_KG)
                out = np.column_stack([ml, ap, values.sum(axis=1)])
            else:
                assert self._tilt is not None
                finite = np.isfinite(values).all(axis=1)
                out = np.full((len(values), 2), np.nan)
                if finite.any():
                    try:
                        pitch, roll = self._tilt.update(values[finite, :3], values[finite, 3:])
                    except AnalysisError as exc:
                        log.debug("%s: tilt not computed: %s", self.device, exc)
                    else:
                        out[finite] = np.column_stack([pitch, roll])
        out[~(np.abs(out) <= MAX_LIVE_VALUE)] = np.nan
        return out

    def _remember(self, rows: np.ndarray) -> None:
        for t, ml, ap, load in rows:
            if math.isfinite(ml) and math.isfinite(ap):
                self._recent.append((t, ml, ap, load))
            else:  # nobody on the board: the next ellipse starts with the next stance
                self._recent.clear()

    def _ellipse(self, newest_t: float) -> tuple[float, float, float, float, float] | None:
        """The sway ellipse of the last 10 s of standing: points where the board bears
        less than :data:`STANDING_SHARE` of the child's weight (stepping on or off, one
        foot on the floor) are not sway, and would stretch it."""
        recent = [p for p in self._recent if p[0] >= newest_t - ELLIPSE_WINDOW_S]
        if len(recent) < ELLIPSE_MIN_POINTS:
            return None
        pts = np.array(recent)
        pts = pts[pts[:, 3] >= STANDING_SHARE * np.median(pts[:, 3])]
        if len(pts) < ELLIPSE_MIN_POINTS:
            return None
        try:
            e = prediction_ellipse(pts[:, 1], pts[:, 2])
        except AnalysisError:
            return None
        values = (e.cx, e.cy, e.semi_major, e.semi_minor, e.angle_rad)
        if not all(math.isfinite(v) and abs(v) <= MAX_LIVE_VALUE for v in values):
            return None
        return tuple(round(v, 4) for v in values)  # type: ignore[return-value]

    def _frame(self, newest_seq: int, host_time: Callable[[float], float]
               ) -> LiveFrame | None:
        newest = self._newest
        assert newest is not None
        rows = self._pending[-(MAX_LIVE_ROWS - 1):]
        if not rows or rows[-1][0] != newest[0]:
            rows.append(newest)
        self._pending = []
        t_dev = round(float(newest[0]), 4)
        rows = [r for r in rows if r[0] >= t_dev - 5.0]  # never older than a few seconds
        ellipse = None
        if self.kind == "board" and math.isfinite(newest[1]):
            ellipse = self._ellipse(t_dev)
        self.frames += 1
        return LiveFrame(
            device=self.device, kind=self.kind, boot=self._boot, seq=newest_seq,
            t_dev=t_dev, t_host=host_time(t_dev), columns=LIVE_COLUMNS[self.kind],
            rows=tuple((round(float(r[0]), 4), *(_plain(v) for v in r[1:])) for r in rows),
            ellipse=ellipse)


def _plain(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None
