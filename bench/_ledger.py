"""What a good stream sent, against what the store holds: the books of the fault and fuzz
benchmarks (``bench/faults.py``, ``bench/fuzz_recorder.py``).

- :class:`Ledger`: every (device, boot, seq) a stream sent, with the phase of the run it
  was sent in; filled from sample batches (a tap on the ingest's ``submit``, or a
  publisher's own batches) or by :class:`SpoolWatch` from an ingest's spool file.
- :func:`compare`: per phase, the samples sent but not stored (lost), stored more than
  once (duplicates), and rows stored under the same device and boot that were never sent
  (foreign: another publisher wrote into the stream).
- :class:`LogCounter`: a :class:`logging.Handler` counting records by level and logger.
- :func:`wait_until`, :func:`wait_until_persisted`: polling helpers.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from contract import SampleBatch, SchemaError, decode_batch, parse_topic

Place = tuple[str, str]
Key = tuple[str, str]  # (device, boot)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, *,
               every: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` s pass (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def wait_until_persisted(broker_folder: Path, since: float, timeout: float = 20.0) -> bool:
    """Mosquitto writes its sessions to disk every few seconds (autosave): wait for one
    save after ``since`` (epoch seconds), so a SIGKILL finds the recorder's session there,
    as it would in a clinic where the recorder subscribed long before."""
    db = broker_folder / "persist" / "mosquitto.db"
    return wait_until(lambda: db.exists() and db.stat().st_mtime > since + 0.5, timeout,
                      every=0.2)


# ----------------------------------------------------------------------------- ledger


@dataclass
class Ledger:
    """(device, boot) → {seq: phase}; thread-safe."""

    sent: dict[Key, dict[int, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, batch: SampleBatch, phase: str) -> None:
        with self._lock:
            seqs = self.sent.setdefault((batch.device, batch.boot), {})
            for seq in range(batch.seq, batch.seq + len(batch.rows)):
                seqs.setdefault(seq, phase)

    def samples(self, device: str | None = None) -> int:
        with self._lock:
            return sum(len(s) for (d, _), s in self.sent.items() if device in (None, d))

    def devices(self) -> list[str]:
        with self._lock:
            return sorted({d for d, _ in self.sent})

    def boots(self, device: str) -> set[str]:
        with self._lock:
            return {b for d, b in self.sent if d == device}

    def snapshot(self) -> dict[Key, dict[int, str]]:
        with self._lock:
            return {k: dict(v) for k, v in self.sent.items()}


class SubmitTap:
    """Wraps an ingest's ``submit``: every sample batch handed to the forwarder goes into
    ``ledger`` under the current ``phase``."""

    def __init__(self, submit: Callable[[Any], None], ledger: Ledger) -> None:
        self.submit, self.ledger, self.phase = submit, ledger, "start"

    def __call__(self, item: Any) -> None:
        if isinstance(item, SampleBatch):
            self.ledger.add(item, self.phase)
        self.submit(item)


class SpoolWatch(threading.Thread):
    """Reads an ingest's spool file (another process's, read-only) every ``every`` s and
    puts each new batch in ``ledger`` under the current ``phase``.

    The spool keeps acknowledged rows 30 s (:class:`ingest.spool.Spool`), so polling well
    within that sees every batch the ingest spooled, sent or not; its ids only grow
    (AUTOINCREMENT), across restarts of the ingest too.
    """

    def __init__(self, path: Path, ledger: Ledger, *, every: float = 0.5) -> None:
        super().__init__(name="spool-watch", daemon=True)
        self.path, self.ledger, self.every = path, ledger, every
        self.phase = "start"
        self.last_id = 0
        self.unreadable = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            self.poll()

    def poll(self) -> int:
        """Read new rows now; returns how many (0 while the file is not there)."""
        if not self.path.exists():
            return 0
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return 0
        try:
            rows = db.execute("SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id",
                              (self.last_id,)).fetchall()
        except sqlite3.Error:  # not created yet, or busy: next time
            return 0
        finally:
            db.close()
        for row_id, topic, payload in rows:
            self.last_id = row_id
            try:
                if parse_topic(topic).leaf == "samples":
                    self.ledger.add(decode_batch(bytes(payload)), self.phase)
            except SchemaError:
                self.unreadable += 1
        return len(rows)

    def unacknowledged(self) -> int:
        """Rows the ingest has not had acknowledged (still to publish)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            return int(db.execute(
                "SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()[0])

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.poll()


# ----------------------------------------------------------------------------- compare


@dataclass
class Books:
    """The comparison of a ledger with the store, per phase (see :func:`compare`)."""

    sent: collections.Counter[str] = field(default_factory=collections.Counter)
    lost: collections.Counter[str] = field(default_factory=collections.Counter)
    duplicates: collections.Counter[str] = field(default_factory=collections.Counter)
    foreign: int = 0  # rows in a sent (device, boot) with a seq that was never sent
    examples: list[str] = field(default_factory=list)

    @property
    def total_lost(self) -> int:
        return sum(self.lost.values())

    @property
    def total_duplicates(self) -> int:
        return sum(self.duplicates.values())


def stored_rows(store: Any, device: str, place: Place, t0: float | None = None
                ) -> pd.DataFrame:
    """``device``'s samples in ``place`` (boot, seq, t); empty when it has none yet."""
    from store.errors import UnknownDevice

    try:
        return store.read_samples(device, t0, place=place)[["t", "boot", "seq"]]
    except UnknownDevice:
        return pd.DataFrame({"t": [], "boot": [], "seq": []})


def compare(ledger: Ledger, store: Any, place: Place,
            devices: Iterable[str] | None = None) -> Books:
    """What ``ledger`` sent against what ``store`` holds for those devices in ``place``."""
    books = Books()
    sent = ledger.snapshot()
    for device in sorted(set(devices or ledger.devices())):
        frame = stored_rows(store, device, place)
        counts = collections.Counter(zip(frame["boot"].astype(str),
                                         frame["seq"].astype("int64"), strict=True))
        for (dev, boot), seqs in sent.items():
            if dev != device:
                continue
            for seq, phase in seqs.items():
                books.sent[phase] += 1
                n = counts.get((boot, seq), 0)
                if n == 0:
                    books.lost[phase] += 1
                    if len(books.examples) < 10:
                        books.examples.append(f"lost {device}/{boot}/{seq} ({phase})")
                elif n > 1:
                    books.duplicates[phase] += n - 1
        boots = {b for d, b in sent if d == device}
        books.foreign += sum(n for (boot, seq), n in counts.items()
                             if boot in boots and seq not in sent[(device, boot)])
    return books


# ----------------------------------------------------------------------------- logging


class LogCounter(logging.Handler):
    """Counts every record it sees, by level and by logger; keeps the ERROR ones."""

    def __init__(self, level: int = logging.DEBUG) -> None:
        super().__init__(level)
        self.total = 0
        self.by_level: collections.Counter[str] = collections.Counter()
        self.by_logger: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.total += 1
        self.by_level[record.levelname] += 1
        self.by_logger[record.name] += 1
        if record.levelno >= logging.ERROR and len(self.errors) < 1000:
            with contextlib.suppress(Exception):
                self.errors.append(f"{record.name}: {record.getMessage()[:300]}"
                                   + (" [traceback]" if record.exc_info else ""))
