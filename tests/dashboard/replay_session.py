"""A recorded session with known content, written through the store's public API.

Used by the replay, export and browser tests (and by ``bench/replay.py`` at full size):
a board and IMUs at 100 Hz, sets with auto, manual and revoked reps, a tag and a note,
a recorded gap and a hole in the samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import flask
import numpy as np

from contract import Event, SampleBatch
from ingest.devices.board import corners_from_cop
from store import Store

T0 = 1_767_600_000.0  # 2026-01-05 08:00 UTC
FS = 100.0
BATCH = 1000


@dataclass(frozen=True)
class PlannedSet:
    id: str
    exercise: str
    surface: str
    support: str
    planned: int
    start: float  # s since session start
    end: float
    reps: tuple[float, ...] = ()  # auto reps, s since session start
    manual: tuple[float, ...] = ()
    revoked: int = 0  # how many of the auto reps a manual −1 takes back (latest first)


@dataclass
class Recorded:
    session: str
    child: str
    site: str
    room: str
    start: float
    end: float
    sets: list[PlannedSet]
    devices: dict[str, str] = field(default_factory=dict)  # device → kind
    hole: tuple[float, float] | None = None  # s since start, no samples
    gap: tuple[float, float] | None = None  # recorded gap, s since start


def default_sets(duration: float, prefix: str = "") -> list[PlannedSet]:
    d = duration
    return [
        PlannedSet(f"{prefix}set-1", "sit-to-stand-foam", "foam-pad", "knee", 5, 0.05 * d, 0.3 * d,
                   reps=tuple(np.linspace(0.08 * d, 0.27 * d, 4)), manual=(0.28 * d,)),
        PlannedSet(f"{prefix}set-2", "stand-foam-pad", "foam-pad", "shank", 3, 0.4 * d, 0.6 * d,
                   reps=tuple(np.linspace(0.45 * d, 0.58 * d, 3)), revoked=1),
        PlannedSet(f"{prefix}set-3", "weight-shift-lateral-foam", "ladder", "none", 8, 0.7 * d,
                   0.95 * d, reps=tuple(np.linspace(0.72 * d, 0.93 * d, 6))),
    ]


def _batches(device: str, kind: str, columns: tuple[str, ...], seq: np.ndarray,
             start: float, values: np.ndarray, boot: str) -> list[SampleBatch]:
    """Batches of consecutive sample numbers ``seq`` (a jump in ``seq`` is missing data,
    as when a device drops samples), at ``FS`` from ``start``."""
    breaks = np.flatnonzero(np.diff(seq) != 1) + 1
    out = []
    for run_seq, run_values in zip(np.split(seq, breaks), np.split(values, breaks), strict=True):
        for i in range(0, run_seq.size, BATCH):
            first = int(run_seq[i])
            rows = tuple(map(tuple, run_values[i:i + BATCH].tolist()))
            out.append(SampleBatch(device, kind, boot, first, first / FS, 1 / FS,  # type: ignore[arg-type]
                                   start + first / FS, columns, rows))
    return out


def board_values(rel: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ml = 1.5 * np.sin(2 * np.pi * 0.3 * rel) + 0.05 * rng.standard_normal(rel.size)
    ap = 1.0 * np.cos(2 * np.pi * 0.2 * rel) - 2.0 + 0.05 * rng.standard_normal(rel.size)
    total = 18.0 + 0.2 * rng.standard_normal(rel.size)
    return corners_from_cop(total, ap, ml)


def imu_values(rel: np.ndarray, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lean = np.radians(5 * np.sin(2 * np.pi * 0.25 * rel))
    acc = np.column_stack([-np.sin(lean), 0.01 * rng.standard_normal(rel.size), np.cos(lean)])
    rate = np.degrees(np.gradient(lean, 1 / FS))
    gyr = np.column_stack([0.2 * rng.standard_normal(rel.size), rate,
                           0.2 * rng.standard_normal(rel.size)])
    return np.column_stack([acc, gyr])


def record_session(store: Store, *, session: str = "s-1", child: str = "c-17",
                   site: str = "demo", room: str = "room-1", duration: float = 120.0,
                   start: float = T0, imus: Sequence[str] = ("trunk",),
                   sets: Sequence[PlannedSet] | None = None, hole: bool = True,
                   author: str = "ana", name: str = "Mia") -> Recorded:
    """Write a session of ``duration`` seconds to ``store`` and describe what was written."""
    plan = list(sets if sets is not None else default_sets(duration, f"{session}-"))
    rec = Recorded(session, child, site, room, start, start + duration, plan)
    seq = np.arange(int(round(duration * FS)) + 1)
    rel = seq / FS
    keep = np.ones(rel.size, dtype=bool)
    if hole:  # inside the first set
        rec.hole = (round(0.2 * duration, 2), round(0.2 * duration, 2) + 2.0)
        keep &= ~((rel >= rec.hole[0] - 1e-9) & (rel < rec.hole[1] - 1e-9))
    board = f"{room}-board"
    store.upsert_device(site, room, board, "board", "under-feet")
    rec.devices[board] = "board"
    batches = _batches(board, "board", ("fl", "fr", "bl", "br"), seq[keep], start,
                       board_values(rel)[keep], f"{board}-{session}")
    for k, placement in enumerate(imus):
        imu = f"{room}-imu-{placement}"
        store.upsert_device(site, room, imu, "imu", placement)
        rec.devices[imu] = "imu"
        batches += _batches(imu, "imu", ("ax", "ay", "az", "gx", "gy", "gz"), seq, start,
                            imu_values(rel, seed=10 + k), f"{imu}-{session}")
    store.insert_batches(batches)
    if hole:
        rec.gap = (0.8 * duration, 0.8 * duration + 1.0)
        store.add_gap(board, f"{board}-{session}", start + rec.gap[0], start + rec.gap[1],
                      "serial timeout")
    n = 0

    def ev(type_: str, t: float, set_: str | None = None, **data: object) -> Event:
        nonlocal n
        n += 1
        return Event(type=type_, t=start + t, session=session, set=set_, author=author,
                     data=dict(data), id=f"{session}-e{n}")

    store.add_child(child, name)  # an admin registers the child; a session cannot
    events = [ev("session_start", 0.0, child=child)]
    for s in plan:
        events.append(ev("set_start", s.start, s.id, exercise=s.exercise, surface=s.surface,
                         support=s.support, planned_reps=s.planned))
        events += [ev("rep", t, s.id, delta=1, source="auto", confidence=0.9) for t in s.reps]
        events += [ev("rep", t, s.id, delta=1, source="manual") for t in s.manual]
        last = max((*s.reps, *s.manual), default=s.start)
        events += [ev("rep", last + 0.1 * (i + 1), s.id, delta=-1, source="manual")
                   for i in range(s.revoked)]
        events.append(ev("set_end", s.end, s.id, quality="assisted"))
    events.append(ev("tag", plan[0].start + 3.0 if plan else 3.0, plan[0].id if plan else None,
                     tag="fatigue"))
    events.append(ev("note", duration * 0.5, None, text="Good focus after the break"))
    events.append(ev("session_end", duration))
    for e in sorted(events, key=lambda e: e.t):
        store.apply_event(site, room, e)
    return rec


# ----------------------------------------------------------------------------- app wiring


def add_test_login(server: flask.Flask, store: Store) -> None:
    """TEST ONLY: ``/test-login?name=…&children=a,b&next=/path`` signs in as the stored
    user ``name`` (``sup``, a supervisor, or ``ther``, a therapist), with a stored sign-in
    as the real sign-in makes; ``children`` narrows what the principal may see."""
    from dashboard import auth, signins

    for name, role in (("sup", "supervisor"), ("ther", "therapist")):
        if store.get_user(name) is None:
            store.add_user(name, role, "not-a-real-hash")

    def test_login() -> Any:
        args = flask.request.args
        user = store.get_user(args.get("name", "sup"))
        assert user is not None, "test-login knows the users sup and ther"
        signins.start(store, user, "test")
        children = args.get("children")
        if children is not None:
            flask.session["principal"] = auth.Principal(
                kind="user", name=user.username, role=user.role,
                children=frozenset(children.split(","))).to_session()
        return flask.redirect(args.get("next", "/"))

    server.add_url_rule("/test-login", "test_login", test_login)
