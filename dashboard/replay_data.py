"""Replay data: what a recorded session is, its signals, and display-resolution views.

Pure functions and frozen value objects (numpy, no Dash, no Flask). The loaders take an
open :class:`store.Store`; :mod:`dashboard.cache` memoizes them on plain ids.

Times: ``SessionMeta.start`` is epoch seconds; everything else here is **seconds since
the session start** (``t`` of :class:`DeviceSignals`, set and rep times, view ranges).
The timeline draws them on a date axis as milliseconds since 1970-01-01 UTC, so the
tick labels read as elapsed ``HH:MM:SS``.

Signals, per device, over the session window:

- board: ``ml``, ``ap`` (centre of pressure, cm; NaN while unloaded), ``load`` (kg);
- IMU: ``omega`` (angular speed, deg/s); the *tilt* IMU (placement ``trunk``, else the
  first IMU) also ``pitch``, ``roll`` (deg, Fusion AHRS over the whole session) and the
  gravity-free horizontal trunk acceleration ``acc_ap``, ``acc_ml`` (m/s²) for ISway.

Missing data (a step longer than 3 sample periods) gets one NaN sample inserted, so
lines break there; the holes are kept as ``DeviceSignals.holes``.

The other IMUs only show ``omega`` on the timeline, so they are never read whole: their
:class:`ImuOverview` is ``omega``'s range per 0.1-s bucket, summed up by the database
(:func:`store.replay.norm_envelope`); views draw from it, and only short zooms read
samples (:func:`omega_trace`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from tsdownsample import NaNMinMaxLTTBDownsampler

from analysis.cop import cop_from_loads
from analysis.imu import trunk_orientation
from store import Store
from store import replay as store_replay
from store.rows import SUPPORT_POINTS

STAFF_ROLES = frozenset({"therapist", "supervisor", "admin"})
BOARD_COLUMNS = ("fl", "fr", "bl", "br")
ACC_COLUMNS = ("ax", "ay", "az")
GYR_COLUMNS = ("gx", "gy", "gz")
LIVE_VERSION_S = 30.0
"""A session still running is re-read at most this often (its cache key changes)."""
HOLE_FACTOR = 3.0
DEFAULT_POINTS = 2000
"""Points per trace across the visible range (about one per screen pixel column)."""
MIN_SPAN_S = 0.5
END_SLACK_S = 1e-3

_DOWNSAMPLER = NaNMinMaxLTTBDownsampler()


def is_staff(principal: Any) -> bool:
    """A signed-in therapist, supervisor or admin (not a kiosk, not a family link)."""
    return principal is not None and principal.kind == "user" and principal.role in STAFF_ROLES


def may_view(principal: Any, child: str, room: str) -> bool:
    """Staff who may see this child and this room."""
    return is_staff(principal) and principal.can_see_child(child) and principal.can_see_room(room)


# ----------------------------------------------------------------------------- meta


@dataclass(frozen=True)
class SetInfo:
    id: str
    number: int
    exercise: str
    exercise_name: str
    surface: str
    support: str
    planned_reps: int
    start: float
    end: float
    quality: str | None

    @property
    def support_level(self) -> int:
        """0 = trunk (most proximal) … 6 = none (see :data:`store.rows.SUPPORT_POINTS`)."""
        return SUPPORT_POINTS.index(self.support) if self.support in SUPPORT_POINTS else -1

    @property
    def label(self) -> str:
        return f"{self.number} · {self.exercise_name} · {self.surface} · {self.support}"


@dataclass(frozen=True)
class RepMark:
    t: float
    set_id: str
    source: str
    revoked: bool


@dataclass(frozen=True)
class Note:
    t: float
    author: str
    tag: str
    text: str

    @property
    def label(self) -> str:
        return self.tag or (self.text if len(self.text) <= 24 else self.text[:23] + "…")


@dataclass(frozen=True)
class Gap:
    start: float
    end: float
    label: str


@dataclass(frozen=True)
class DeviceInfo:
    device: str
    kind: str
    placement: str


@dataclass(frozen=True)
class SessionMeta:
    id: str
    child: str
    child_label: str
    site: str
    room: str
    therapist: str
    start: float
    end: float
    ended: bool
    version: str
    sets: tuple[SetInfo, ...]
    reps: tuple[RepMark, ...]
    notes: tuple[Note, ...]
    gaps: tuple[Gap, ...]
    devices: tuple[DeviceInfo, ...]

    @property
    def duration(self) -> float:
        return self.end - self.start

    def device(self, kind: str, placement: str | None = None) -> DeviceInfo | None:
        found = [d for d in self.devices if d.kind == kind]
        preferred = [d for d in found if placement is None or d.placement == placement]
        chosen = preferred or found
        return chosen[0] if chosen else None

    @property
    def board(self) -> DeviceInfo | None:
        return self.device("board")

    @property
    def tilt_imu(self) -> DeviceInfo | None:
        return self.device("imu", "trunk")

    @property
    def display_only(self) -> tuple[DeviceInfo, ...]:
        """The IMUs other than the tilt IMU: nothing is computed from them but the
        timeline's ``omega`` (see :class:`ImuOverview`)."""
        tilt = self.tilt_imu
        return tuple(d for d in self.devices if d.kind == "imu" and d != tilt)

    def set_by_id(self, set_id: str) -> SetInfo | None:
        return next((s for s in self.sets if s.id == set_id), None)


