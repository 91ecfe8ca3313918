"""Opening a store: paths and URLs, SQLite settings, data surviving a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from store import open_store
from store.errors import InvalidData, StoreUnavailable
from tests.store.factories import batches


def test_data_survives_closing_and_reopening(store_url: str) -> None:
    with open_store(store_url) as store:
        store.insert_batches(batches(2))
        store.add_user("ana", "admin", "h")

    with open_store(store_url) as store:
        assert store.count_samples() == 50
        assert store.get_user("ana") is not None


@pytest.mark.parametrize("form", ["path", "str", "url"])
def test_a_path_or_sqlite_url_opens_the_same_file(tmp_path: Path, form: str) -> None:
    target = tmp_path / "nested" / "data" / "dmi.sqlite"  # folders are created
    arg: object = {"path": target, "str": str(target), "url": f"sqlite:///{target}"}[form]

    with open_store(arg) as store:  # type: ignore[arg-type]
        store.insert_batches(batches(1))
        assert store.dialect == "sqlite"

    with open_store(target) as store:
        assert store.count_samples() == 25


def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    """WAL: replay readers are never blocked by the recorder (and backups need -wal too)."""
    path = tmp_path / "dmi.sqlite"
    with open_store(path) as store:
        store.insert_batches(batches(1))
        other = sqlite3.connect(path)
        try:
            (mode,) = other.execute("PRAGMA journal_mode").fetchone()
        finally:
            other.close()
    assert mode == "wal"


def test_unsupported_urls_are_refused_with_a_clear_message() -> None:
    with pytest.raises(InvalidData, match="only sqlite and postgresql"):
        open_store("mysql://db/dmi")
    with pytest.raises(InvalidData, match="in-memory"):
        open_store("sqlite://")


def test_an_unreachable_postgres_is_a_clear_store_error() -> None:
    url = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"

    with pytest.raises(StoreUnavailable, match="cannot open the store") as info:
        open_store(url)

    assert "secret" not in str(info.value)
