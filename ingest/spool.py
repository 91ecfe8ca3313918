"""On-disk outbox (SQLite): a batch is kept until the broker has acknowledged it.

Every message to publish is written here first; the forwarder publishes from the spool
and deletes a row only when its PUBACK arrives. After a crash or restart the remaining
rows are published again (the recorder drops the duplicates by device, boot and
sequence), so nothing acknowledged by the ingest is ever lost.

The spool is bounded (``max_messages``). Past ``warn_fraction`` of it, ``alarm`` turns
on (the forwarder reports it in each device's status and the log) long before anything
is refused; only a full spool refuses new batches, and it counts them in ``refused``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)


class Spooled(NamedTuple):
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Spool:
    def __init__(
        self, path: Path | str, *, max_messages: int = 500_000, warn_fraction: float = 0.8
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL,"
            " retain INTEGER NOT NULL)"
        )
        self._lock = threading.Lock()
        self.max_messages = max_messages
        self.warn_level = int(max_messages * warn_fraction)
        self.refused = 0
        (self._count,) = self._db.execute("SELECT count(*) FROM outbox").fetchone()
        if self._count:
            log.info("spool %s holds %d unacknowledged messages; they will be re-sent",
                     self.path, self._count)

    def __len__(self) -> int:
        return self._count

    @property
    def alarm(self) -> bool:
        return self._count >= self.warn_level

    def put_many(self, items: Sequence[tuple[str, bytes, int, bool]]) -> int:
        """Store messages in one transaction; returns how many were accepted."""
        with self._lock:
            room = self.max_messages - self._count
            accepted = list(items[: max(room, 0)])
            if len(accepted) < len(items):
                self.refused += len(items) - len(accepted)
                log.error("spool full (%d messages): refused %d batches",
                          self.max_messages, len(items) - len(accepted))
            if accepted:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO outbox (topic, payload, qos, retain) VALUES (?, ?, ?, ?)",
                    [(t, p, q, int(r)) for t, p, q, r in accepted],
                )
                self._db.execute("COMMIT")
                was_alarm = self.alarm
                self._count += len(accepted)
                if self.alarm and not was_alarm:
                    log.warning("spool %s is %d%% full (%d messages): broker unreachable?",
                                self.path, 100 * self._count // self.max_messages, self._count)
            return len(accepted)

    def pending(self, *, after: int, limit: int) -> list[Spooled]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain FROM outbox WHERE id > ?"
                " ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Spooled(i, t, bytes(p), q, bool(r)) for i, t, p, q, r in rows]

    def ack(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
            self._count -= cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