def load_meta(store: Store, session_id: str, *, now: float | None = None) -> SessionMeta:
    """Everything about a session except its samples (raises ``store.errors.UnknownSession``)."""
    now = time.time() if now is None else now
    row = store.session(session_id)
    ended = row.end is not None
    end = float(row.end) if row.end is not None else max(now, row.start)
    start = float(row.start)
    names = {e.key: e.name for e in store.exercises()}
    label = next((c.label for c in store.children() if c.pseudonym == row.child), row.child)
    sets = tuple(
        SetInfo(s.id, i, s.exercise, names.get(s.exercise, s.exercise), s.surface, s.support,
                s.planned_reps, s.start - start, (end if s.end is None else s.end) - start,
                s.quality)
        for i, s in enumerate(store.sets(session_id), start=1)
    )
    reps = tuple(RepMark(r.t - start, r.set, r.source, r.revoked)
                 for r in store.reps(session_id=session_id))
    notes = tuple(Note(a.t - start, a.author or "", a.tag or "", a.text)
                  for a in store.annotations(session_id))
    devices = store_replay.room_devices(store, row.site, row.room, start, end)
    names_in_room = {d.device for d in devices}
    gaps = tuple(
        Gap(max(g.t_from, start) - start, min(g.t_to, end) - start,
            f"{g.device}: {g.reason}" if g.reason else g.device)
        for g in store.gaps(None, start, end) if g.device in names_in_room
    )
    version = f"{end:.3f}" if ended else f"live-{int(now // LIVE_VERSION_S)}"
    return SessionMeta(
        id=row.id, child=row.child, child_label=label, site=row.site, room=row.room,
        therapist=row.therapist or "", start=start, end=end, ended=ended, version=version,
        sets=sets, reps=reps, notes=notes, gaps=gaps,
        devices=tuple(DeviceInfo(d.device, d.kind, d.placement) for d in devices),
    )


# ----------------------------------------------------------------------------- signals


@dataclass(frozen=True)
class DeviceSignals:
    device: str
    kind: str
    placement: str
    t: np.ndarray
    channels: Mapping[str, np.ndarray]
    fs: float
    holes: tuple[tuple[float, float], ...]

    def window(self, t0: float, t1: float) -> slice:
        """Index range of the samples with ``t0 <= t <= t1``."""
        return slice(int(np.searchsorted(self.t, t0)),
                     int(np.searchsorted(self.t, t1, side="right")))


