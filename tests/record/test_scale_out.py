"""Scale-out: several recorders in one shared-subscription group split the load, and
every sample is still stored exactly once with nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract import SampleBatch, samples_topic
from ingest.mqtt import connect, make_client
from record.recorder import Recorder
from store import Store, open_store
from tests.conftest import RunningBroker, wait_until

pytestmark = pytest.mark.broker

ROWS = 25
DEVICES = ("board-1", "board-2", "board-3")
PER_DEVICE = 80


def make_batch(device: str, seq: int) -> SampleBatch:
    rows = tuple((float(seq + i), 2.0, 3.0, 4.0) for i in range(ROWS))
    return SampleBatch(device, "board", "b1", seq, seq * 0.01, 0.01, 1_700_000_000 + seq * 0.01,
                       ("fl", "fr", "bl", "br"), rows)



@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[Store]]:
    """One database, opened separately by each recorder (as separate processes would)."""
    opened = [open_store(tmp_path / "db.sqlite") for _ in range(3)]
    yield opened
    for store in opened:
        store.close()


def run_group(broker: RunningBroker, site: str, stores: list[Store]) -> list[Recorder]:
    """Two recorders in group ``g`` (on stores 0 and 1) record every device's batches."""
    recorders = [
        Recorder(broker.address("recorder"), store, client_id=f"rec{i}-{site}", site=site,
                 group="g")
        for i, store in enumerate(stores[:2])
    ]
    for recorder in recorders:
        recorder.start()
    pub = make_client(broker.address("ingest"), client_id=f"pub-{site}")
    connect(pub, broker.address("ingest"))
    pub.loop_start()
    try:
        assert all(r.wait_connected(5) for r in recorders)
        time.sleep(0.3)  # both subscriptions acknowledged
        batches = [make_batch(d, k * ROWS) for k in range(PER_DEVICE) for d in DEVICES]
        infos = [pub.publish(samples_topic(site, "room-1", b.device), b.encode(), qos=1)
                 for b in batches]
        for info in infos:
            info.wait_for_publish(10)
        total = len(batches) * ROWS
        assert wait_until(lambda: stores[2].count_samples() == total)
        assert wait_until(lambda: sum(r.stats.batches for r in recorders) == len(batches))
    finally:
        pub.loop_stop()
        pub.disconnect()
        for recorder in recorders:
            recorder.stop()
    return recorders


def test_recorders_sharing_a_group_store_every_sample_once(
    mosquitto: RunningBroker, site: str, stores: list[Store]
) -> None:
    recorders = run_group(mosquitto, site, stores)
    shares = [r.stats.batches for r in recorders]
    assert all(share > 0 for share in shares), shares  # both did some of the work
    assert sum(r.stats.duplicates for r in recorders) == 0  # each delivered once
    for device in DEVICES:
        frame = stores[2].read_samples(device)
        assert list(frame["seq"]) == list(range(PER_DEVICE * ROWS))  # once each, none lost


def test_recorders_sharing_a_group_record_no_false_gaps(
    mosquitto: RunningBroker, site: str, stores: list[Store]
) -> None:
    run_group(mosquitto, site, stores)
    assert stores[2].gaps() == []
