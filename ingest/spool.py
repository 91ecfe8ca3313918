"""On-disk outbox (SQLite): a batch is kept until the broker has acknowledged it, and a
little longer.

Every message to publish is written here first; the forwarder publishes from the spool
and marks a row acknowledged when its PUBACK arrives. After a crash or restart the rows
not yet acknowledged are published again (the recorder drops the duplicates by device,
boot and sequence), so nothing the ingest took is ever lost.

Acknowledged rows stay ``keep_acked_s`` seconds more: Mosquitto writes its queue to disk
only every few seconds, so a broker killed right after acknowledging could lose what it
had not yet delivered. After every reconnect the forwarder re-arms those recent rows
(:meth:`Spool.rearm_recent`) and sends them again; duplicates cost nothing.

The spool is bounded (``max_messages`` not yet acknowledged). Past ``warn_fraction`` of
it, ``alarm`` turns on (the forwarder reports it in every device's status and the log)
long before anything is refused; only a full spool refuses new batches, and it counts
them in ``refused``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

LOG_EVERY_S = 10.0


class Spooled(NamedTuple):
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Spool:
    def __init__(
        self, path: Path | str, *, max_messages: int = 500_000, warn_fraction: float = 0.8,
        keep_acked_s: float = 30.0,
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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "acked_at" not in columns:  # spools written before acknowledged rows were kept
            self._db.execute("ALTER TABLE outbox ADD COLUMN acked_at REAL")
        self._db.execute("CREATE INDEX IF NOT EXISTS outbox_acked ON outbox (acked_at)")
        self._lock = threading.Lock()
        self.max_messages = max_messages
        self.warn_level = int(max_messages * warn_fraction)
        self.keep_acked_s = keep_acked_s
        self.refused = 0
        self._last_refusal_log = -LOG_EVERY_S
        self._last_purge = time.monotonic()
        (self._count,) = self._db.execute(
            "SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()
        if self._count:
            log.info("spool %s holds %d unacknowledged messages; they will be re-sent",
                     self.path, self._count)

    def __len__(self) -> int:
        """Messages not yet acknowledged by the broker."""
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
                now = time.monotonic()
                if now - self._last_refusal_log >= LOG_EVERY_S:
                    self._last_refusal_log = now
                    log.error("spool full (%d messages): %d batches refused so far",
                              self.max_messages, self.refused)
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
        """Unacknowledged messages with ids above ``after``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, qos, retain FROM outbox"
                " WHERE id > ? AND acked_at IS NULL ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        return [Spooled(i, t, bytes(p), q, bool(r)) for i, t, p, q, r in rows]

    def ack(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.executemany(
                "UPDATE outbox SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
                [(now, i) for i in ids])
            if time.monotonic() - self._last_purge >= 1.0:
                self._db.execute("DELETE FROM outbox WHERE acked_at < ?",
                                 (now - self.keep_acked_s,))
                self._last_purge = time.monotonic()
            self._db.execute("COMMIT")
            self._count -= cur.rowcount

    def rearm_recent(self) -> int:
        """Mark messages acknowledged in the last ``keep_acked_s`` seconds for sending again
        (after a reconnect: the broker may have lost them); returns how many."""
        with self._lock:
            self._db.execute("BEGIN")
            cur = self._db.execute(
                "UPDATE outbox SET acked_at = NULL WHERE acked_at >= ?",
                (time.time() - self.keep_acked_s,))
            self._db.execute("COMMIT")
            self._count += cur.rowcount
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
