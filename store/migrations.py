"""Versioned schema migrations: an ordered list of steps, applied in one transaction.

The ``schema_version`` table holds one row per applied step. :func:`migrate` runs on
every :func:`store.open_store`: it takes a lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL, so two processes opening the same store do not race),
reads the highest applied version, and runs the later steps in order. Both backends
have transactional DDL, so a failing step leaves the database exactly as it was.

A fresh database runs every step from 1, so the upgrade path is the path every store
takes. Step 1 builds the baseline from :mod:`store.tables`; later steps therefore find
their change already made on a fresh database and must skip it — the helpers
:func:`add_column`, :func:`create_index` and :func:`create_table` do. Adding version 2
is one function and one entry::

    def _v2_child_birth_year(conn: Connection) -> None:
        add_column(conn, "children", sa.Column("birth_year", sa.Integer, nullable=True))

    MIGRATIONS = (..., Migration(2, "children.birth_year", _v2_child_birth_year))

(plus the column in ``tables.py``). A change that cannot be written to skip itself
(a rename, a type change) should first freeze the v1 table definitions into a module
of their own and point step 1 at them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn

from store import legacy_tables, tables
from store.block_migration import convert_samples
from store.catalog import DEFAULT_EXERCISES
from store.db import Database
from store.errors import MigrationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    upgrade: Callable[[Connection], None]


# ----------------------------------------------------------------------------- helpers


def create_table(conn: Connection, table: sa.Table) -> None:
    table.create(conn, checkfirst=True)


def add_column(conn: Connection, table_name: str, column: sa.Column[object]) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless the column exists (a fresh store has it)."""
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table_name)}
    if column.name in existing:
        return
    spec = CreateColumn(column).compile(dialect=conn.dialect)
    name = conn.dialect.identifier_preparer.quote(table_name)
    conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {spec}")


def create_index(
    conn: Connection, name: str, table_name: str, *columns: str, unique: bool = False
) -> None:
    """``CREATE INDEX`` unless an index of that name exists on the table."""
    if name in {ix["name"] for ix in sa.inspect(conn).get_indexes(table_name)}:
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        f"CREATE {'UNIQUE ' if unique else ''}INDEX {quote(name)} ON {quote(table_name)} "
        f"({', '.join(quote(c) for c in columns)})"
    )


# ----------------------------------------------------------------------------- steps


def _v1_baseline(conn: Connection) -> None:
    tables.metadata.create_all(conn)
    legacy_tables.metadata.create_all(conn)  # the samples of schemas 1-4 (see migration 5)
    conn.execute(
        tables.exercises.insert(),
        [
            {
                "key": ex.key,
                "name": ex.name,
                "domain": ex.domain,
                "default_reps": ex.default_reps,
                "signal_profile": ex.signal_profile,
                "editable": ex.editable,
            }
            for ex in DEFAULT_EXERCISES
        ],
    )


def _v2_sample_spans(conn: Connection) -> None:
    """Time ranges through ``sample_spans`` (one row a batch) instead of an index entry per
    sample: spans for the samples already stored (per 1,024 consecutive seqs of a stream;
    any contiguous split is as exact), then the index goes."""
    if not sa.inspect(conn).has_table(legacy_tables.sample_spans.name):
        create_table(conn, legacy_tables.sample_spans)
        pad = legacy_tables.SPAN_PAD
        conn.exec_driver_sql(
            "INSERT INTO sample_spans (stream_id, seq0, seq1, t_min, t_max) "
            f"SELECT stream_id, min(seq), max(seq), min(t) - {pad!r}, max(t) + {pad!r} "
            "FROM samples GROUP BY stream_id, seq / 1024"
        )
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_samples_stream_id_t")


def _v3_sign_ins_and_wall_links(conn: Connection) -> None:
    """Server-side sign-ins (revocable sessions), the shared sign-in throttle and
    wall-screen (kiosk) links with an id, an expiry and a revocation time."""
    for table in (tables.sign_ins, tables.sign_in_throttle, tables.kiosk_links):
        create_table(conn, table)


