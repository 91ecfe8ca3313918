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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt

from analysis.cop import cop_from_loads
from analysis.errors import AnalysisError
from analysis.imu import TrunkTilt
from analysis.reps import DEFAULT_PROFILES, RepDetector, RepProfile
from analysis.stream import SlidingSway
from ingest.derived import Note, RoomState, SwaySnapshot, Tilt
from ingest.mqtt import BrokerAddress, connect, make_client, reason_failed, safe_callback
from ingest.schema import (
    MAX_TEXT,
    DeviceStatus,
    Event,
    SampleBatch,
    SchemaError,
    decode_batch,
    decode_event,
    decode_status,
    derived_topic,
    events_topic,
    parse_topic,
    subscription,
)
from store.errors import NotFound
from store.rows import SUPPORT_POINTS

log = logging.getLogger(__name__)

PROFILES: dict[str, RepProfile] = {
    **DEFAULT_PROFILES,
    "ap_shift": replace(DEFAULT_PROFILES["weight_shift"], signal="cop_ap_cm"),
}
PROFILE_FOR_CATALOG: dict[str, str | None] = {
    "vertical-transfer": "squat",
    "ml-shift": "weight_shift",
    "ap-shift": "ap_shift",
    "reach": "reach",
    "step": "step",
    "static-hold": None,
    "perturbation": None,
}
BOARD_COLUMNS = ("fl", "fr", "bl", "br")
IMU_COLUMNS = ("ax", "ay", "az", "gx", "gy", "gz")
SWAY_WINDOW_S = 10.0
SNAPSHOT_PERIOD_S = 0.1
STALE_S = 2.0
MAX_SESSION_AGE_S = 12 * 3600.0
_SEEN_IDS = 20_000

ExerciseLookup = Callable[[str], "str | None"]
"""Exercise key → its catalog ``signal_profile``; None when the exercise is unknown."""


def rep_profile(signal_profile: str) -> tuple[str, RepProfile] | None:
    """The analysis profile (name, profile) for a catalog profile, None for no auto count."""
    name = PROFILE_FOR_CATALOG.get(signal_profile, signal_profile)
    if name is None or name not in PROFILES:
        return None
    return name, PROFILES[name]


@dataclass(frozen=True)
class Outgoing:
    """A message for the engine's owner to publish."""

    topic: str
    message: Event | RoomState
    qos: int
    retain: bool

    @property
    def payload(self) -> bytes:
        return self.message.encode()


@dataclass
class EngineStats:
    batches: int = 0
    duplicates: int = 0
    events: int = 0
    ignored_events: int = 0
    rejected: int = 0
    reps_detected: int = 0
    snapshots: int = 0


class RepTally:
    """The reps of one set that stand, by the store's rule (:mod:`store.events`).

    +1 adds a rep; a manual −1 revokes the latest standing rep whatever its source; an
    automatic −1 revokes only the latest automatic one; "latest" is by rep time, then
    by arrival. A −1 with nothing to revoke changes nothing.
    """

    def __init__(self) -> None:
        self._standing: list[tuple[float, int, str]] = []
        self._order = 0

    @property
    def count(self) -> int:
        return len(self._standing)

    def add(self, t: float, source: str) -> None:
        self._order += 1
        self._standing.append((t, self._order, source))

    def revoke(self, source: str) -> bool:
        candidates = [r for r in self._standing if source == "manual" or r[2] == "auto"]
        if not candidates:
            return False
        self._standing.remove(max(candidates))
        return True


@dataclass
class _Device:
    id: str
    kind: str
    fs: float
    boot: str
    next_seq: int
    last_seen: float
    sway: SlidingSway | None = None
    tilt: TrunkTilt | None = None
    last_tilt: Tilt | None = None


@dataclass
class _Set:
    id: str
    session: str
    exercise: str
    surface: str
    support: str
    planned_reps: int
    started: float
    profile: tuple[str, RepProfile] | None
    tally: RepTally = field(default_factory=RepTally)
    applied: list[Event] = field(default_factory=list)  # rep events counted live
    detector: RepDetector | None = None
    detector_device: str = ""

    def apply(self, ev: Event) -> bool:
        if ev.data["delta"] == 1:
            self.tally.add(ev.t, str(ev.data["source"]))
            return True
        return self.tally.revoke(str(ev.data["source"]))


@dataclass
class _Room:
    name: str
    session: str | None = None
    child: str | None = None
    current: _Set | None = None
    note: Note | None = None
    board: _Device | None = None
    imu: _Device | None = None
    placements: dict[str, str] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    shown: tuple[Any, ...] | None = None
    next_due: float = -math.inf
    fresh_samples: bool = False


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

def _ended(store: Any, session: str) -> bool:
    """True when the store holds ``session`` as ended; False while it does not know it
    yet (the recorder commits a moment after the engine hears an event)."""
    try:
        return store.session(session).end is not None
    except NotFound:
        return False


def _note(t: float, tag: str | None, text: str, visible: bool) -> Note:
    """The snapshot's form of a tag or note (a tag that is no valid id is left out)."""
    try:
        return Note(t, tag, text[:MAX_TEXT], visible)
    except SchemaError:
        return Note(t, None, text[:MAX_TEXT], visible)


# ----------------------------------------------------------------------------- MQTT