def _with_holes(
    t: np.ndarray, columns: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray], float, tuple[tuple[float, float], ...]]:
    if t.size < 2:
        return t, {k: v.astype(np.float32) for k, v in columns.items()}, 100.0, ()
    dt = np.diff(t)
    period = float(np.median(dt)) or 0.01
    jumps = np.flatnonzero(dt > HOLE_FACTOR * period)
    holes = tuple((float(t[i] + period), float(t[i + 1])) for i in jumps)
    if jumps.size:
        t = np.insert(t, jumps + 1, t[jumps] + period)
        columns = {k: np.insert(v.astype(np.float64), jumps + 1, np.nan)
                   for k, v in columns.items()}
    return t, {k: v.astype(np.float32) for k, v in columns.items()}, 1.0 / period, holes


def board_signals(device: DeviceInfo, t: np.ndarray, loads: Mapping[str, np.ndarray]
                  ) -> DeviceSignals:
    """Board signals from host times (s since session start) and the four load cells."""
    ml, ap, _ = cop_from_loads(*(loads[c] for c in BOARD_COLUMNS))
    total = sum((loads[c] for c in BOARD_COLUMNS), np.zeros(t.size))
    t2, ch, fs, holes = _with_holes(t, {"ml": ml, "ap": ap, "load": total})
    return DeviceSignals(device.device, "board", device.placement, t2, ch, fs, holes)


def imu_signals(device: DeviceInfo, t: np.ndarray, values: Mapping[str, np.ndarray],
                *, tilt: bool) -> DeviceSignals:
    """IMU signals; ``tilt`` adds Fusion pitch/roll and horizontal trunk acceleration."""
    gyr = np.column_stack([values[c] for c in GYR_COLUMNS])
    columns: dict[str, np.ndarray] = {"omega": np.sqrt((gyr**2).sum(axis=1))}
    if tilt and t.size:
        acc = np.column_stack([values[c] for c in ACC_COLUMNS])
        ok = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        every = bool(ok.all())
        fs = 1.0 / float(np.median(np.diff(t))) if t.size > 1 else 100.0
        out = trunk_orientation(acc if every else acc[ok], gyr if every else gyr[ok], fs=fs)
        for name, series in (("pitch", out.pitch_deg), ("roll", out.roll_deg),
                             ("acc_ap", out.ap_ms2), ("acc_ml", out.ml_ms2)):
            columns[name] = series if every else np.full(t.size, np.nan)
            if not every:
                columns[name][ok] = series
    t2, ch, fs, holes = _with_holes(t, columns)
    return DeviceSignals(device.device, "imu", device.placement, t2, ch, fs, holes)


def load_signals(store: Store, meta: SessionMeta, device: DeviceInfo) -> DeviceSignals:
    """Read one device over the session window and derive its display signals."""
    tilt = meta.tilt_imu is not None and device.device == meta.tilt_imu.device
    if device.kind == "board":
        cols: tuple[str, ...] = BOARD_COLUMNS
    else:
        cols = (*ACC_COLUMNS, *GYR_COLUMNS) if tilt else GYR_COLUMNS
    # the last sample may sit exactly on the session end (an import, a clean stop)
    data = store_replay.read_columns(store, device.device, cols, meta.start, meta.end + END_SLACK_S)
    t = data.t - meta.start
    if device.kind == "board":
        return board_signals(device, t, data.values)
    return imu_signals(device, t, data.values, tilt=tilt)


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class Trace:
    key: str
    name: str
    row: str
    x: np.ndarray  # s since session start
    y: np.ndarray


@dataclass(frozen=True)
class TimelineView:
    t0: float
    t1: float
    traces: tuple[Trace, ...]


