"""When a session ends, the record service prepares its replay (the stored tilt), so the
first supervisor to open it does not wait; through a real Mosquitto and recorder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from contract import (
    DeviceStatus,
    Event,
    SampleBatch,
    Topic,
    events_topic,
    samples_topic,
    status_topic,
)
from dmi_live.finisher import SessionFinisher
from record.recorder import Recorder
from review import replay_data as rd
from store import Store, open_store
from tests.conftest import RunningBroker, wait_until
from tests.dashboard.replay_session import FS, T0, imu_values, record_session
from tests.record.test_recorder import publish_all, publisher
from tests.record.test_recorder_integrity import publisher_as


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "db.sqlite") as opened:
        yield opened


def prepared(store: Store, session: str) -> bool:
    meta = rd.load_meta(store, session)
    assert meta.tilt_imu is not None
    return rd.stored_series(store, meta, meta.tilt_imu.device, rd.TILT_SERIES) is not None


def end_of(session: str, t: float) -> Event:
    return Event("session_end", t, session=session, author="ana", id=f"{session}-end")


def test_an_ended_session_is_prepared_after_the_grace_and_trouble_costs_only_itself(
    store: Store,
) -> None:
    record_session(store, session="s-1")
    record_session(store, session="s-2", start=1_700_001_000.0)
    finisher = SessionFinisher(store, grace_s=0.3)
    finisher.start()
    try:
        topic = Topic("demo", "room-1", "events")
        finisher.on_event(topic, end_of("nope", 1.0))  # unknown: nothing to do
        finisher.on_event(topic, end_of("s-1", 1.0))
        finisher.on_event(topic, Event("session_start", 1.0, session="s-3", author="ana",
                                       data={"child": "c-17"}))
        assert not prepared(store, "s-1")  # not before the grace
        assert wait_until(lambda: finisher.prepared == 1, timeout=10)
        assert prepared(store, "s-1")
        assert not prepared(store, "s-2")
        finisher.on_event(topic, end_of("s-2", 1.0))
        assert wait_until(lambda: finisher.prepared == 2, timeout=10)
        assert prepared(store, "s-2")
    finally:
        finisher.stop()


@pytest.mark.broker
def test_the_recorder_hands_a_sessions_end_to_the_finisher(
    mosquitto: RunningBroker, site: str, store: Store
) -> None:
    """A room sends a trunk IMU's status and samples and the session's events, as the
    ingest and the remote do; the session is prepared after its end, with no page open."""
    store.add_child("c-17", "")  # an admin registers the child
    rel = np.arange(0, 30, 1 / FS)
    imu = "room-1-imu-trunk"
    samples = [SampleBatch(imu, "imu", "b1", i, i / FS, 1 / FS, T0 + i / FS,
                           ("ax", "ay", "az", "gx", "gy", "gz"),
                           tuple(map(tuple, imu_values(rel[i:i + 25]).tolist())))
               for i in range(0, rel.size, 25)]
    events = [Event("session_start", T0, session="s-9", author="ana", data={"child": "c-17"},
                    id="s-9-start"), end_of("s-9", T0 + 29.9)]
    finisher = SessionFinisher(store, grace_s=0.2)
    finisher.start()
    recorder = Recorder(mosquitto.address("recorder"), store, client_id=f"rec-{site}",
                        site=site, on_event=finisher.on_event)
    recorder.start()
    try:
        assert recorder.wait_connected(5)
        time.sleep(0.2)  # subscriptions acknowledged
        pub = publisher(mosquitto, f"pub-{site}")
        status = DeviceStatus(imu, "imu", "online", T0, boot="b1", placement="trunk")
        publish_all(pub, [(status_topic(site, "room-1", imu), status.encode())])
        publish_all(pub, [(samples_topic(site, "room-1", imu), b.encode()) for b in samples])
        assert wait_until(lambda: recorder.stats.samples == rel.size), recorder.stats
        pub.disconnect()
        remote = publisher_as(mosquitto, "dashboard", f"remote-{site}")  # events: the remote's
        publish_all(remote, [(events_topic(site, "room-1"), e.encode()) for e in events])
        remote.disconnect()
        assert wait_until(lambda: finisher.prepared == 1, timeout=20), recorder.stats
        assert prepared(store, "s-9")
    finally:
        recorder.stop()
        finisher.stop()
