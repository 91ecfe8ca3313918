"""Migration 7 on a store from before it, on SQLite and PostgreSQL (no other fixture may
open the store first: it would be at the newest schema already)."""

from __future__ import annotations

from datetime import date

from store import open_store
from store.plans import Goal, PlannedExercise

PLAN = (PlannedExercise("sit-balance-ball", 3, 1, "none"),)
GOALS = (Goal("sits unsupported for 60 s", gas_start=-2),)


def test_a_store_of_schema_4_upgrades_to_block_plans(store_url: str) -> None:
    """Migration 7 adds the block tables to a store that has none (the baseline of a new
    store already has them; an older store's baseline did not)."""
    from store.db import create_engine, to_url
    from store.migrations import MIGRATIONS

    with open_store(store_url, migrations=MIGRATIONS[:4]) as old:
        old.add_child("c-1", "Amara")
    engine = create_engine(to_url(store_url))
    with engine.begin() as conn:
        for table in ("block_outcomes", "block_goals", "block_exercises", "blocks"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    with open_store(store_url) as upgraded:
        assert upgraded.schema_version == len(MIGRATIONS)
        block = upgraded.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2,
                                    created_by="sue", exercises=PLAN, goals=GOALS)
        assert upgraded.blocks("c-1") == [block]
