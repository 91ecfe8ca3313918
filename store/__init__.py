"""DMI Live storage: the only package that writes SQL.

SQLAlchemy Core over SQLite (WAL; the default, one file under the data folder) or
PostgreSQL (a ``postgresql+psycopg://`` URL). :func:`open_store` migrates the schema in
place (:mod:`store.migrations`) and returns a thread-safe :class:`Store`; every method
is one transaction and returns frozen dataclasses from :mod:`store.rows`. Errors are
the :class:`store.errors.StoreError` tree.
"""

from store.errors import StoreError
from store.rows import InsertResult
from store.store import Store, open_store

__all__ = ["InsertResult", "Store", "StoreError", "open_store"]
