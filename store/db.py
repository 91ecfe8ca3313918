"""Engine set-up for SQLite (WAL) and PostgreSQL, and the read/write transaction helpers.

SQLite: Python's ``sqlite3`` driver does not emit ``BEGIN`` before SELECT or DDL (its
legacy transaction control), so we switch that off and emit ``BEGIN`` ourselves — plain
``BEGIN`` for readers, ``BEGIN IMMEDIATE`` for writers, which takes the write lock up
front instead of failing with "database is locked" when a read transaction upgrades.
Writers in one process also queue on a lock, so they wait in Python rather than in
SQLite's busy handler; writers in other processes wait up to ``busy_timeout``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url

from store.errors import InvalidData, StoreUnavailable

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
_BEGIN = "dmi_begin"


def to_url(url: str | os.PathLike[str]) -> URL:
    """A path, ``sqlite:///file`` or ``postgresql[+psycopg]://…`` as a SQLAlchemy URL."""
    if isinstance(url, os.PathLike) or "://" not in url:
        path = Path(url).expanduser().resolve()
        return URL.create("sqlite+pysqlite", database=str(path))
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidData(f"store URL {url!r} is not a valid database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise InvalidData("in-memory SQLite is not supported: give the store a file path")
        return parsed.set(drivername="sqlite+pysqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise InvalidData(f"store URL {url!r}: only sqlite and postgresql databases are supported")


def create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


MMAP_BYTES = 256 * 1024 * 1024
"""How much of a SQLite file its connections memory-map (address space, not memory)."""


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN (see module docstring)
    cursor = dbapi_connection.cursor()
    try:
        _journal_mode_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # reads of whole sessions (replay, export) map the file instead of copying each
        # page through read(): about a fifth off reading a device's blocks
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    finally:
        cursor.close()


def _journal_mode_wal(cursor: Any) -> None:
    """Switch to WAL, retrying while another connection holds the lock it needs.

    SQLite answers "database is locked" to this pragma at once, without waiting in the
    busy handler, while another connection creates, converts or closes the database
    (the last one out checkpoints and removes the WAL): processes opening a new store
    at the same moment, the demo's recorder and dashboard say, must try again.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.002
    while True:
        try:
            (mode,) = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
    if str(mode).lower() != "wal":
        log.warning("store: SQLite kept journal mode %r (WAL unsupported here?)", mode)


def _sqlite_begin(conn: Connection) -> None:
    kind = conn.get_execution_options().get(_BEGIN, "")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if kind == "immediate" else "BEGIN")


@dataclass
class _Open:
    conn: Connection
    committed: list[Callable[[], None]] = field(default_factory=list)


class Database:
    """An engine plus the two ways the store uses it: read and write transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self.is_sqlite = self.dialect == "sqlite"
        self._writer = engine.execution_options(**{_BEGIN: "immediate"})
        self._write_lock = threading.Lock()
        self._open = threading.local()  # this thread's outer write transaction, if any

    @property
    def mark(self) -> str:
        """The driver's parameter placeholder in raw SQL."""
        return "?" if self.is_sqlite else "%s"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction that commits on success and rolls back on any error.

        Nested in another ``write()`` of the same thread, it is a savepoint of the outer
        transaction: an error rolls back this part alone, and nothing is committed before
        the outer transaction is (see :meth:`after_commit`).
        """
        outer: _Open | None = getattr(self._open, "tx", None)
        if outer is not None:
            with outer.conn.begin_nested():
                yield outer.conn
            return
        lock: AbstractContextManager[Any] = self._write_lock if self.is_sqlite else nullcontext()
        with lock, self._connect(self._writer) as conn:
            tx = self._open.tx = _Open(conn)
            try:
                with conn.begin():
                    yield conn
            finally:
                self._open.tx = None
            for callback in tx.committed:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this thread's write transaction has committed (at once
        outside one); never if it rolls back. For caches of ids the transaction made."""
        tx: _Open | None = getattr(self._open, "tx", None)
        if tx is None:
            callback()
        else:
            tx.committed.append(callback)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (a consistent snapshot on both backends)."""
        with self._connect(self.engine) as conn, conn.begin():
            yield conn

    @contextmanager
    def _connect(self, engine: Engine) -> Iterator[Connection]:
        try:
            conn = engine.connect()
        except sa.exc.OperationalError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreUnavailable(f"cannot open the store at {where}: {exc.orig}") from exc
        with conn:
            yield conn

    def insert(self, table: sa.Table) -> Any:
        """A dialect INSERT that supports ``on_conflict_do_nothing``."""
        if self.is_sqlite:
            return sqlite.insert(table)
        return postgresql.insert(table)

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