class CatalogLookup:
    """Exercise key → ``signal_profile`` from the store's catalog, re-read on a miss.

    A clinic may add an exercise while the engine runs; a key still unknown is looked up
    again at most every ``retry_s`` seconds.
    """

    def __init__(self, store: Any, *, retry_s: float = 30.0) -> None:
        self.store = store
        self.retry_s = retry_s
        self._profiles: dict[str, str] = {}
        self._loaded = -math.inf

    def __call__(self, exercise: str) -> str | None:
        if exercise not in self._profiles and time.monotonic() - self._loaded >= self.retry_s:
            self._profiles = {e.key: e.signal_profile for e in self.store.exercises()}
            self._loaded = time.monotonic()
        return self._profiles.get(exercise)


@dataclass
class ServiceStats:
    messages: int = 0
    rejected: int = 0
    published: int = 0
    restores: int = 0
    connects: int = 0


class EngineService:
    """The session engine on MQTT: one thread owns the client, runs the engine, publishes.

    Subscribes (its own, non-shared, non-persistent subscription) to the samples, events
    and device statuses of ``site``; publishes auto reps on the events topics and
    snapshots (retained) on the derived topics. After every (re)connect it reloads the
    rooms from ``store`` (:meth:`SessionEngine.restore`) before handling messages.

    ``address`` needs an account that may read ``dmi/v1/#`` and write events and derived
    (the recorder's, in the generated ACL).
    """

    def __init__(self, address: BrokerAddress, store: Any, *, site: str,
                 client_id: str | None = None, engine: SessionEngine | None = None) -> None:
        self.address = address
        self.store = store
        self.site = site
        self.engine = engine or SessionEngine(site, exercise_profile=CatalogLookup(store))
        self.stats = ServiceStats()
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._sub_mid: int | None = None
        self._restore_due = -1.0  # monotonic time of the next restore attempt; <0: none
        self._backoff = 0.2
        self.client = make_client(address, client_id=client_id or f"dmi-engine-{site}")
        self.client.on_connect = safe_callback(self._on_connect)
        self.client.on_disconnect = safe_callback(self._on_disconnect)
        self.client.on_subscribe = safe_callback(self._on_subscribe)
        self.client.on_message = safe_callback(self._on_message)
        self._thread = threading.Thread(target=self._run, name="engine-mqtt", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def wait_ready(self, timeout: float) -> bool:
        """True once subscribed and restored from the store."""
        return self.ready.wait(timeout)

    # ------------------------------------------------------------------ engine thread

    def _run(self) -> None:
        next_try = 0.0
        started = False
        while not self._stop.is_set():
            try:
                if self.client.socket() is None and time.monotonic() >= next_try:
                    try:
                        if started:
                            self.client.reconnect()
                        else:
                            connect(self.client, self.address)
                            started = True
                    except OSError as exc:
                        log.warning("engine: broker %s:%s not reachable (%s); retrying",
                                    self.address.host, self.address.port, exc)
                        next_try = time.monotonic() + self._backoff
                        self._backoff = min(self._backoff * 2, 5.0)
                if self.client.socket() is None:
                    self._stop.wait(0.05)
                    continue
                self.client.loop(timeout=0.02)
                if 0 <= self._restore_due <= time.monotonic():
                    self._restore()
                self._publish(self.engine.tick())
            except Exception:  # the loop must survive anything
                log.exception("engine: loop step failed")
                self._stop.wait(0.1)
        self.client.disconnect()
        for _ in range(20):
            if self.client.loop(timeout=0.01) != mqtt.MQTT_ERR_SUCCESS:
                break

    def _restore(self) -> None:
        try:
            out = self.engine.restore(self.store)
        except Exception:
            log.exception("engine: cannot reload the rooms from the store; retrying in 2 s")
            self._restore_due = time.monotonic() + 2.0
            return
        self._restore_due = -1.0
        self.stats.restores += 1
        self._publish(out)
        self.ready.set()

    def _publish(self, out: list[Outgoing]) -> None:
        for item in out:
            self.client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
            self.stats.published += 1

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason_failed(reason):
            log.error("engine: broker refused connection: %s", reason)
            return
        self._backoff = 0.2
        self.stats.connects += 1
        leaves = ("samples", "events", "status")
        _, self._sub_mid = client.subscribe([(subscription(self.site, "+", x), 1) for x in leaves])
        log.info("engine connected to %s:%s for site %s", self.address.host, self.address.port,
                 self.site)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      props: Any) -> None:
        if mid == self._sub_mid:  # from now on nothing new is missed: reload, then go on
            self._restore()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        self.ready.clear()
        if not self._stop.is_set():
            log.warning("engine disconnected (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.stats.messages += 1
        try:
            topic = parse_topic(msg.topic)
            if topic.leaf == "samples":
                batch = decode_batch(bytes(msg.payload))
                if batch.device != topic.device:
                    raise SchemaError("device", f"{batch.device!r} does not match the topic")
                out = self.engine.on_batch(topic.room, batch)
            elif topic.leaf == "events":
                out = self.engine.on_event(topic.room, decode_event(bytes(msg.payload)))
            elif topic.leaf == "status" and msg.payload:
                out = self.engine.on_status(topic.room, decode_status(bytes(msg.payload)))
            else:
                return
        except SchemaError as exc:
            self.stats.rejected += 1
            log.warning("engine: rejected message on %s: %s", msg.topic, exc)
            return
        self._publish(out)
