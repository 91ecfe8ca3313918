"""One recorder writing while replay pages read; two recorders racing on redeliveries."""

from __future__ import annotations

import threading

from store import Store, open_store
from tests.store.factories import batch, imu_batch

CALLS = 15
PER_CALL = 8  # batches of 25 rows: every committed call adds 200 rows


def _calls() -> list[list]:  # type: ignore[type-arg]
    out = []
    for c in range(CALLS):
        out.append([batch((c * PER_CALL + i) * 25) for i in range(PER_CALL)])
    return out


def test_readers_never_see_half_a_call_while_one_writer_inserts(store: Store) -> None:
    calls = _calls()
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []

    def write() -> None:
        try:
            for call in calls:
                store.insert_batches(call)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                frame = store.read_samples("board-1") if store.devices() else None
                n = 0 if frame is None else len(frame)
                seen.append(n)
                if frame is not None:
                    assert frame["seq"].tolist() == list(range(n))
                store.count_samples()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert store.count_samples() == CALLS * PER_CALL * 25
    assert all(n % (PER_CALL * 25) == 0 for n in seen)  # whole transactions only


def test_two_recorders_inserting_the_same_batches_store_each_sample_once(store_url: str) -> None:
    work = [imu_batch(i * 25) for i in range(40)] + [batch(i * 25) for i in range(40)]
    stores = [open_store(store_url), open_store(store_url)]  # like two processes
    results = []
    errors: list[BaseException] = []

    def record(store: Store, order: int) -> None:
        try:
            todo = work if order == 0 else work[::-1]
            for i in range(0, len(todo), 10):
                results.append(store.insert_batches(todo[i : i + 10]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(s, i)) for i, s in enumerate(stores)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert sum(r.inserted for r in results) == 2000
        assert sum(r.duplicates for r in results) == 2000
        assert stores[0].count_samples() == 2000
        assert stores[1].read_samples("imu-trunk")["seq"].tolist() == list(range(1000))
        assert len(stores[0].devices()) == 2
    finally:
        for s in stores:
            s.close()


def test_two_recorders_storing_re_cut_batches_store_each_sample_once(store_url: str) -> None:
    """One writer has batches of 25, the other the same rows cut into batches of 40: the
    blocks they store overlap in seq, never in what is stored."""
    of_25 = [batch(i * 25) for i in range(40)]
    of_40 = [batch(i * 40, 40, latency=0.2) for i in range(25)][::-1]
    stores = [open_store(store_url), open_store(store_url)]
    stores[0].upsert_device("s", "room-1", "board-1", "board")
    results = []
    errors: list[BaseException] = []

    def record(store: Store, work: list) -> None:  # type: ignore[type-arg]
        try:
            for i in range(0, len(work), 5):
                results.append(store.insert_batches(work[i : i + 5], [("s", "room-1")] * 5))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(s, w))
               for s, w in zip(stores, (of_25, of_40), strict=True)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert sum(r.inserted for r in results) == 1000
        assert sum(r.duplicates for r in results) == 1000
        assert sorted(stores[0].read_samples("board-1")["seq"]) == list(range(1000))
    finally:
        for s in stores:
            s.close()
