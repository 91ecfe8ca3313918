"""The session engine on a real Mosquitto survives whatever a broker account can send: every
malformed or inapplicable message is counted as a reject with its reason, none stops the
engine's loop or its client, the good messages after them are counted as before, and the
reject log stays a few lines however many rejects there are."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract import SampleBatch, events_topic, samples_topic, status_topic
from ingest.mqtt import connect, make_client
from record.engine_service import EngineService
from store import Store, open_store
from tests.conftest import RunningBroker, wait_until
from tests.record.test_engine import (
    ROOM,
    STS,
    Watcher,
    imu_batches,
    session_start,
    set_start,
    squats,
)

HUGE = str(10**400)
GIANT = "9" * 5000
DEEP = "[" * 50_000 + "]" * 50_000
_EVENT_IDS = itertools.count(1)


def batch_json(*, drop: str = "", **raw: str) -> str:
    """A valid board batch of ``board-x`` as JSON without field ``drop`` and with the
    fields in ``raw`` replaced by those JSON literals."""
    good = SampleBatch("board-x", "board", "b1", 0, 0.0, 0.01, time.time(),
                       ("fl", "fr", "bl", "br"), ((5.0, 5.0, 5.0, 5.0),) * 4)
    data = {k: v for k, v in json.loads(good.encode()).items() if k != drop}
    data.update(dict.fromkeys(raw, "@RAW@"))
    text = json.dumps(data)
    for key, literal in raw.items():
        text = text.replace(f'"{key}": "@RAW@"', f'"{key}": {literal}')
    return text


def event_json(kind: str, *, t: str = "1700000000.0", session: str | None = "ghost",
               data: str = "{}", **extra: str) -> str:
    fields = ['"v":1', f'"id":"e-{next(_EVENT_IDS)}"', f'"type":"{kind}"', f'"t":{t}',
              f'"data":{data}']
    if session is not None:
        fields.append(f'"session":"{session}"')
    fields += [f'"{k}":{v}' for k, v in extra.items()]
    return "{" + ",".join(fields) + "}"


def malformed(site: str) -> list[tuple[str, str, bytes]]:
    """(account, topic, payload) of every message the engine must refuse."""
    samples = samples_topic(site, ROOM, "board-x")
    events = events_topic(site, ROOM)
    status = status_topic(site, ROOM, "board-x")
    now = str(time.time())
    as_samples = [
        '{"v":1,"rows":' + DEEP + "}",  # nesting deeper than the parsers recurse
        batch_json(t_host=HUGE),  # beyond the float range
        batch_json(seq=HUGE),  # beyond the store's 64 bits
        batch_json(rows="[[" + HUGE + ",1,1,1]]"),
        batch_json(t_dev=GIANT),  # too long for Python to read as a number
        batch_json(drop="rows"),  # missing keys
        batch_json(drop="t_host"),
        batch_json(rows='"abc"'),  # wrong types
        batch_json(kind="5"),
        batch_json(cols='["fl", {"x": 1}, "bl", "br"]'),
        batch_json(seq='"0"'),
        batch_json(rows="[[NaN,1,1,1]]"),
        batch_json(t_dev="Infinity"),
        batch_json(device='"board-y"'),  # a batch whose device differs from its topic
        batch_json(rows="[[1e308,1e308,1e308,1e308]]"),  # parseable, not a measurement
        batch_json(period="1e-9"),  # a sample rate no device has
        "[1,2,3]",
        "",
    ]
    as_events = [
        event_json("note", data='{"text":"x","deep":' + DEEP + "}"),
        # events for a session nobody started
        event_json("rep", data='{"delta":1,"source":"manual"}', set='"ghost-set"'),
        event_json("note", data='{"text":"for a session nobody started"}'),
        event_json("session_end"),
        event_json("set_end", set='"ghost-set"'),
        event_json("note", t=HUGE, data='{"text":"x"}'),
        event_json("note", t="NaN", data='{"text":"x"}'),
        event_json("note", t='"yesterday"', data='{"text":"x"}'),
        event_json("note", data='{"text":"\\ud800"}'),  # not valid Unicode
        event_json("set_start", data='{"exercise":"sit-to-stand-foam","surface":"floor",'
                                     '"support":"knee","planned_reps":' + HUGE + "}",
                   set='"s-big"'),
        '{"v":1,"id":"e-no-type","t":' + now + ',"data":{}}',  # missing key
    ]
    as_status = [
        '{"v":1,"device":"board-x","kind":"board","state":"online","t":Infinity}',
        '{"v":1,"device":"board-9","kind":"board","state":"online","t":' + now + "}",
        '{"v":1,"device":"board-x","kind":"board","state":' + DEEP + ',"t":1}',
    ]
    garbage = [b'\xff\xfe{"v":1}', b"\xc3\x28", b"{\x00}"]  # not UTF-8, not JSON
    return ([("ingest", samples, p.encode()) for p in as_samples]
            + [("dashboard", events, p.encode()) for p in as_events]
            + [("ingest", status, p.encode()) for p in as_status]
            + [("ingest", samples, p) for p in garbage]
            + [("dashboard", events, p) for p in garbage])


class Publishers:
    """One connected client per broker account, publishing with QoS 1."""

    def __init__(self, broker: RunningBroker, site: str) -> None:
        self.clients: dict[str, mqtt.Client] = {}
        for account in ("ingest", "dashboard"):
            client = make_client(broker.address(account), client_id=f"{account}-pub-{site}")
            connect(client, broker.address(account))
            client.loop_start()
            self.clients[account] = client

    def publish(self, account: str, topic: str, payload: bytes) -> None:
        self.clients[account].publish(topic, payload, qos=1).wait_for_publish(5)

    def stop(self) -> None:
        for client in self.clients.values():
            client.loop_stop()
            client.disconnect()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "db.sqlite")
    opened.add_child("c-7f3a", "")
    yield opened
    opened.close()


@pytest.fixture
def engine(mosquitto: RunningBroker, site: str, store: Store) -> Iterator[EngineService]:
    service = EngineService(mosquitto.address("recorder"), store, site=site,
                            client_id=f"engine-{site}")
    service.start()
    assert service.wait_ready(5)
    yield service
    service.stop()


@pytest.mark.broker
def test_every_malformed_message_is_a_counted_reject_and_the_engine_goes_on(
    mosquitto: RunningBroker, site: str, engine: EngineService
) -> None:
    bad = malformed(site)
    wall = Watcher(mosquitto, site)
    publishers = Publishers(mosquitto, site)
    try:
        for account, topic, payload in bad:
            publishers.publish(account, topic, payload)
        assert wait_until(lambda: engine.stats.messages == len(bad)), engine.stats
        assert engine.stats.rejected == len(bad), engine.stats
        assert engine.stats.failed == 0, "each one was foreseen, none raised"

        now = time.time()
        good = [("dashboard", events_topic(site, ROOM), session_start(t=now).encode()),
                ("dashboard", events_topic(site, ROOM),
                 set_start("set-1", STS, now + 0.1).encode())]
        good += [("ingest", samples_topic(site, ROOM, b.device), b.encode())
                 for b in imu_batches(squats(3), t0=now + 0.5)]
        for account, topic, payload in good:
            publishers.publish(account, topic, payload)
        assert wait_until(wall.shows(session="s-1", set="set-1", reps=3))
        auto_reps = 3  # published by the engine, heard back like a therapist's +1
        assert wait_until(lambda: engine.stats.messages == len(bad) + len(good) + auto_reps)
        assert engine.stats.rejected == len(bad), "the good ones are all applied"
        assert engine.stats.published > 0
    finally:
        publishers.stop()
        wall.stop()


@pytest.mark.broker
def test_rejects_are_logged_a_few_at_a_time_then_summed_up(
    mosquitto: RunningBroker, site: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ingest")
    engine = EngineService(mosquitto.address("recorder"), store, site=site,
                           client_id=f"engine-{site}")
    engine.start()
    publishers = Publishers(mosquitto, site)
    try:
        assert engine.wait_ready(5)
        for i in range(40):
            publishers.publish("ingest", samples_topic(site, ROOM, "board-x"),
                               f'{{"v":1,"junk":{i}}}'.encode())
        assert wait_until(lambda: engine.stats.rejected == 40), engine.stats
    finally:
        publishers.stop()
        engine.stop()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("record.engine")
             and r.levelno >= logging.WARNING]
    one_by_one = [m for m in lines if m.startswith("engine: rejected message on")]
    assert 1 <= len(one_by_one) <= 5, lines
    assert any("rejected message: 35 more" in m for m in lines), lines
