"""Per-set metrics, session summaries, the sessions list and progress across sessions.

Pure functions over :mod:`review.replay_data` objects (and, for the sessions list, an
open store). Per set, over the set's own time window:

- balance (board): BDS sway measures of the centre of pressure — 95 % ellipse area,
  mean velocity, mean frequency (:func:`analysis.sway.sway_metrics`), over the samples
  with the board loaded;
- trunk (tilt IMU): tilt RMS and largest tilt, both about the set's mean posture, from
  the Fusion pitch/roll; ISway jerk and RMS of the horizontal trunk acceleration
  (:func:`analysis.imu.isway_metrics`);
- holds: the stretches with the board loaded without a break (≥ 1 s): the longest one
  and the total time loaded;
- reps: those that stand (not revoked), of which entered by hand.

A measure that cannot be computed (no device, too short) is NaN, never an error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from access import may_review
from analysis.errors import AnalysisError
from analysis.imu import isway_metrics
from analysis.sway import sway_metrics
from review.people import author_names, name_of
from review.replay_data import DeviceSignals, SessionMeta
from store import Store
from store import replay as store_replay

MIN_HOLD_S = 1.0
NAN = math.nan


@dataclass(frozen=True)
class SetMetrics:
    set_id: str
    number: int
    exercise: str
    exercise_name: str
    surface: str
    support: str
    support_level: int
    start_s: float
    duration_s: float
    planned_reps: int
    reps: int
    manual_reps: int
    quality: str
    ellipse_area_cm2: float
    mean_velocity_cm_s: float
    mean_frequency_hz: float
    tilt_rms_deg: float
    tilt_max_deg: float
    isway_jerk_m2_s5: float
    isway_rms_m_s2: float
    longest_hold_s: float
    loaded_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in ``mask``."""
    if not mask.size:
        return np.empty(0, dtype=int)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def _board_measures(board: DeviceSignals | None, t0: float, t1: float) -> dict[str, float]:
    out = dict(ellipse_area_cm2=NAN, mean_velocity_cm_s=NAN, mean_frequency_hz=NAN,
               longest_hold_s=NAN, loaded_s=NAN)
    if board is None:
        return out
    part = board.window(t0, t1)
    ml = board.channels["ml"][part].astype(np.float64)
    ap = board.channels["ap"][part].astype(np.float64)
    loaded = np.isfinite(ml) & np.isfinite(ap)
    runs = _runs(loaded) / board.fs
    holds = runs[runs >= MIN_HOLD_S]
    out["longest_hold_s"] = float(holds.max()) if holds.size else 0.0
    out["loaded_s"] = float(loaded.sum() / board.fs)
    try:
        sway = sway_metrics(ml, ap, fs=board.fs)
    except AnalysisError:
        return out
    out.update(ellipse_area_cm2=sway.ellipse_area_cm2, mean_velocity_cm_s=sway.mean_velocity_cm_s,
               mean_frequency_hz=sway.mean_frequency_hz)
    return out


def _trunk_measures(imu: DeviceSignals | None, t0: float, t1: float) -> dict[str, float]:
    out = dict(tilt_rms_deg=NAN, tilt_max_deg=NAN, isway_jerk_m2_s5=NAN, isway_rms_m_s2=NAN)
    if imu is None or "pitch" not in imu.channels:
        return out
    part = imu.window(t0, t1)
    pitch = imu.channels["pitch"][part].astype(np.float64)
    roll = imu.channels["roll"][part].astype(np.float64)
    ok = np.isfinite(pitch) & np.isfinite(roll)
    if ok.sum() >= 2:
        radius = np.hypot(pitch[ok] - pitch[ok].mean(), roll[ok] - roll[ok].mean())
        out["tilt_rms_deg"] = float(np.sqrt(np.mean(radius**2)))
        out["tilt_max_deg"] = float(radius.max())
    acc_ap = imu.channels["acc_ap"][part].astype(np.float64)
    acc_ml = imu.channels["acc_ml"][part].astype(np.float64)
    keep = np.isfinite(acc_ap) & np.isfinite(acc_ml)
    try:
        isway = isway_metrics(acc_ap[keep], acc_ml[keep], fs=imu.fs)
    except AnalysisError:
        return out
    out.update(isway_jerk_m2_s5=isway.jerk_m2_s5, isway_rms_m_s2=isway.rms_m_s2)
    return out


