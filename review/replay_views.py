"""Replay views: what the timeline draws for a time range (display-resolution traces,
IMU overviews aggregated in the database), time ranges and stabilogram playback."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from review.replay_data import (
    _DOWNSAMPLER,
    DEFAULT_POINTS,
    END_SLACK_S,
    GYR_COLUMNS,
    HOLE_FACTOR,
    MIN_SPAN_S,
    DeviceInfo,
    DeviceSignals,
    Packed,
    SessionMeta,
    SetInfo,
    imu_signals,
    load_meta,
    load_signals,
    stored_once,
)
from store import Store
from store import replay as store_replay
from store.derived import Series
from store.errors import UnknownSession


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


OVERVIEW_SERIES = "overview"
"""The stored name of a display-only IMU's overview (:mod:`store.derived`)."""
_OVERVIEW_ARRAYS = ("t_first", "t_last", "count", "low", "high")


def imu_overview(store: Store, meta: SessionMeta, device: DeviceInfo) -> ImuOverview:
    """The overview of ``device`` (an IMU) over the session; once the session has ended,
    worked out once and stored (:func:`review.replay_data.stored_once`)."""

    def pack(view: ImuOverview) -> Packed:
        return ({k: getattr(view, k) for k in _OVERVIEW_ARRAYS},
                {"width": view.width, "holes": view.holes})

    def unpack(stored: Series) -> ImuOverview:
        holes = tuple((float(a), float(b)) for a, b in stored.info["holes"])
        a = stored.arrays
        return ImuOverview(device, float(stored.info["width"]), a["t_first"], a["t_last"],
                           a["count"], a["low"], a["high"], holes)

    return stored_once(store, meta, device.device, OVERVIEW_SERIES,
                       lambda: _imu_overview(store, meta, device), pack, unpack)


def prepare(store: Store, session_id: str) -> bool:
    """Work out and store what opening ``session_id``'s replay needs from its samples
    (the tilt IMU's signals, the other IMUs' overviews), so that the first supervisor to
    open it does not wait. False if the session is unknown or not ended."""
    try:
        meta = load_meta(store, session_id)
    except UnknownSession:
        return False
    if not meta.ended:
        return False
    if meta.tilt_imu is not None:
        load_signals(store, meta, meta.tilt_imu)
    for device in meta.display_only:
        imu_overview(store, meta, device)
    return True


def _imu_overview(store: Store, meta: SessionMeta, device: DeviceInfo) -> ImuOverview:
    """The overview of ``device`` (an IMU) over the session, from its samples."""
    end = meta.duration + END_SLACK_S
    buckets = max(1, min(OVERVIEW_BUCKETS_MAX, math.ceil(end / OVERVIEW_BUCKET_S)))
    place = (meta.site, meta.room)
    env = store_replay.norm_envelope(store, device.device, GYR_COLUMNS, meta.start,
                                     meta.start + end, buckets=buckets, place=place)
    return ImuOverview(device, end / buckets, env.t_first - meta.start, env.t_last - meta.start,
                       env.count, env.low.astype(np.float32), env.high.astype(np.float32),
                       _envelope_holes(store, env, meta.start, place))


RECHECK_MAX = 32
"""Buckets short of samples re-read one by one; beyond, all times are read once."""


def _envelope_holes(store: Store, env: store_replay.Envelope, start: float,
                    place: tuple[str, str],
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
        return store_replay.read_columns(store, env.device, (), t0, upto, place).t - start

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
                                         meta.start + t1 + END_SLACK_S, (meta.site, meta.room))
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


EDGE_S = 1.0
"""A device silent for longer than this at the session's start (or end) is shown as missing
data there, with the reason, and counted with the gaps."""


def edge_holes(device: str, first: float | None, last: float | None, duration: float, *,
               ended: bool) -> list[tuple[float, float, str]]:
    """The stretches at the session's edges without samples of ``device``: before its first
    sample (``first``, s since the start; None: no sample at all) and, once the session has
    ended, after its last one.

    >>> edge_holes("board-1", 11.2, 60.0, 60.0, ended=True)
    [(0.0, 11.2, 'board-1: no data yet (its first sample came 0:11 after the start)')]
    """
    if first is None or last is None:
        return [(0.0, duration, f"{device}: no data in this session")] if duration > 0 else []
    out = []
    if first > EDGE_S:
        out.append((0.0, first, f"{device}: no data yet (its first sample came "
                                f"{clock(first)} after the start)"))
    if ended and duration - last > EDGE_S:
        out.append((last, duration, f"{device}: no data after {clock(last)} (it stopped "
                                    "sending before the session ended)"))
    return out