def downsample(t: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """MinMaxLTTB to at most ``n_out`` points (NaN-aware: a gap stays a gap)."""
    if t.size <= n_out or n_out < 4:
        return t, y
    idx = _DOWNSAMPLER.downsample(t, y, n_out=n_out)
    return t[idx], y[idx]


def _trace_specs(sig: DeviceSignals, tilt: bool) -> list[tuple[str, str, str]]:
    if sig.kind == "board":
        return [("ml", "COP ML (+right)", "cop"), ("ap", "COP AP (+forward)", "cop")]
    where = sig.placement or sig.device
    specs = [("omega", f"{where} |ω|", "omega")]
    if tilt and "pitch" in sig.channels:
        specs = [("pitch", f"{where} pitch (+forward)", "tilt"),
                 ("roll", f"{where} roll (+right)", "tilt"), *specs]
    return specs


def timeline_view(signals: Sequence[DeviceSignals], t0: float, t1: float,
                  *, points: int = DEFAULT_POINTS) -> TimelineView:
    """Every timeline trace over ``[t0, t1]``, each downsampled to about ``points``."""
    traces: list[Trace] = []
    for sig in signals:
        part = sig.window(t0, t1)
        t = sig.t[part]
        for channel, name, row in _trace_specs(sig, "pitch" in sig.channels):
            x, y = downsample(t, sig.channels[channel][part], points)
            traces.append(Trace(f"{sig.device}.{channel}", name, row, x, y))
    return TimelineView(t0, t1, tuple(traces))


OVERVIEW_BUCKET_S = 0.1
"""Bucket of an :class:`ImuOverview` (10 samples at 100 Hz): fine enough for any view
but the shortest zooms, which read their samples."""
OVERVIEW_BUCKETS_MAX = 32768


@dataclass(frozen=True)
class ImuOverview:
    """``omega`` of a display-only IMU over the session, per bucket of ``width`` seconds
    (only buckets holding samples): first and last sample time (s since the session
    start), sample count, smallest and largest ``omega``; and the holes in its samples."""

    device: DeviceInfo
    width: float
    t_first: np.ndarray
    t_last: np.ndarray
    count: np.ndarray
    low: np.ndarray
    high: np.ndarray
    holes: tuple[tuple[float, float], ...]


def imu_overview(store: Store, meta: SessionMeta, device: DeviceInfo) -> ImuOverview:
    """The overview of ``device`` (an IMU) over the session, summed up by the database."""
    end = meta.duration + END_SLACK_S
    buckets = max(1, min(OVERVIEW_BUCKETS_MAX, math.ceil(end / OVERVIEW_BUCKET_S)))
    env = store_replay.norm_envelope(store, device.device, GYR_COLUMNS, meta.start,
                                     meta.start + end, buckets=buckets)
    return ImuOverview(device, end / buckets, env.t_first - meta.start, env.t_last - meta.start,
                       env.count, env.low.astype(np.float32), env.high.astype(np.float32),
                       _envelope_holes(store, env, meta.start))


RECHECK_MAX = 32
"""Buckets short of samples re-read one by one; beyond, all times are read once."""


def _envelope_holes(store: Store, env: store_replay.Envelope, start: float
                    ) -> tuple[tuple[float, float], ...]:
    """Steps longer than ``HOLE_FACTOR`` sample periods, as :func:`_with_holes` finds them
    (with the median over buckets of their mean step as the period): between buckets from
    their times; inside a bucket that falls short of its span by a sample period or more,
    from its times, read again."""
    many = env.count > 1
    if not many.any():
        return ()
    steps = (env.t_last[many] - env.t_first[many]) / (env.count[many] - 1)
    period = float(np.median(steps)) or 0.01
    first, last = env.t_first - start, env.t_last - start

    def holes(t: np.ndarray) -> list[tuple[float, float]]:
        jumps = np.flatnonzero(np.diff(t) > HOLE_FACTOR * period)
        return [(float(t[j] + period), float(t[j + 1])) for j in jumps]

    def times(t0: float, t1: float) -> np.ndarray:  # host times in [t0, t1]
        upto = float(np.nextafter(t1, math.inf))
        return store_replay.read_columns(store, env.device, (), t0, upto).t - start

    short = np.flatnonzero(last - first > env.count * period)
    if short.size > RECHECK_MAX:  # irregular times: read them all
        return tuple(holes(times(env.t_first[0], env.t_last[-1])))
    between = np.flatnonzero(first[1:] - last[:-1] > HOLE_FACTOR * period)
    found = [(float(last[i] + period), float(first[i + 1])) for i in between]
    for i in short:
        found += holes(times(env.t_first[i], env.t_last[i]))
    return tuple(sorted(found))


def omega_trace(store: Store, meta: SessionMeta, overview: ImuOverview, t0: float, t1: float,
                *, points: int = DEFAULT_POINTS) -> Trace:
    """``omega`` of a display-only IMU over ``[t0, t1]`` in about ``points`` points.

    When a point may stand for a bucket of the overview or more, from the overview alone:
    per group of buckets a line from its smallest value (at its first sample) to its
    largest (at its last) — at a pixel per group the picture of the samples themselves —
    broken at each hole. Shorter views read their samples (a few thousand).
    """
    info = overview.device
    key, name = f"{info.device}.omega", f"{info.placement or info.device} |ω|"
    width = (t1 - t0) / max(1, points // 2)
    if width < overview.width:
        data = store_replay.read_columns(store, info.device, GYR_COLUMNS, meta.start + t0,
                                         meta.start + t1 + END_SLACK_S)
        sig = imu_signals(info, data.t - meta.start, data.values, tilt=False)
        part = sig.window(t0, t1)
        return Trace(key, name, "omega", *downsample(sig.t[part], sig.channels["omega"][part],
                                                     points))
    part = slice(int(np.searchsorted(overview.t_last, t0)),
                 int(np.searchsorted(overview.t_first, t1, side="right")))
    first, last = overview.t_first[part], overview.t_last[part]
    if not first.size:
        return Trace(key, name, "omega", first, overview.low[part])
    starts = np.flatnonzero(np.diff(np.floor((first - t0) / width), prepend=-math.inf))
    ends = np.append(starts[1:] - 1, first.size - 1)
    x = np.column_stack([first[starts], last[ends]]).ravel()
    y = np.column_stack([np.fmin.reduceat(overview.low[part], starts),
                         np.fmax.reduceat(overview.high[part], starts)]).ravel()
    keep = np.column_stack([np.ones(starts.size, dtype=bool),
                            np.add.reduceat(overview.count[part], starts) > 1]).ravel()
    x, y = x[keep], y[keep]
    breaks = np.array([a for a, _ in overview.holes if x[0] < a < x[-1]])
    at = np.searchsorted(x, breaks)
    return Trace(key, name, "omega", np.insert(x, at, breaks), np.insert(y, at, np.nan))


def data_window(t0: float, t1: float, duration: float) -> tuple[float, float, int]:
    """The range to fetch for a view ``[t0, t1]``: padded by half a view on each side (so
    a short pan still has data), snapped to a power-of-two grid (so nearby views share one
    cache entry), and the points per trace that keep about one point per pixel in view."""
    t0, t1 = max(0.0, t0), min(duration, t1)
    span = max(t1 - t0, MIN_SPAN_S)
    step = 2.0 ** math.floor(math.log2(span / 16))
    q0 = max(0.0, math.floor((t0 - span / 2) / step) * step)
    q1 = min(max(duration, q0 + step), math.ceil((t1 + span / 2) / step) * step)
    snapped = max(step, round(span / step) * step)  # nearby views: the same cache entry
    points = int(min(4 * DEFAULT_POINTS, DEFAULT_POINTS * (q1 - q0) / snapped))
    return q0, q1, max(points, 16)


def seconds_from_axis(value: Any) -> float:
    """A date-axis value (``"1970-01-01 00:12:30.5"`` or ms since epoch) → seconds."""
    if isinstance(value, int | float):
        return float(value) / 1000.0
    text = str(value).strip().replace("T", " ")
    date, _, clock = text.partition(" ")
    whole, _, frac = (clock or "00:00:00").partition(".")
    parts = [int(p) for p in whole.split(":")] + [0, 0]
    base = datetime.fromisoformat(date).replace(tzinfo=UTC).timestamp()
    fraction = float(f"0.{frac}") if frac else 0.0
    return base + parts[0] * 3600 + parts[1] * 60 + parts[2] + fraction


def range_from_relayout(relayout: Mapping[str, Any] | None, duration: float
                        ) -> tuple[float, float] | None:
    """The x range a zoom, pan or reset asked for; None for any other relayout."""
    if not relayout:
        return None
    if relayout.get("xaxis.autorange"):
        return 0.0, duration
    if "xaxis.range[0]" in relayout and "xaxis.range[1]" in relayout:
        a, b = relayout["xaxis.range[0]"], relayout["xaxis.range[1]"]
    elif isinstance(pair := relayout.get("xaxis.range"), list | tuple) and len(pair) == 2:
        a, b = pair
    else:
        return None
    t0, t1 = sorted((seconds_from_axis(a), seconds_from_axis(b)))
    return t0, max(t1, t0 + MIN_SPAN_S)


def set_range(info: SetInfo, duration: float) -> tuple[float, float]:
    """The view for one set: the set plus a tenth of it (at least 2 s) either side."""
    pad = max(2.0, 0.1 * (info.end - info.start))
    return max(0.0, info.start - pad), min(duration, info.end + pad)


def sets_in_view(sets: Sequence[SetInfo], t0: float, t1: float) -> list[int]:
    """Row indexes of the sets overlapping ``[t0, t1]``."""
    return [i for i, s in enumerate(sets) if s.end >= t0 and s.start <= t1]


def clock(seconds: float) -> str:
    """``75.4`` → ``"1:15"``; ``3725`` → ``"1:02:05"``."""
    if not math.isfinite(seconds):
        return "–"
    total = int(round(max(seconds, 0.0)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def cop_window(board: DeviceSignals, start: float, end: float) -> dict[str, list[float | None]]:
    """Full-resolution COP in ``[start, end)`` as JSON-ready lists (None for NaN)."""
    part = board.window(start, end)

    def plain(values: np.ndarray, digits: int) -> list[float | None]:
        return [None if v != v else v for v in np.round(values.astype(np.float64), digits).tolist()]

    return {"t": plain(board.t[part], 3), "ml": plain(board.channels["ml"][part], 3),
            "ap": plain(board.channels["ap"][part], 3)}


def playback_chunk(board: DeviceSignals, at: float, duration: float, *,
                   before: float = 5.0, length: float = 60.0) -> dict[str, Any]:
    """What the browser needs to replay the stabilogram from ``at`` for ``length`` s."""
    start, end = max(0.0, at - before), min(duration, at + length)
    return {"from": start, "to": end, "end": duration, "at": at, **cop_window(board, start, end)}


def cop_frame(board: DeviceSignals | None) -> tuple[float, float, float]:
    """Fixed stabilogram axes for a session: centre (median COP, cm) and a half-range
    (99th percentile distance from it + 20 %, 2–25 cm)."""
    if board is None or not board.t.size:
        return 0.0, 0.0, 6.0
    ml, ap = board.channels["ml"], board.channels["ap"]
    ok = np.isfinite(ml) & np.isfinite(ap)
    if not ok.any():
        return 0.0, 0.0, 6.0
    cx, cy = float(np.median(ml[ok])), float(np.median(ap[ok]))
    radius = np.hypot(ml[ok] - cx, ap[ok] - cy)
    return cx, cy, float(max(2.0, min(25.0, 1.2 * np.percentile(radius, 99))))