def _v4_devices_per_room(conn: Connection) -> None:
    """A device is (site, room, device id), no longer a global name; gaps say where they
    were; the quarantine keeps the size of what it cut."""
    add_column(conn, "gaps", sa.Column("site", tables.Name, nullable=True))
    add_column(conn, "gaps", sa.Column("room", tables.Name, nullable=True))
    add_column(conn, "quarantine", sa.Column("size", sa.Integer, nullable=True))
    # until now a device id was one device: its gaps happened where it was set up
    conn.exec_driver_sql(
        "UPDATE gaps SET site = (SELECT s.key FROM devices d JOIN rooms r ON r.id = d.room_id "
        "JOIN sites s ON s.id = r.site_id WHERE d.name = gaps.device), "
        "room = (SELECT r.key FROM devices d JOIN rooms r ON r.id = d.room_id "
        "WHERE d.name = gaps.device) WHERE room IS NULL")
    uniques = {u["name"] for u in sa.inspect(conn).get_unique_constraints("devices")}
    if "uq_devices_room_id_name" in uniques:
        return  # a fresh store
    if conn.dialect.name != "sqlite":
        for name in uniques:
            conn.exec_driver_sql(f'ALTER TABLE devices DROP CONSTRAINT "{name}"')
        conn.exec_driver_sql(
            "ALTER TABLE devices ADD CONSTRAINT uq_devices_room_id_name UNIQUE (room_id, name)")
        create_index(conn, "ix_devices_name", "devices", "name")
        return
    # SQLite cannot drop a constraint: build the table anew. Dropping the old one would
    # break the foreign keys of streams (the only table referring to devices) and renaming
    # it would rewrite them, so streams step aside while the table is rebuilt.
    conn.exec_driver_sql("CREATE TEMP TABLE streams_v3 AS SELECT * FROM streams")
    conn.exec_driver_sql("DELETE FROM streams")
    meta = sa.MetaData()
    for table in (tables.sites, tables.rooms):
        table.to_metadata(meta)
    tables.devices_table(meta, "devices_new").create(conn)
    cols = "id, name, kind, room_id, placement, calibration"
    conn.exec_driver_sql(f"INSERT INTO devices_new ({cols}) SELECT {cols} FROM devices")
    conn.exec_driver_sql("DROP TABLE devices")
    conn.exec_driver_sql("ALTER TABLE devices_new RENAME TO devices")
    conn.exec_driver_sql("INSERT INTO streams SELECT * FROM streams_v3")
    conn.exec_driver_sql("DROP TABLE streams_v3")
    create_index(conn, "ix_devices_name", "devices", "name")


def _v5_sample_blocks(conn: Connection) -> None:
    """A batch a row, its columns packed (``sample_blocks``): the per-sample rows of
    ``samples`` are converted (:mod:`store.block_migration`), it and ``sample_spans`` go."""
    convert_samples(conn)


def _v6_rep_calibrations(conn: Connection) -> None:
    """What the rep counter learned per child and exercise, and the sensitivity step."""
    create_table(conn, tables.rep_calibrations)


def _v7_blocks(conn: Connection) -> None:
    """Intensive-block plans: the block, its planned exercises, goals, outcome scores."""
    for table in (tables.blocks, tables.block_exercises, tables.block_goals,
                  tables.block_outcomes):
        create_table(conn, table)


def _v8_derived_series(conn: Connection) -> None:
    """Signals derived once per session from a device's samples (the replay's tilt)."""
    create_table(conn, tables.derived_series)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: devices, samples, sessions, people, audit; DMI catalog", _v1_baseline),
    Migration(2, "sample_spans: time ranges by batch, no index on samples.t", _v2_sample_spans),
    Migration(3, "sign_ins, sign_in_throttle, kiosk_links", _v3_sign_ins_and_wall_links),
    Migration(4, "devices per room; gaps with their place; quarantine sizes",
              _v4_devices_per_room),
    Migration(5, "sample_blocks: a batch a row, columns packed; samples converted",
              _v5_sample_blocks),
    Migration(6, "rep_calibrations: the rep counter's calibration and sensitivity per child "
              "and exercise", _v6_rep_calibrations),
    Migration(7, "blocks: intensive-block plans, planned exercises, goals, outcome scores",
              _v7_blocks),
    Migration(8, "derived_series: signals worked out once per session (the replay's tilt)",
              _v8_derived_series),
)


# ----------------------------------------------------------------------------- runner


def current_version(conn: Connection) -> int:
    """The highest applied version, 0 for an empty database."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(tables.schema_version.name):
        ours = (set(tables.metadata.tables) | set(legacy_tables.metadata.tables)) & set(
            inspector.get_table_names())
        if ours:
            raise MigrationError(
                f"the database has tables {sorted(ours)} but no schema_version table; "
                "it was not created by DMI Live, refusing to change it"
            )
        return 0
    version = conn.execute(sa.select(sa.func.max(tables.schema_version.c.version))).scalar()
    return int(version or 0)


def migrate(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database to the last version in ``migrations``; return that version."""
    _check_sequence(migrations)
    target = len(migrations)
    with db.write() as conn:
        if not db.is_sqlite:
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext('dmi-live:' || current_schema()))")
            )
        version = current_version(conn)
        if version > target:
            raise MigrationError(
                f"the store at {db.describe()} has schema version {version}, newer than this "
                f"program knows ({target}); upgrade DMI Live"
            )
        if version == 0:
            create_table(conn, tables.schema_version)
        for step in migrations[version:]:
            log.info("store: applying migration %d (%s)", step.version, step.description)
            try:
                step.upgrade(conn)
            except sa.exc.SQLAlchemyError as exc:
                raise MigrationError(
                    f"migration {step.version} ({step.description}) failed: {exc}"
                ) from exc
            conn.execute(
                tables.schema_version.insert().values(
                    version=step.version, description=step.description[:200], applied=time.time()
                )
            )
    if version < target:
        log.info("store: schema at version %d (was %d)", target, version)
    return target


def _check_sequence(migrations: Sequence[Migration]) -> None:
    for i, step in enumerate(migrations, start=1):
        if step.version != i:
            raise MigrationError(
                f"migration list out of order: entry {i} has version {step.version}"
            )
