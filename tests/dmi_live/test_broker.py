"""The generated Mosquitto config, against a real Mosquitto: passwords required, and each
account may publish only where its ACL says (an ingest only to its own room)."""

from __future__ import annotations

import threading
import time

import pytest

from dmi_live.broker import mosquitto_hash
from ingest.mqtt import BrokerAddress, connect, make_client
from tests.conftest import RunningBroker

pytestmark = pytest.mark.broker


def received_by_recorder(broker: RunningBroker, site: str, publisher: str,
                         topics: list[str], *, reader: str = "recorder") -> set[str]:
    """Publish one message per topic as ``publisher``; return the topics ``reader`` saw."""
    seen: set[str] = set()
    subscribed = threading.Event()
    sub = make_client(broker.address(reader), client_id=f"acl-sub-{site}")
    sub.on_message = lambda c, u, m: seen.add(m.topic)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_connect = lambda c, *a: c.subscribe(f"dmi/v1/{site}/#", qos=1)
    connect(sub, broker.address(reader))
    sub.loop_start()
    assert subscribed.wait(5)
    pub = make_client(broker.address(publisher), client_id=f"acl-pub-{site}-{publisher}")
    connect(pub, broker.address(publisher))
    pub.loop_start()
    for topic in topics:
        pub.publish(topic, b"{}", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    for client in (pub, sub):
        client.disconnect()
        client.loop_stop()
    return seen


def test_an_ingest_may_publish_only_its_own_rooms_samples(mosquitto: RunningBroker,
                                                          site: str) -> None:
    own = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    other = f"dmi/v1/{site}/room-2/dev/board-1/samples"
    events = f"dmi/v1/{site}/room-1/events"
    seen = received_by_recorder(mosquitto, site, "ingest-room-1", [own, other, events])
    assert seen == {own}


def test_an_ingest_may_publish_only_its_own_rooms_live_frames_which_only_screens_read(
        mosquitto: RunningBroker, site: str) -> None:
    own = f"dmi/v1/{site}/room-1/dev/board-1/live"
    other = f"dmi/v1/{site}/room-2/dev/board-1/live"
    samples = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    topics = [own, other, samples]
    assert received_by_recorder(mosquitto, site, "ingest-room-1", topics,
                                reader="dashboard") == {own, samples}
    # the recorder stores what it reads: live frames never reach it
    assert received_by_recorder(mosquitto, site, "ingest-room-1", topics) == {samples}


def test_dashboards_may_send_events_but_not_samples(mosquitto: RunningBroker, site: str) -> None:
    events = f"dmi/v1/{site}/room-1/events"
    samples = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    derived = f"dmi/v1/{site}/room-1/derived"
    live = f"dmi/v1/{site}/room-1/dev/board-1/live"
    assert received_by_recorder(mosquitto, site, "dashboard",
                                [events, samples, derived, live]) == {events}


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_connections_without_the_password_are_refused(mosquitto: RunningBroker,
                                                      password: str | None) -> None:
    refused = threading.Event()
    address = BrokerAddress(port=mosquitto.port, username="recorder" if password else None,
                            password=password)
    client = make_client(address, client_id="acl-anon")
    client.on_connect = lambda c, u, f, reason, p: reason.is_failure and refused.set()
    connect(client, address)
    client.loop_start()
    assert refused.wait(5)
    client.loop_stop()
    assert not client.is_connected()


def test_password_hash_is_mosquittos_pbkdf2_format() -> None:
    stored = mosquitto_hash("s3cret", salt=b"0123456789ab")
    kind, iterations, salt, digest = stored.split("$")[1:]
    assert (kind, iterations, salt) == ("7", "101", "MDEyMzQ1Njc4OWFi")
    assert len(digest) == 88  # 64 bytes, base64


def test_a_payload_past_the_packet_limit_never_reaches_a_subscriber(
    mosquitto: RunningBroker, site: str
) -> None:
    from dmi_live.broker import MAX_PACKET

    topic = f"dmi/v1/{site}/room-1/dev/board-1/samples"
    seen: list[int] = []
    subscribed = threading.Event()
    sub = make_client(mosquitto.address("recorder"), client_id=f"big-sub-{site}")
    sub.on_message = lambda c, u, m: seen.append(len(m.payload))
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
    connect(sub, mosquitto.address("recorder"))
    sub.loop_start()
    assert subscribed.wait(5)
    for size in (MAX_PACKET * 2, 1000):
        pub = make_client(mosquitto.address("ingest"), client_id=f"big-pub-{site}-{size}")
        connect(pub, mosquitto.address("ingest"))
        pub.loop_start()
        pub.publish(topic, b"x" * size, qos=1).wait_for_publish(3)
        pub.disconnect()
        pub.loop_stop()
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    sub.disconnect()
    sub.loop_stop()
    assert seen == [1000]
