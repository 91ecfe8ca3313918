"""The session engine: the one place that decides each room's live state and rep count.

Per room it follows the active session and set from the events topic, counts reps
(automatic ones from a :class:`~analysis.reps.RepDetector`, manual +1/−1 from the
therapist) by exactly the store's rule, keeps 10 s sliding sway metrics of the room's
board and the trunk tilt of its IMU, and publishes a :class:`~ingest.derived.RoomState`
snapshot on the room's derived topic. The wall, the remote and the family view read the
count from that snapshot, so they never disagree.

One path for every rep: a rep the detector finds is published as an ``Event(type="rep",
data={"delta": 1, "source": "auto", ...})`` on the room's events topic and counted when
it comes back from the broker, like a therapist's +1. The recorder stores it through the
normal path, and the engine sees rep events in the order the broker delivers them to the
recorder, so its count and :meth:`store.Store.rep_count` agree (see :class:`RepTally`).
An auto rep's event id is derived from its set and time, so two engines watching the
same room (or one re-reading the same samples) cannot count a rep twice.

:class:`SessionEngine` is pure — ``on_batch``, ``on_event``, ``on_status`` and ``tick``
return the :class:`Outgoing` messages to publish — and :class:`EngineService` wires it to
MQTT with one thread owning the client, and reloads the active sessions, sets and counts
from the store when it starts and after every reconnect (it keeps no broker session:
what happened while it was away is in the store).

Exercise catalog profile → analysis profile (:data:`PROFILE_FOR_CATALOG`):

==================  ==============  ============================================
catalog profile     analysis        signal
==================  ==============  ============================================
vertical-transfer   squat           trunk pitch (forward lean to rise or lower)
ml-shift            weight_shift    board COP, medio-lateral
ap-shift            ap_shift        board COP, antero-posterior (two-sided)
reach               reach           board COP, forward
step                step            vertical trunk acceleration
static-hold         —               no automatic count (the therapist counts)
perturbation        —               no automatic count (reactions are elicited)
==================  ==============  ============================================

A clinic's own exercise may also name an analysis profile (``squat`` …) directly.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.imu import TrunkTilt
from analysis.reps import RepDetector
from analysis.stream import SlidingSway
from ingest.derived import RoomState, SwaySnapshot, Tilt
from ingest.engine_parts import (
    _SEEN_IDS,
    BOARD_COLUMNS,
    IMU_COLUMNS,
    MAX_SESSION_AGE_S,
    PROFILE_FOR_CATALOG,
    SNAPSHOT_PERIOD_S,
    STALE_S,
    SWAY_WINDOW_S,
    EngineStats,
    ExerciseLookup,
    Outgoing,
    RepTally,
    _Device,
    _ended,
    _note,
    _Room,
    _Set,
    rep_profile,
)

__all__ = ["PROFILE_FOR_CATALOG", "Outgoing", "RepTally", "SessionEngine", "rep_profile"]
from ingest.schema import (
    DeviceStatus,
    Event,
    SampleBatch,
    derived_topic,
    events_topic,
)
from store.rows import SUPPORT_POINTS

log = logging.getLogger(__name__)


class SessionEngine:
    """Pure room-state engine for one site (no I/O; see the module docstring).

    Parameters
    ----------
    site : str
        The site whose topics the outputs go to.
    exercise_profile : callable
        Exercise key → catalog ``signal_profile`` (None when unknown; the store refuses
        a set of an unknown exercise, and so does the engine).
    clock : callable
        Wall-clock time in seconds (``time.time``); used for snapshot times, the 10 Hz
        pacing and device staleness.
    """

    def __init__(self, site: str, *, exercise_profile: ExerciseLookup,
                 clock: Callable[[], float] = time.time) -> None:
        self.site = site
        self.exercise_profile = exercise_profile
        self.clock = clock
        self.stats = EngineStats()
        self.rooms: dict[str, _Room] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ queries

    def state(self, room: str, now: float | None = None) -> RoomState:
        """The room's current snapshot (metrics computed now)."""
        return self._state(self._room(room), self.clock() if now is None else now)

    # ------------------------------------------------------------------ inputs

    def on_event(self, room: str, event: Event, now: float | None = None) -> list[Outgoing]:
        """Apply a session event from the room's events topic; repeats (same id) are ignored."""
        if event.id in self._seen:
            return []
        self._remember(event.id)
        self.stats.events += 1
        r = self._room(room)
        handler = getattr(self, f"_ev_{event.type}")
        if not handler(r, event):
            self.stats.ignored_events += 1
        return self._maybe_publish(r, self.clock() if now is None else now)

    def on_status(self, room: str, status: DeviceStatus, now: float | None = None
                  ) -> list[Outgoing]:
        """Note a device's placement and whether it went offline."""
        r = self._room(room)
        if status.placement:
            r.placements[status.device] = status.placement
        if status.state == "offline":
            r.offline.add(status.device)
        else:
            r.offline.discard(status.device)
        return self._maybe_publish(r, self.clock() if now is None else now)

    def on_batch(self, room: str, batch: SampleBatch, now: float | None = None
                 ) -> list[Outgoing]:
        """Feed a sample batch; returns detected reps (as events) and a due snapshot."""
        now = self.clock() if now is None else now
        self.stats.batches += 1
        r = self._room(room)
        wanted = BOARD_COLUMNS if batch.kind == "board" else IMU_COLUMNS
        missing = [c for c in wanted if c not in batch.columns]
        if missing:
            self._reject(batch.device, f"{batch.kind} batch lacks columns {missing}")
            return []
        device = self._device_for(r, batch, now)
        if device is None:
            return []
        skip = device.next_seq - batch.seq if batch.boot == device.boot else 0
        if skip >= len(batch.rows):
            self.stats.duplicates += 1
            return []
        if batch.boot != device.boot and device.tilt is not None:
            device.tilt.reset()
        device.boot, device.next_seq, device.last_seen = batch.boot, batch.last_seq + 1, now
        out: list[Outgoing] = []
        try:
            out += self._detect(r, device, self._signals(device, batch, max(skip, 0)))
        except (AnalysisError, ValueError) as exc:
            self._reject(batch.device, f"samples not usable: {exc}")
        r.fresh_samples = True
        return out + self._maybe_publish(r, now)

    def tick(self, now: float | None = None) -> list[Outgoing]:
        """Publish due snapshots (pending metrics, devices gone stale)."""
        now = self.clock() if now is None else now
        out: list[Outgoing] = []
        for r in self.rooms.values():
            out += self._maybe_publish(r, now)
        return out

    def restore(self, store: Any, now: float | None = None) -> list[Outgoing]:
        """Take each room's open session, open set and standing reps from the store.

        The store is the truth after a restart or a reconnect: a set the engine is
        already following keeps its detector, but its count is the store's.
        """
        now = self.clock() if now is None else now
        latest: dict[str, Any] = {}
        for s in store.sessions(site=self.site, since=now - MAX_SESSION_AGE_S):
            if s.end is None and s.room not in latest:
                latest[s.room] = s  # newest first
        for r in self.rooms.values():
            if r.session is not None and r.name not in latest and _ended(store, r.session):
                r.session = r.child = r.current = r.note = None
        for name, s in latest.items():
            r = self._room(name)
            if r.session != s.id:
                r.current, r.note = None, None
            r.session, r.child = s.id, s.child
            self._restore_set(r, store)
            notes = store.annotations(s.id)
            if notes:
                n = notes[-1]
                r.note = _note(n.t, n.tag, n.text, n.family_visible)
        out: list[Outgoing] = []
        for r in self.rooms.values():
            out += self._maybe_publish(r, now)
        return out

    # ------------------------------------------------------------------ events

    def _ev_session_start(self, r: _Room, ev: Event) -> bool:
        if ev.session is None:
            return False
        if ev.session != r.session:
            r.current, r.note = None, None
        r.session, r.child = ev.session, str(ev.data["child"])
        return True

    def _ev_session_end(self, r: _Room, ev: Event) -> bool:
        if ev.session is None or ev.session != r.session:
            return False
        r.session = r.child = r.current = r.note = None
        return True

    def _ev_set_start(self, r: _Room, ev: Event) -> bool:
        if ev.session is None or ev.set is None:
            return False
        if r.session is None:
            r.session = ev.session  # joined mid-session without the store: child unknown
        if ev.session != r.session or (r.current is not None and r.current.id == ev.set):
            return False
        exercise, support = str(ev.data["exercise"]), str(ev.data["support"])
        catalog = self.exercise_profile(exercise)
        if catalog is None or support not in SUPPORT_POINTS:
            log.warning("engine: set %s refused (unknown exercise %r or support %r)",
                        ev.set, exercise, support)
            return False
        profile = rep_profile(catalog)
        if profile is None and catalog not in PROFILE_FOR_CATALOG:
            log.info("engine: exercise %s has profile %r, not one the engine counts: the "
                     "therapist counts its reps", exercise, catalog)
        r.current = _Set(ev.set, ev.session, exercise, str(ev.data["surface"]), support,
                         int(ev.data["planned_reps"]), ev.t, profile)
        return True

    def _ev_set_end(self, r: _Room, ev: Event) -> bool:
        if r.current is None or ev.set != r.current.id:
            return False
        r.current = None
        return True

    def _ev_rep(self, r: _Room, ev: Event) -> bool:
        s = r.current
        if s is None or (ev.set or s.id) != s.id or (ev.session or s.session) != s.session:
            return False
        if ev.set is None and ev.session is None:
            return False
        s.applied.append(ev)
        return s.apply(ev)

    def _ev_tag(self, r: _Room, ev: Event) -> bool:
        tag, text = ev.data.get("tag"), ev.data.get("text", "")
        visible = ev.data.get("family_visible", False)
        if (ev.session is None or ev.session != r.session or not isinstance(text, str)
                or not isinstance(visible, bool) or not isinstance(tag, str | None)):
            return False  # the store refuses these too
        if r.note is None or ev.t >= r.note.t:
            r.note = _note(ev.t, tag, text, visible)
        return True

    _ev_note = _ev_tag

    # ------------------------------------------------------------------ samples

    def _device_for(self, r: _Room, batch: SampleBatch, now: float) -> _Device | None:
        """The room's board or trunk IMU for this batch; None if another one is in use."""
        if batch.kind == "imu" and r.placements.get(batch.device, "trunk") != "trunk":
            return None
        slot = "board" if batch.kind == "board" else "imu"
        current: _Device | None = getattr(r, slot)
        fs = 1.0 / batch.period
        if current is not None and current.id == batch.device:
            if math.isclose(current.fs, fs, rel_tol=0.01):
                return current
        elif current is not None and self._fresh(r, current, now):
            return None
        device = _Device(batch.device, batch.kind, fs, batch.boot, batch.seq, now)
        try:
            if batch.kind == "board":
                device.sway = SlidingSway(fs=fs, window_s=SWAY_WINDOW_S)
            else:
                device.tilt = TrunkTilt(fs=fs)
        except (AnalysisError, ValueError) as exc:
            self._reject(batch.device, f"sample period {batch.period} s not usable: {exc}")
            return None
        setattr(r, slot, device)
        log.info("engine: room %s uses %s %s at %.0f Hz", r.name, slot, batch.device, fs)
        return device

    def _signals(self, device: _Device, batch: SampleBatch, skip: int) -> dict[str, np.ndarray]:
        wanted = BOARD_COLUMNS if device.kind == "board" else IMU_COLUMNS
        rows = np.asarray(batch.rows[skip:], dtype=np.float64)
        cols = rows[:, [batch.columns.index(c) for c in wanted]]
        t = np.asarray(batch.host_times()[skip:], dtype=np.float64)
        if device.sway is not None:
            ml, ap, _ = cop_from_loads(cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
            device.sway.push(ml, ap)
            return {"t": t, "cop_ml_cm": ml, "cop_ap_cm": ap}
        assert device.tilt is not None
        o = device.tilt.process(cols[:, :3], cols[:, 3:])
        device.last_tilt = Tilt(round(float(o.pitch_deg[-1]), 2), round(float(o.roll_deg[-1]), 2))
        return {"t": t, "pitch_deg": o.pitch_deg, "roll_deg": o.roll_deg,
                "vertical_acc_ms2": o.vertical_ms2}

    def _detect(self, r: _Room, device: _Device, signals: dict[str, np.ndarray]
                ) -> list[Outgoing]:
        s = r.current
        if s is None or s.profile is None or s.profile[1].signal not in signals:
            return []
        name, profile = s.profile
        if s.detector is None or s.detector_device != device.id:
            s.detector, s.detector_device = RepDetector(profile, fs=device.fs), device.id
        t = signals["t"]
        keep = t >= s.started
        reps = s.detector.push(t[keep], signals[profile.signal][keep])
        out = []
        for rep in reps:
            self.stats.reps_detected += 1
            key = hashlib.sha1(f"{s.id}|{rep.t:.3f}".encode()).hexdigest()[:32]
            event = Event(type="rep", t=rep.t, session=s.session, set=s.id, id=f"auto-{key}",
                          data={"delta": 1, "source": "auto", "profile": name,
                                "confidence": rep.confidence, "peak": round(rep.peak, 4)})
            log.debug("engine: room %s set %s auto rep at %.2f", r.name, s.id, rep.t)
            out.append(Outgoing(events_topic(self.site, r.name), event, 1, False))
        return out

    # ------------------------------------------------------------------ snapshots

    def _fresh(self, r: _Room, device: _Device | None, now: float) -> bool:
        return (device is not None and device.id not in r.offline
                and now - device.last_seen <= STALE_S)

    def _key(self, r: _Room, now: float) -> tuple[Any, ...]:
        s = r.current
        return (r.session, r.child, s and s.id, s and s.tally.count, r.note,
                self._fresh(r, r.board, now), self._fresh(r, r.imu, now))

    def _maybe_publish(self, r: _Room, now: float) -> list[Outgoing]:
        key = self._key(r, now)
        changed = key != r.shown
        due = r.fresh_samples and now >= r.next_due - 1e-6
        if not changed and not due:
            return []
        if due:  # a steady 10 Hz grid, so batches every 40 ms still give 10 snapshots/s
            late = now - r.next_due >= SNAPSHOT_PERIOD_S
            r.next_due = now + SNAPSHOT_PERIOD_S if late else r.next_due + SNAPSHOT_PERIOD_S
        r.shown, r.fresh_samples = key, False
        self.stats.snapshots += 1
        return [Outgoing(derived_topic(self.site, r.name), self._state(r, now),
                         1 if changed else 0, True)]

    def _state(self, r: _Room, now: float) -> RoomState:
        metrics = tilt = None
        if self._fresh(r, r.board, now) and r.board is not None and r.board.sway is not None:
            m = r.board.sway.metrics()
            if m is not None:
                metrics = SwaySnapshot.from_values(**m.as_dict())
        if self._fresh(r, r.imu, now) and r.imu is not None:
            tilt = r.imu.last_tilt
        s = r.current
        if s is None:
            return RoomState(r.name, now, r.session, r.child, metrics=metrics, tilt=tilt,
                             last_note=r.note)
        return RoomState(r.name, now, r.session, r.child, s.id, s.exercise, s.surface, s.support,
                         s.planned_reps, s.tally.count, s.started, s.profile is not None,
                         metrics, tilt, r.note)

    # ------------------------------------------------------------------ helpers

    def _room(self, name: str) -> _Room:
        room = self.rooms.get(name)
        if room is None:
            room = self.rooms[name] = _Room(name)
        return room

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)

    def _reject(self, device: str, reason: str) -> None:
        self.stats.rejected += 1
        first = (device, reason) not in self._warned
        self._warned.add((device, reason))
        log.log(logging.WARNING if first else logging.DEBUG, "engine: %s: %s", device, reason)

    def _restore_set(self, r: _Room, store: Any) -> None:
        """The session's open set and its standing reps from the store; rep events this
        engine counted that the store does not hold yet (the recorder is a moment behind)
        are counted again on top."""
        assert r.session is not None
        open_sets = [x for x in store.sets(r.session) if x.end is None]
        if not open_sets:
            r.current = None
            return
        row = open_sets[-1]
        if r.current is None or r.current.id != row.id:
            catalog = self.exercise_profile(row.exercise)
            r.current = _Set(row.id, r.session, row.exercise, row.surface, row.support,
                             row.planned_reps, row.start, rep_profile(catalog) if catalog else None)
        s = r.current
        s.tally = RepTally()
        known: set[str | None] = set()
        for rep in sorted(store.reps(row.id), key=lambda x: x.id):
            known.update((rep.event_id, rep.revoked_by))
            if rep.revoked_by is None:
                s.tally.add(rep.t, rep.source)
        s.applied = [ev for ev in s.applied if ev.id not in known]
        for ev in s.applied:
            s.apply(ev)
        for event_id in known - {None}:
            self._remember(str(event_id))