def set_metrics(meta: SessionMeta, board: DeviceSignals | None,
                tilt: DeviceSignals | None) -> list[SetMetrics]:
    """One :class:`SetMetrics` per set of the session, in order."""
    out = []
    for info in meta.sets:
        reps = [r for r in meta.reps if r.set_id == info.id and not r.revoked]
        out.append(SetMetrics(
            set_id=info.id, number=info.number, exercise=info.exercise,
            exercise_name=info.exercise_name, surface=info.surface, support=info.support,
            support_level=info.support_level, start_s=info.start,
            duration_s=info.end - info.start, planned_reps=info.planned_reps, reps=len(reps),
            manual_reps=sum(r.source == "manual" for r in reps), quality=info.quality or "",
            **_board_measures(board, info.start, info.end),
            **_trunk_measures(tilt, info.start, info.end),
        ))
    return out


def _median(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else NAN


@dataclass(frozen=True)
class SessionSummary:
    duration_s: float
    sets: int
    reps: int
    planned_reps: int
    manual_reps: int
    time_in_sets_s: float
    gaps: int
    gap_s: float
    notes: int
    median_ellipse_area_cm2: float
    median_mean_velocity_cm_s: float
    median_tilt_rms_deg: float
    most_proximal_support: str
    most_distal_support: str

    @property
    def completion(self) -> float:
        return self.reps / self.planned_reps if self.planned_reps else NAN


def session_summary(meta: SessionMeta, metrics: Sequence[SetMetrics],
                    holes: Sequence[tuple[float, float]] = ()) -> SessionSummary:
    """The session in one line: time, sets, reps, gaps (recorded + found), typical sway."""
    spans = [(g.start, g.end) for g in meta.gaps] + list(holes)
    levels = sorted((m.support_level, m.support) for m in metrics if m.support_level >= 0)
    return SessionSummary(
        duration_s=meta.duration, sets=len(metrics), reps=sum(m.reps for m in metrics),
        planned_reps=sum(m.planned_reps for m in metrics),
        manual_reps=sum(m.manual_reps for m in metrics),
        time_in_sets_s=sum(m.duration_s for m in metrics),
        gaps=len(spans), gap_s=store_replay.union_length(spans), notes=len(meta.notes),
        median_ellipse_area_cm2=_median([m.ellipse_area_cm2 for m in metrics]),
        median_mean_velocity_cm_s=_median([m.mean_velocity_cm_s for m in metrics]),
        median_tilt_rms_deg=_median([m.tilt_rms_deg for m in metrics]),
        most_proximal_support=levels[0][1] if levels else "",
        most_distal_support=levels[-1][1] if levels else "",
    )


# ----------------------------------------------------------------------------- sessions list


@dataclass(frozen=True)
class SessionListRow:
    id: str
    start: float
    child: str
    child_label: str
    room: str
    therapist: str
    duration_s: float
    live: bool
    sets: int
    reps: int
    planned_reps: int
    manual_reps: int
    gaps: int
    gap_s: float
    therapist_name: str = ""


def session_list(store: Store, principal: Any, *, child: str | None = None,
                 room: str | None = None, therapist: str | None = None,
                 since: float | None = None, until: float | None = None, limit: int = 200,
                 now: float | None = None) -> list[SessionListRow]:
    """Sessions the principal may see, newest first, with their counts."""
    now = time.time() if now is None else now
    rows = [s for s in store.sessions(child=child, room=room, therapist=therapist,
                                      since=since, until=until)
            if may_review(principal, s.child, s.room)][:limit]
    counts = store_replay.session_counts(store, [s.id for s in rows])
    labels = {c.pseudonym: c.label for c in store.children()}
    names = author_names(store)
    out = []
    for s in rows:
        c = counts[s.id]
        end = s.end if s.end is not None else now
        out.append(SessionListRow(
            id=s.id, start=s.start, child=s.child, child_label=labels.get(s.child, s.child),
            room=s.room, therapist=s.therapist or "", duration_s=max(0.0, end - s.start),
            live=s.end is None, sets=c.sets, reps=c.reps, planned_reps=c.planned_reps,
            manual_reps=c.manual_reps, gaps=c.gaps, gap_s=c.gap_s,
            therapist_name=name_of(names, s.therapist),
        ))
    return out


# ----------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ProgressPoint:
    """One exercise in one session (its sets taken together)."""

    session: str
    start: float
    exercise: str
    exercise_name: str
    sets: int
    support: str
    support_level: int
    surfaces: str
    reps: int
    planned_reps: int
    ellipse_area_cm2: float
    mean_velocity_cm_s: float
    tilt_rms_deg: float


def progress_points(history: Sequence[tuple[SessionMeta, Sequence[SetMetrics]]]
                    ) -> list[ProgressPoint]:
    """Per session and exercise: the most distal support used, sway medians, reps; by time."""
    out = []
    for meta, metrics in sorted(history, key=lambda item: item[0].start):
        by_exercise: dict[str, list[SetMetrics]] = {}
        for m in metrics:
            by_exercise.setdefault(m.exercise, []).append(m)
        for exercise, group in by_exercise.items():
            top = max(group, key=lambda m: m.support_level)
            out.append(ProgressPoint(
                session=meta.id, start=meta.start, exercise=exercise,
                exercise_name=group[0].exercise_name, sets=len(group), support=top.support,
                support_level=top.support_level,
                surfaces=", ".join(dict.fromkeys(m.surface for m in group)),
                reps=sum(m.reps for m in group), planned_reps=sum(m.planned_reps for m in group),
                ellipse_area_cm2=_median([m.ellipse_area_cm2 for m in group]),
                mean_velocity_cm_s=_median([m.mean_velocity_cm_s for m in group]),
                tilt_rms_deg=_median([m.tilt_rms_deg for m in group]),
            ))
    return out


@dataclass(frozen=True)
class ExerciseTrend:
    """First against latest session of one exercise: did support move distally, sway fall?"""

    exercise: str
    exercise_name: str
    sessions: int
    first: float
    last: float
    support_first: str
    support_last: str
    support_change: int  # levels moved distally (negative: proximally)
    sway_first: float
    sway_last: float
    sway_change: float  # relative change of the ellipse area (−0.3 = fell by 30 %)
    completion_first: float
    completion_last: float


def exercise_trends(points: Sequence[ProgressPoint]) -> list[ExerciseTrend]:
    """One trend per exercise, most practised first."""
    groups: dict[str, list[ProgressPoint]] = {}
    for p in sorted(points, key=lambda p: p.start):
        groups.setdefault(p.exercise, []).append(p)

    def completion(p: ProgressPoint) -> float:
        return p.reps / p.planned_reps if p.planned_reps else NAN

    out = []
    for exercise, group in groups.items():
        a, b = group[0], group[-1]
        change = (b.ellipse_area_cm2 / a.ellipse_area_cm2 - 1.0
                  if a.ellipse_area_cm2 > 0 else NAN)
        out.append(ExerciseTrend(
            exercise=exercise, exercise_name=a.exercise_name, sessions=len(group),
            first=a.start, last=b.start, support_first=a.support, support_last=b.support,
            support_change=b.support_level - a.support_level, sway_first=a.ellipse_area_cm2,
            sway_last=b.ellipse_area_cm2, sway_change=change,
            completion_first=completion(a), completion_last=completion(b),
        ))
    return sorted(out, key=lambda t: (-t.sessions, t.exercise_name))
