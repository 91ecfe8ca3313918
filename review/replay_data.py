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

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from tsdownsample import NaNMinMaxLTTBDownsampler

from analysis.cop import cop_from_loads
from analysis.imu import trunk_orientation
from contract.vocab import SUPPORT_POINTS
from review.people import author_names, name_of
from store import Store
from store import derived as store_derived
from store import replay as store_replay

log = logging.getLogger(__name__)

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
        """0 = trunk (most proximal) … 6 = none (see :data:`contract.vocab.SUPPORT_POINTS`)."""
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
    author_name: str = ""  # what a person reads (``author`` is the stored id)

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
    therapist_name: str = ""  # what a person reads (``therapist`` is the stored id)

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
    people = author_names(store)
    notes = tuple(Note(a.t - start, a.author or "", a.tag or "", a.text,
                       name_of(people, a.author))
                  for a in store.annotations(session_id))
    devices = store_replay.room_devices(store, row.site, row.room, start, end)
    gaps = tuple(
        Gap(max(g.t_from, start) - start, min(g.t_to, end) - start,
            f"{g.device}: {g.reason}" if g.reason else g.device)
        for g in store.gaps(None, start, end, place=(row.site, row.room))
    )
    version = f"{end:.3f}" if ended else f"live-{int(now // LIVE_VERSION_S)}"
    return SessionMeta(
        id=row.id, child=row.child, child_label=label, site=row.site, room=row.room,
        therapist=row.therapist or "", start=start, end=end, ended=ended, version=version,
        sets=sets, reps=reps, notes=notes, gaps=gaps,
        devices=tuple(DeviceInfo(d.device, d.kind, d.placement) for d in devices),
        therapist_name=name_of(people, row.therapist),
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


TILT_SERIES = "tilt"
"""The stored name of the tilt IMU's display signals (:mod:`store.derived`)."""

T = TypeVar("T")
Packed = tuple[dict[str, np.ndarray], dict[str, Any]]


def stored_once(store: Store, meta: SessionMeta, device: str, name: str,
                compute: Callable[[], T], pack: Callable[[T], Packed],
                unpack: Callable[[store_derived.Series], T]) -> T:
    """What ``compute`` works out from ``device``'s samples over an ended session, read
    back from the store when it was worked out from the samples there are now (by the
    record service when the session ended, :func:`review.replay_views.prepare`, or by an
    earlier open); else worked out and stored for next time. A running session's is
    never stored (its samples keep coming)."""
    if not meta.ended:
        return compute()
    source, stored = _stored(store, meta, device, name)
    if stored is not None:
        return unpack(stored)
    value = compute()
    try:
        store_derived.save_series(store, meta.id, device, name, source, *pack(value),
                                  (meta.site, meta.room))
    except Exception as exc:  # a cache: the page works without it (next time computes)
        log.warning("replay: could not store %s of %s in session %s: %s", name, device,
                    meta.id, exc)
    return value


def stored_series(store: Store, meta: SessionMeta, device: str, name: str
                  ) -> store_derived.Series | None:
    """The series ``name`` of ``device`` as stored for ``meta``'s session, if it was
    worked out from the samples there are now (None: missing or stale)."""
    return _stored(store, meta, device, name)[1]


def _stored(store: Store, meta: SessionMeta, device: str, name: str
            ) -> tuple[str, store_derived.Series | None]:
    place = (meta.site, meta.room)
    source = store_derived.source_of(store, device, meta.start, meta.end + END_SLACK_S, place)
    return source, store_derived.load_series(store, meta.id, device, name, source, place)


def load_signals(store: Store, meta: SessionMeta, device: DeviceInfo) -> DeviceSignals:
    """Read one device over the session window and derive its display signals.

    The tilt IMU's (trunk orientation: a recursive filter over every sample, the
    costliest part of opening a session) are worked out once per session and stored
    (:func:`stored_once`). A stored series is used only while the samples it came from
    are still all there is; one that arrived later makes it worked out again."""
    if meta.tilt_imu is None or device.device != meta.tilt_imu.device:
        return _load_signals(store, meta, device)

    def pack(signals: DeviceSignals) -> Packed:
        return {"t": signals.t, **signals.channels}, {"fs": signals.fs, "holes": signals.holes}

    def unpack(stored: store_derived.Series) -> DeviceSignals:
        arrays = dict(stored.arrays)
        t = arrays.pop("t")
        holes = tuple((float(a), float(b)) for a, b in stored.info["holes"])
        return DeviceSignals(device.device, "imu", device.placement, t, arrays,
                             float(stored.info["fs"]), holes)

    return stored_once(store, meta, device.device, TILT_SERIES,
                       lambda: _load_signals(store, meta, device), pack, unpack)


def _load_signals(store: Store, meta: SessionMeta, device: DeviceInfo) -> DeviceSignals:
    tilt = meta.tilt_imu is not None and device.device == meta.tilt_imu.device
    if device.kind == "board":
        cols: tuple[str, ...] = BOARD_COLUMNS
    else:
        cols = (*ACC_COLUMNS, *GYR_COLUMNS) if tilt else GYR_COLUMNS
    # the last sample may sit exactly on the session end (an import, a clean stop)
    data = store_replay.read_columns(store, device.device, cols, meta.start,
                                     meta.end + END_SLACK_S, (meta.site, meta.room))
    t = data.t - meta.start
    if device.kind == "board":
        return board_signals(device, t, data.values)
    return imu_signals(device, t, data.values, tilt=tilt)
