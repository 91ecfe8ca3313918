"""The session engine: the one place that decides each room's live state and rep count.

Per room it follows the active session and set from the events topic, counts reps
(automatic ones from one :class:`~analysis.repcount.RepCounter` per running set, manual
+1/−1 from the therapist) by exactly the store's rule, keeps 10 s sliding sway metrics of
the room's board and the trunk tilt of its IMU, and publishes a
:class:`~contract.derived.RoomState` snapshot on the room's derived topic. The wall, the
remote and the family view read the count from that snapshot, so they never disagree.

One path for every rep: a rep the counter finds is published as an ``Event(type="rep",
data={"delta": 1, "source": "auto", "confidence": …})`` on the room's events topic and
counted when it comes back from the broker, like a therapist's +1. The recorder stores it
through the normal path, and the engine sees rep events in the order the broker delivers
them to the recorder, so its count and :meth:`store.Store.rep_count` agree (see
:class:`RepTally`). An auto rep's event id is derived from its set and time, so two
engines watching the same room (or one re-reading the same samples) cannot count a rep
twice. When the set stops, the counter's :meth:`~analysis.repcount.RepCounter.finish`
may add a last rep whose return was cut off — unless the therapist corrected the set:
then their count stands.

The counter of a set is made with the settings the engine's ``rep_setup`` gives for the
session's child and the exercise (sensitivity step, learned calibration). A set whose
count the therapist corrected is handed, when it ends (and again at each correction of
its final count before the next set ends), to ``on_labelled`` as a
:class:`~record.engine_parts.Labelled` (its samples and its final count), from which
:mod:`record.engine_learn` calibrates the counter for the next set.

:class:`SessionEngine` is pure — ``on_batch``, ``on_event``, ``on_status`` and ``tick``
return the :class:`Outgoing` messages to publish; its event side is
:mod:`record.engine_events`, its sample side :mod:`record.engine_samples`. An input it
cannot apply (an event for another session, a batch of unusable samples) is counted and
reported with its reason, never raised — and :class:`EngineService` wires it to
MQTT with one thread owning the client, and reloads the active sessions, sets and counts
from the store when it starts and after every reconnect (it keeps no broker session:
what happened while it was away is in the store).

Exercise catalog profile → what counts its reps (:data:`PROFILE_FOR_CATALOG`): the trunk
IMU (all six axes: the counter finds the movement's direction and tempo itself) for
``vertical-transfer`` and ``step``; the board's COP (both axes) for ``ml-shift``,
``ap-shift`` and ``reach``; the therapist alone for ``static-hold`` (no reps) and
``perturbation`` (reactions are elicited, not repeated).
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from analysis.errors import AnalysisError
from contract import (
    DeviceStatus,
    Event,
    RoomState,
    SampleBatch,
    SchemaError,
    SwaySnapshot,
    derived_topic,
    events_topic,
)
from ingest.ratelog import RateLimitedLog
from record.engine_events import Lookups, apply_event, new_set
from record.engine_parts import (
    _SEEN_IDS,
    BOARD_COLUMNS,
    IMU_COLUMNS,
    MAX_SESSION_AGE_S,
    PROFILE_FOR_CATALOG,
    SNAPSHOT_PERIOD_S,
    EngineStats,
    ExerciseLookup,
    Labelled,
    Outgoing,
    RepTally,
    SetupLookup,
    _Device,
    _ended,
    _note,
    _Room,
    _Set,
    default_setup,
    rep_source,
)
from record.engine_samples import Unusable, detect, device_for, finish, forget, fresh, signals

__all__ = ["PROFILE_FOR_CATALOG", "Labelled", "Outgoing", "RepTally", "SessionEngine",
           "rep_source"]

Rejects = Callable[[str, str], None]
"""``(where, reason)`` for each input the engine cannot apply."""

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
    on_reject : callable, optional
        Called ``(where, reason)`` for every batch or event the engine cannot apply (also
        counted in :attr:`stats`); without it the engine logs them, rate-limited.
    rep_setup : callable, optional
        (child, exercise) → the rep counter's settings (defaults without it).
    on_labelled : callable, optional
        Called with each finished set whose count the therapist corrected.
    """

    def __init__(self, site: str, *, exercise_profile: ExerciseLookup,
                 clock: Callable[[], float] = time.time,
                 on_reject: Rejects | None = None,
                 rep_setup: SetupLookup = default_setup,
                 on_labelled: Callable[[Labelled], None] | None = None) -> None:
        self.site = site
        self.exercise_profile = exercise_profile
        self.lookups = Lookups(exercise_profile, rep_setup)
        self.on_labelled = on_labelled
        self.clock = clock
        self.on_reject = on_reject
        self.stats = EngineStats()
        self.rooms: dict[str, _Room] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._log = RateLimitedLog(log, every_s=60.0, burst=5)

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
        running = r.current
        refused = apply_event(r, event, self.lookups)
        if refused is not None:
            self.stats.ignored_events += 1
            self._refuse(f"room {room} event {event.id} ({event.type})", refused)
        out: list[Outgoing] = []
        if running is not None and r.current is not running:
            out += self._closed(r, running)
        elif (refused is None and event.type == "rep" and event.data["source"] == "manual"
              and r.closing is not None and event.set == r.closing.id):
            self._teach(r.closing)  # the finished set's count corrected afterwards
        return out + self._maybe_publish(r, self.clock() if now is None else now)

    def _closed(self, r: _Room, s: _Set) -> list[Outgoing]:
        """A set stopped: publish its counter's last reps; hand a corrected set on. It
        stays the room's closing set (its samples too) until the next one stops, so a
        correction of its final count teaches as well."""
        r.closing = s
        reps = finish(s)
        self.stats.reps_detected += len(reps)
        self._teach(s)
        return [Outgoing(events_topic(self.site, r.name), e, 1, False) for e in reps]

    def _teach(self, s: _Set) -> None:
        label = s.labelled()
        if label is None or self.on_labelled is None:
            return
        try:
            self.on_labelled(label)
        except Exception:  # learning is a bonus: the session goes on
            self._log.error("engine: learning failed", "engine: set %s not learned from",
                            s.id, exc_info=True)

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
        try:
            device = device_for(r, batch, now)
        except Unusable as exc:
            self._reject(batch.device, str(exc))
            return []
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
            reps = detect(r, device, signals(device, batch, max(skip, 0)))
        except (AnalysisError, ValueError, ArithmeticError) as exc:
            self._reject(batch.device, f"samples not usable: {exc}")
            forget(r, device)  # its filters may hold the bad values
        else:
            self.stats.reps_detected += len(reps)
            out += [Outgoing(events_topic(self.site, r.name), e, 1, False) for e in reps]
        r.fresh_samples = True
        return out + self._maybe_publish(r, now)

    def tick(self, now: float | None = None) -> list[Outgoing]:
        """Publish due snapshots (pending metrics, devices gone stale)."""
        now = self.clock() if now is None else now
        out: list[Outgoing] = []
        for r in list(self.rooms.values()):
            try:
                out += self._maybe_publish(r, now)
            except (SchemaError, ValueError, ArithmeticError):  # one room never stops the rest
                self._log.error("engine: snapshot failed", "engine: snapshot of room %s "
                                "failed", r.name, exc_info=True)
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
        return self.tick(now)

    # ------------------------------------------------------------------ snapshots

    def _key(self, r: _Room, now: float) -> tuple[Any, ...]:
        s = r.current
        return (r.session, r.child, s and s.id, s and s.tally.count, r.note,
                fresh(r, r.board, now), fresh(r, r.imu, now))

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
        if fresh(r, r.board, now) and r.board is not None and r.board.sway is not None:
            metrics = self._metrics(r.board)
        if fresh(r, r.imu, now) and r.imu is not None:
            tilt = r.imu.last_tilt
        s = r.current
        if s is None:
            return RoomState(r.name, now, r.session, r.child, metrics=metrics, tilt=tilt,
                             last_note=r.note)
        return RoomState(r.name, now, r.session, r.child, s.id, s.exercise, s.surface, s.support,
                         s.planned_reps, s.tally.count, s.started, s.source is not None,
                         metrics, tilt, r.note)

    def _metrics(self, board: _Device) -> SwaySnapshot | None:
        """The board's sway metrics now; None while there are none (or none that are numbers)."""
        assert board.sway is not None
        try:
            m = board.sway.metrics()
            return None if m is None else SwaySnapshot.from_values(**m.as_dict())
        except (AnalysisError, SchemaError, ArithmeticError) as exc:
            self._log.warning("engine: no sway metrics", "engine: no sway metrics for %s: %s",
                              board.id, exc)
            return None

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
        """A batch the engine cannot use."""
        self.stats.rejected += 1
        self._refuse(f"device {device}", reason)

    def _refuse(self, where: str, reason: str) -> None:
        if self.on_reject is not None:
            self.on_reject(where, reason)
        else:
            self._log.warning("engine: input refused", "engine: %s: %s", where, reason)

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
            r.current = new_set(r, row.id, r.session, row.exercise, row.surface, row.support,
                                row.planned_reps, row.start,
                                rep_source(catalog) if catalog else None, self.lookups)
            r.current.complete = False  # its first samples went by before this engine
        s = r.current
        s.tally = RepTally()
        known: set[str | None] = set()
        for rep in sorted(store.reps(row.id), key=lambda x: x.id):
            known.update((rep.event_id, rep.revoked_by))
            s.corrected = s.corrected or rep.source == "manual" or rep.revoked_by is not None
            if rep.revoked_by is None:
                s.tally.add(rep.t, rep.source)
        s.applied = [ev for ev in s.applied if ev.id not in known]
        for ev in s.applied:
            s.apply(ev)
        for event_id in known - {None}:
            self._remember(str(event_id))
