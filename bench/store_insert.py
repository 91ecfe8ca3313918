"""Store insert and replay-read throughput on SQLite and PostgreSQL.

A recorder-like load: a balance board (4 columns) and two IMUs (9 columns) at 100 Hz,
batches of 25 rows, 40 batches per ``insert_batches`` call (one transaction each). Also
times redelivery of the same batches (all duplicates) and one full ``read_samples``.

    .venv/bin/python bench/store_insert.py                 # both backends
    .venv/bin/python bench/store_insert.py --calls 200 --no-postgres

PostgreSQL runs in a throw-away schema of the database at ``--postgres-url`` (default
``DMI_BENCH_POSTGRES_URL`` or postgresql+psycopg://postgres@127.0.0.1:5432/test).
The last line is ``key=value`` pairs (samples per second).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contract import Kind, SampleBatch  # noqa: E402
from store import open_store  # noqa: E402

ROWS = 25
PER_CALL = 40
DEVICES: tuple[tuple[str, Kind, tuple[str, ...]], ...] = (
    ("board-1", "board", ("fl", "fr", "bl", "br")),
    ("imu-trunk", "imu", ("ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz")),
    ("imu-pelvis", "imu", ("ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz")),
)


def make_calls(calls: int) -> list[list[SampleBatch]]:
    """``calls`` lists of ``PER_CALL`` batches, round-robin over the devices."""
    out: list[list[SampleBatch]] = []
    seq = dict.fromkeys((d for d, _, _ in DEVICES), 0)
    t0 = 1.7e9
    k = 0
    for _ in range(calls):
        call = []
        for _ in range(PER_CALL):
            device, kind, cols = DEVICES[k % len(DEVICES)]
            k += 1
            s = seq[device]
            rows = tuple(
                tuple(round(10 + math.sin((s + i) * 0.05 + j), 4) for j in range(len(cols)))
                for i in range(ROWS)
            )
            call.append(
                SampleBatch(device, kind, "boot-1", s, s * 0.01, 0.01, t0 + s * 0.01, cols, rows)
            )
            seq[device] = s + ROWS
        out.append(call)
    return out


def run(url: str, calls: list[list[SampleBatch]]) -> dict[str, float]:
    total = sum(len(b.rows) for call in calls for b in call)
    store = open_store(url)
    try:
        start = time.perf_counter()
        for call in calls:
            store.insert_batches(call)
        insert_s = time.perf_counter() - start
        start = time.perf_counter()
        duplicates = sum(store.insert_batches(call).duplicates for call in calls)
        dup_s = time.perf_counter() - start
        assert duplicates == total, (duplicates, total)
        start = time.perf_counter()
        rows = sum(len(store.read_samples(device)) for device, _, _ in DEVICES)
        read_s = time.perf_counter() - start
        assert rows == total, (rows, total)
    finally:
        store.close()
    return {"insert": total / insert_s, "redeliver": total / dup_s, "read": total / read_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="insert_batches calls (100)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "DMI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    calls = make_calls(args.calls)
    total = sum(len(b.rows) for call in calls for b in call)
    print(f"{total} samples: {args.calls} calls x {PER_CALL} batches x {ROWS} rows")
    results: dict[str, float] = {}

    with tempfile.TemporaryDirectory() as tmp:
        r = run(str(Path(tmp) / "bench.sqlite"), calls)
    print(
        f"sqlite:     insert {r['insert']:>10,.0f}/s  redeliver {r['redeliver']:>10,.0f}/s  "
        f"read {r['read']:>10,.0f}/s"
    )
    results.update({f"sqlite_{k}_per_s": v for k, v in r.items()})

    pg = None if args.no_postgres else run_postgres(args.postgres_url, calls)
    if pg:
        print(
            f"postgresql: insert {pg['insert']:>10,.0f}/s  redeliver {pg['redeliver']:>10,.0f}/s"
            f"  read {pg['read']:>10,.0f}/s"
        )
        results.update({f"postgres_{k}_per_s": v for k, v in pg.items()})

    print(" ".join(f"{k}={v:.0f}" for k, v in results.items()))
    return 0


def run_postgres(url: str, calls: list[list[SampleBatch]]) -> dict[str, float] | None:
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        print(f"postgresql: skipped, cannot connect ({exc.orig})")
        return None
    try:
        sep = "&" if "?" in url else "?"
        return run(f"{url}{sep}options=-csearch_path%3D{schema}", calls)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
