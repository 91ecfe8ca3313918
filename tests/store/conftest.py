"""Fixtures: every store test runs on SQLite (a temp file) and on PostgreSQL.

PostgreSQL: 127.0.0.1:5432, database ``test`` (user postgres, else root), or the URL in
``DMI_TEST_POSTGRES_URL``. Each test gets a fresh schema (through ``search_path``),
dropped afterwards. If the server is unreachable the postgres tests are skipped — except
when ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from store import Store, open_store

_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, sa.Engine]]:
    """A reachable PostgreSQL URL and an engine on it for creating and dropping schemas."""
    configured = os.environ.get("DMI_TEST_POSTGRES_URL")
    errors = []
    for url in (configured,) if configured else _CANDIDATES:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            engine.dispose()
            errors.append(f"{url}: {str(exc.orig).strip()}")
            continue
        yield url, engine
        engine.dispose()
        return
    reason = "PostgreSQL unreachable — " + "; ".join(errors)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the postgres store tests must run)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL for a store that does not exist yet (a new file, or a new empty schema)."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("store") / "dmi-live.sqlite")
        return
    url, admin = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _with_search_path(url, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
