"""The :class:`Store` facade: one object per process, safe to share between threads."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import Any

import pandas as pd

from contract import Event, SampleBatch
from store import devices as _devices
from store import events as _events
from store import history as _history
from store import kiosk_links as _kiosk
from store import people as _people
from store import plans as _plans
from store import repcal as _repcal
from store import sessions as _sessions
from store import signins as _signins
from store.db import Database, create_engine, to_url
from store.history import HistorySession
from store.migrations import MIGRATIONS, Migration, migrate
from store.plans import BlockRow, Goal, OutcomeRow, PlannedExercise
from store.rows import (
    AnnotationRow,
    AuditRow,
    ChildRow,
    DeviceRow,
    DeviceState,
    ExerciseRow,
    FamilyLinkRow,
    GapRow,
    InsertResult,
    KioskLinkRow,
    QuarantineRow,
    RepCalibrationRow,
    RepRow,
    SessionRow,
    SetRow,
    SignInRow,
    ThrottleRow,
    UserRow,
)
from store.samples import Place, SampleStore

log = logging.getLogger(__name__)


def open_store(
    url: str | os.PathLike[str], *, migrations: Sequence[Migration] = MIGRATIONS
) -> Store:
    """Open (creating if needed) the store at ``url`` and migrate it to the current schema.

    ``url``: a file path or ``sqlite:///path`` (SQLite, WAL) or ``postgresql+psycopg://…``.
    ``migrations`` is for tests that need an older or newer schema.
    """
    db = Database(create_engine(to_url(url)))
    try:
        version = migrate(db, migrations)
    except BaseException:
        db.close()
        raise
    log.info("store: opened %s (schema version %d)", db.describe(), version)
    return Store(db, version)


class Store:
    """Every read and write of DMI Live data. Methods are thread-safe; each is one transaction.

    Example::

        store = open_store("data/dmi-live.sqlite")
        store.insert_batches(batches)           # InsertResult(inserted=…, duplicates=…)
        frame = store.read_samples("board-1", t0, t1)
    """

    def __init__(self, db: Database, version: int) -> None:
        self._db = db
        self.schema_version = version
        self._samples = SampleStore(db)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.dialect

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """Where the store is (its URL, no password)."""
        return self._db.describe()

    def __repr__(self) -> str:
        return f"Store({self._db.describe()!r})"

    # ------------------------------------------------------------------------- samples

    def transaction(self) -> AbstractContextManager[object]:
        """Group writes: every store write of this thread inside ``with store.transaction():``
        commits together at its end, or none does (each write a savepoint within it)."""
        return self._db.write()

    def ping(self) -> None:
        """Raise :class:`store.errors.StoreUnavailable` (or the driver's error) unless a
        write transaction can be opened now."""
        with self._db.write() as conn:
            conn.exec_driver_sql("SELECT 1")

    def insert_batches(
        self, batches: Sequence[SampleBatch], places: Sequence[Place | None] | None = None
    ) -> InsertResult:
        """Insert in one transaction; rows already stored (device, boot, seq) are skipped.
        ``places[i]``: the (site, room) of batch ``i`` (a device is per room)."""
        return self._samples.insert_batches(batches, places)

    def count_samples(self, device: str | None = None, place: Place | None = None) -> int:
        return self._samples.count_samples(device, place)

    def read_samples(
        self, device: str, t0: float | None = None, t1: float | None = None, *,
        place: Place | None = None,
    ) -> pd.DataFrame:
        """Samples with host time in ``[t0, t1)``: t, t_dev, boot, seq + device columns."""
        return self._samples.read_samples(device, t0, t1, place)

    # ------------------------------------------------------------------------- devices

    def devices(self) -> list[DeviceRow]:
        return _devices.devices(self._db)

    def upsert_device(
        self,
        site: str,
        room: str,
        device: str,
        kind: str,
        placement: str = "",
        calibration: dict[str, Any] | None = None,
    ) -> DeviceRow:
        """Set a device's room, kind and placement; ``calibration=None`` keeps the stored one."""
        return _devices.upsert_device(self._db, site, room, device, kind, placement, calibration)

    def add_gap(self, device: str, boot: str, t_from: float, t_to: float, reason: str,
                place: Place | None = None) -> GapRow:
        return _devices.add_gap(self._db, device, boot, t_from, t_to, reason, place)

    def gaps(
        self, device: str | None = None, t0: float | None = None, t1: float | None = None,
        *, place: Place | None = None,
    ) -> list[GapRow]:
        """Gaps overlapping ``[t0, t1)``, oldest first; of one room with ``place``."""
        return _devices.gaps(self._db, device, t0, t1, place)

    def quarantine(self, topic: str, payload: bytes, reason: str) -> int:
        """Keep a rejected message (its first ``tables.QUARANTINE_PAYLOAD`` bytes) with the
        reason; beyond ``tables.QUARANTINE_ROWS`` rejects the oldest go."""
        return _devices.quarantine(self._db, topic, payload, reason)

    def quarantined(self, limit: int = 100) -> list[QuarantineRow]:
        """Newest first."""
        return _devices.quarantined(self._db, limit)

    def quarantine_size(self) -> tuple[int, int]:
        """(rejects kept, bytes of payload kept)."""
        return _devices.quarantine_size(self._db)

    def device_status(self) -> list[DeviceState]:
        """Per device: its place, last stored sample time, gaps (for ``dmi-live status``)."""
        return _devices.device_status(self._db)

    # ------------------------------------------------------------------------- sessions

    def apply_event(self, site: str, room: str, event: Event) -> bool:
        """Apply a session event; False if this event id was applied before (no change)."""
        return _events.apply_event(self._db, site, room, event)

    def sessions(
        self,
        child: str | None = None,
        room: str | None = None,
        therapist: str | None = None,
        since: float | None = None,
        until: float | None = None,
        site: str | None = None,
    ) -> list[SessionRow]:
        """Sessions started in ``[since, until)``, newest first."""
        return _sessions.sessions(self._db, child, room, therapist, since, until, site)

    def session(self, session_id: str) -> SessionRow:
        return _sessions.session(self._db, session_id)

    def sets(self, session_id: str) -> list[SetRow]:
        return _sessions.sets(self._db, session_id)

    def reps(self, set_id: str | None = None, *, session_id: str | None = None) -> list[RepRow]:
        """All reps (revoked too) of a set or a session, in time order."""
        return _sessions.reps(self._db, set_id, session_id=session_id)

    def rep_count(self, set_id: str) -> int:
        """Reps that stand: not revoked by a −1 correction."""
        return _sessions.rep_count(self._db, set_id)

    def annotations(self, session_id: str, *, family_only: bool = False) -> list[AnnotationRow]:
        return _sessions.session_annotations(self._db, session_id, family_only=family_only)

    # ------------------------------------------------------------------------- rep counter

    def rep_calibration(self, child: str, exercise: str) -> RepCalibrationRow | None:
        """The rep counter's settings for ``child`` doing ``exercise`` (None: defaults)."""
        return _repcal.calibration(self._db, child, exercise)

    def rep_calibrations(self, child: str | None = None) -> list[RepCalibrationRow]:
        return _repcal.calibrations(self._db, child)

    def save_rep_calibration(self, child: str, exercise: str,
                             calibration: str | None) -> RepCalibrationRow:
        """Keep what the counter learned (JSON text; None forgets it); the sensitivity stays."""
        return _repcal.save_calibration(self._db, child, exercise, calibration)

    def set_rep_sensitivity(self, child: str, exercise: str,
                            sensitivity: str) -> RepCalibrationRow:
        """``fewer``, ``normal`` or ``more``; what was learned stays."""
        return _repcal.set_sensitivity(self._db, child, exercise, sensitivity)

    # ------------------------------------------------------------------------- people

    def children(self) -> list[ChildRow]:
        return _people.children(self._db)

    def add_child(self, pseudonym: str, display_name: str) -> ChildRow:
        """Register a child or change its display name."""
        return _people.add_child(self._db, pseudonym, display_name)

    def exercises(self) -> list[ExerciseRow]:
        return _people.exercises(self._db)

    def upsert_exercise(
        self, key: str, name: str, domain: str, default_reps: int, signal_profile: str
    ) -> ExerciseRow:
        return _people.upsert_exercise(self._db, key, name, domain, default_reps, signal_profile)

    def add_user(self, username: str, role: str, password_hash: str) -> UserRow:
        return _people.add_user(self._db, username, role, password_hash)

    def get_user(self, username: str) -> UserRow | None:
        return _people.get_user(self._db, username)

    def users(self) -> list[UserRow]:
        return _people.users(self._db)

    def set_user_disabled(self, username: str, disabled: bool) -> UserRow:
        return _people.set_user_disabled(self._db, username, disabled)

    def set_password_hash(self, username: str, password_hash: str, *,
                          sign_out: bool = True) -> UserRow:
        """A new password ends every sign-in of the account unless ``sign_out=False``
        (the same password hashed anew)."""
        return _people.set_password_hash(self._db, username, password_hash, sign_out=sign_out)

    def set_user_role(self, username: str, role: str) -> UserRow:
        return _people.set_user_role(self._db, username, role)

    def add_family_link(
        self, child: str, token_hash: str, expires: float, created_by: str
    ) -> FamilyLinkRow:
        return _people.add_family_link(self._db, child, token_hash, expires, created_by)

    def family_link_by_hash(self, token_hash: str) -> FamilyLinkRow | None:
        return _people.family_link_by_hash(self._db, token_hash)

    def family_links(self, child: str | None = None) -> list[FamilyLinkRow]:
        return _people.family_links(self._db, child)

    def revoke_family_link(self, link_id: int) -> FamilyLinkRow:
        return _people.revoke_family_link(self._db, link_id)

    def audit(self, who: str, action: str, child: str | None = None, detail: str = "") -> int:
        return _people.audit(self._db, who, action, child, detail)

    def audit_log(self, limit: int = 100, child: str | None = None) -> list[AuditRow]:
        """Newest first."""
        return _people.audit_log(self._db, limit, child)

    # ------------------------------------------------------------------------- sign-ins

    def start_sign_in(self, username: str, sign_in_id: str, address: str = "") -> SignInRow:
        """Record a staff sign-in; ``sign_in_id`` is the hash of the cookie's token."""
        return _signins.start_sign_in(self._db, username, sign_in_id, address)

    def get_sign_in(self, sign_in_id: str) -> SignInRow | None:
        return _signins.get_sign_in(self._db, sign_in_id)

    def sign_ins(self, username: str | None = None) -> list[SignInRow]:
        """Newest first."""
        return _signins.sign_ins(self._db, username)

    def touch_sign_in(self, sign_in_id: str) -> None:
        _signins.touch_sign_in(self._db, sign_in_id)

    def revoke_sign_in(self, sign_in_id: str) -> bool:
        return _signins.revoke_sign_in(self._db, sign_in_id)

    def revoke_sign_ins(self, username: str) -> int:
        """End every sign-in of ``username`` (a new password or disabling does it too)."""
        return _signins.revoke_sign_ins(self._db, username)

    def throttle_rows(self, keys: Sequence[str]) -> list[ThrottleRow]:
        return _signins.throttle_rows(self._db, keys)

    def throttle_failed(self, key: str, *, now: float, forget_after: float,
                        delay: Callable[[int], float]) -> ThrottleRow:
        """Count a failed sign-in under ``key`` and block it for ``delay(failures)`` s."""
        return _signins.throttle_failed(self._db, key, now=now, forget_after=forget_after,
                                        delay=delay)

    def throttle_forget(self, before: float) -> int:
        """Delete throttle counts whose last failure is older than ``before``."""
        return _signins.throttle_forget(self._db, before)

    def throttle_clear(self, key: str) -> None:
        _signins.throttle_clear(self._db, key)

    # ------------------------------------------------------------------------- wall links

    def add_kiosk_link(self, link_id: str, room: str, expires: float,
                       created_by: str) -> KioskLinkRow:
        return _kiosk.add_kiosk_link(self._db, link_id, room, expires, created_by)

    def kiosk_link(self, link_id: str) -> KioskLinkRow | None:
        return _kiosk.kiosk_link(self._db, link_id)

    def kiosk_links(self, room: str | None = None) -> list[KioskLinkRow]:
        """Newest first."""
        return _kiosk.kiosk_links(self._db, room)

    def revoke_kiosk_link(self, link_id: str) -> KioskLinkRow:
        return _kiosk.revoke_kiosk_link(self._db, link_id)

    # ------------------------------------------------------------------------- blocks

    def save_block(self, child: str, start: date, end: date, sessions_per_day: int, *,
                   session_minutes: int = 45, weekdays: Sequence[int] = (1, 2, 3, 4, 5),
                   exercises: Sequence[PlannedExercise] = (), goals: Sequence[Goal] = (),
                   created_by: str, block_id: int | None = None) -> BlockRow:
        """Create a child's block plan, or replace block ``block_id``'s plan (its planned
        exercises and goals as given; a goal at the same position keeps its GAS levels)."""
        return _plans.save_block(self._db, child, start, end, sessions_per_day,
                                  session_minutes=session_minutes, weekdays=weekdays,
                                  exercises=exercises, goals=goals, created_by=created_by,
                                  block_id=block_id)

    def block(self, block_id: int) -> BlockRow:
        return _plans.block(self._db, block_id)

    def blocks(self, child: str) -> list[BlockRow]:
        """Latest start first."""
        return _plans.blocks(self._db, child)

    def current_block(self, child: str, day: date) -> BlockRow | None:
        """The block running on ``day``, else the latest started before, else the next."""
        return _plans.current_block(self._db, child, day)

    def set_goal_level(self, goal_id: int, stage: str, level: int | None) -> None:
        """A goal's GAS level (−2 … +2) at ``start``, ``middle`` or ``end``."""
        _plans.set_goal_level(self._db, goal_id, stage, level)

    def add_outcome(self, block_id: int, measure: str, score: float, taken: date,
                    entered_by: str) -> OutcomeRow:
        """A GMFM-66 or PBS score taken by hand on ``taken``."""
        return _plans.add_outcome(self._db, block_id, measure, score, taken, entered_by)

    def child_history(self, child: str, since: float | None = None,
                      until: float | None = None) -> list[HistorySession]:
        """Sessions with sets and standing rep times, oldest first (three queries)."""
        return _history.child_history(self._db, child, since, until)
