from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import open_store, tables
from store.catalog import DEFAULT_EXERCISES
from store.db import create_engine, to_url
from store.errors import MigrationError
from store.migrations import MIGRATIONS, Migration, add_column, create_index, create_table
from tests.store.factories import Events, batches

NEXT = len(MIGRATIONS) + 1
"""The version of a test-only step after the real ones."""
ALL = list(range(1, NEXT))  # the versions of the real steps


def _v2_step(calls: list[int]) -> Migration:
    """A test-only next version: a new column (backfilled), a new table and an index."""

    def upgrade(conn: Connection) -> None:
        calls.append(NEXT)
        add_column(conn, "children", sa.Column("birth_year", sa.Integer, nullable=True))
        conn.exec_driver_sql("UPDATE children SET birth_year = 2019")
        notes = sa.Table(
            "clinic_notes",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("child_id", sa.String(64), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
        )
        create_table(conn, notes)
        create_index(conn, "ix_clinic_notes_child_id", "clinic_notes", "child_id")

    return Migration(NEXT, "test: children.birth_year, clinic_notes", upgrade)


def _inspect(url: str) -> tuple[dict[str, list[str]], list[tuple[int, str]]]:
    engine = create_engine(to_url(url))
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            columns = {
                t: [c["name"] for c in inspector.get_columns(t)]
                for t in inspector.get_table_names()
            }
            versions = conn.execute(
                sa.select(
                    tables.schema_version.c.version, tables.schema_version.c.description
                ).order_by(tables.schema_version.c.version)
            ).all()
        return columns, [tuple(v) for v in versions]  # type: ignore[misc]
    finally:
        engine.dispose()


def _fill(url: str) -> None:
    with open_store(url, migrations=MIGRATIONS[:1]) as store:
        assert store.schema_version == 1
        store.insert_batches(batches(4))
        ev = Events()
        store.add_child("c-3", "Kim")
        for e in (ev.start(child="c-3"), ev.set_start("a"), ev.rep("a"), ev.note("first day")):
            store.apply_event("site", "room-1", e)
        store.add_user("ana", "therapist", "h")


def test_an_older_store_upgrades_in_place_with_its_data_intact(store_url: str) -> None:
    _fill(store_url)
    calls: list[int] = []

    with open_store(store_url, migrations=(*MIGRATIONS, _v2_step(calls))) as store:
        assert store.schema_version == NEXT
        assert store.count_samples() == 100
        assert store.read_samples("board-1")["seq"].tolist() == list(range(100))
        assert store.rep_count("a") == 1
        assert [a.text for a in store.annotations("s-1")] == ["first day"]
        assert [(c.pseudonym, c.display_name) for c in store.children()] == [("c-3", "Kim")]
        assert store.get_user("ana") is not None
        store.add_child("c-4", "Lou")  # still writable

    columns, versions = _inspect(store_url)
    assert "birth_year" in columns["children"]
    assert columns["clinic_notes"] == ["id", "child_id", "text"]
    engine = create_engine(to_url(store_url))
    try:
        with engine.connect() as conn:
            indexes = [ix["name"] for ix in sa.inspect(conn).get_indexes("clinic_notes")]
    finally:
        engine.dispose()
    assert indexes == ["ix_clinic_notes_child_id"]
    assert [v for v, _ in versions] == [*ALL, NEXT]
    assert calls == [NEXT]

    # opening again at the same version runs nothing
    with open_store(store_url, migrations=(*MIGRATIONS, _v2_step(calls))) as store:
        assert store.schema_version == NEXT
    assert calls == [NEXT]


def test_backfill_in_a_step_reaches_existing_rows(store_url: str) -> None:
    _fill(store_url)
    with open_store(store_url, migrations=(*MIGRATIONS, _v2_step([]))):
        pass
    engine = create_engine(to_url(store_url))
    try:
        with engine.connect() as conn:
            years = conn.exec_driver_sql("SELECT id, birth_year FROM children").all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in years] == [("c-3", 2019)]


def test_a_fresh_store_runs_every_step(store_url: str) -> None:
    calls: list[int] = []
    with open_store(store_url, migrations=(*MIGRATIONS, _v2_step(calls))) as store:
        assert store.schema_version == NEXT
    assert calls == [NEXT]


def test_step_helpers_skip_a_change_step_1_already_made(store_url: str) -> None:
    """A fresh store gets tables.py's current shape from step 1; later steps must not fail."""

    def already_there(conn: Connection) -> None:
        add_column(conn, "children", sa.Column("display_name", sa.String(200)))
        create_index(conn, "ix_audit_t", "audit", "t")
        create_table(conn, tables.gaps)

    step = Migration(NEXT, "already applied by the baseline", already_there)
    with open_store(store_url, migrations=(*MIGRATIONS, step)) as store:
        assert store.schema_version == NEXT
        store.add_child("c-1", "Alma")
        assert store.children()[0].display_name == "Alma"


def test_a_store_from_a_newer_program_is_refused_untouched(store_url: str) -> None:
    _fill(store_url)
    with open_store(store_url, migrations=(*MIGRATIONS, _v2_step([]))):
        pass

    with pytest.raises(MigrationError, match=f"schema version {NEXT}, newer"):
        open_store(store_url)

    _, versions = _inspect(store_url)
    assert [v for v, _ in versions] == [*ALL, NEXT]


def test_a_failing_step_leaves_the_store_as_it_was(store_url: str) -> None:
    _fill(store_url)

    def broken(conn: Connection) -> None:
        add_column(conn, "children", sa.Column("half_done", sa.Integer, nullable=True))
        conn.exec_driver_sql("UPDATE no_such_table SET x = 1")

    with pytest.raises(MigrationError, match=f"migration {NEXT} .*failed"):
        open_store(store_url, migrations=(*MIGRATIONS, Migration(NEXT, "broken", broken)))

    columns, versions = _inspect(store_url)
    assert "half_done" not in columns["children"]  # the DDL was rolled back too
    assert [v for v, _ in versions] == [1]
    with open_store(store_url) as store:
        assert store.count_samples() == 100


def test_a_migration_list_out_of_order_is_refused(store_url: str) -> None:
    with pytest.raises(MigrationError, match="out of order"):
        open_store(store_url, migrations=(*MIGRATIONS, Migration(NEXT + 1, "skips one",
                                                                 lambda c: None)))


def test_a_database_with_foreign_tables_of_our_names_is_refused(store_url: str) -> None:
    engine = create_engine(to_url(store_url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE samples (x INTEGER)")
    finally:
        engine.dispose()

    with pytest.raises(MigrationError, match="not created by DMI Live"):
        open_store(store_url)


def test_a_fresh_store_has_exactly_the_tables_of_tables_py(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.schema_version == len(MIGRATIONS)

    columns, versions = _inspect(store_url)

    expected = {t.name: [c.name for c in t.columns] for t in tables.metadata.sorted_tables}
    assert columns == expected
    assert [v for v, _ in versions] == list(range(1, len(MIGRATIONS) + 1))


def test_two_processes_opening_a_new_store_at_once_both_succeed(store_url: str) -> None:
    opened: list[int] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with open_store(store_url) as store:
                opened.append(store.schema_version)
                opened.append(len(store.exercises()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(opened) == sorted([len(MIGRATIONS), len(DEFAULT_EXERCISES)] * 3)
    _, versions = _inspect(store_url)
    assert [v for v, _ in versions] == list(range(1, len(MIGRATIONS) + 1))
