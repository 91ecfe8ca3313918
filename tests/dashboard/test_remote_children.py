"""Children are created by admins only: a therapist's forged session start naming a child
the store does not know is refused by the remote and never reaches the broker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access.passwords import hash_password
from contract import Event, decode_event, events_topic
from dashboard import actions, ids
from dashboard.app import create_app
from dashboard.live import LiveHub
from dmi_live.settings import Settings
from ingest.mqtt import connect, make_client
from store import Store, open_store
from tests.conftest import RunningBroker, wait_until

PASSWORD = "correct horse battery"
NOW = 1_700_000_000.0


def test_a_session_starts_only_for_a_child_the_user_may_start_one_for() -> None:
    event = actions.start_session(None, child="c-a11", author="u1", now=NOW,
                                  children={"c-a11"})
    assert event.data == {"child": "c-a11"}
    with pytest.raises(actions.ActionError, match="No child 'c-new' in the records"):
        actions.start_session(None, child="c-new", author="u1", now=NOW, children={"c-a11"})
    with pytest.raises(actions.ActionError, match="An admin adds children"):
        actions.dispatch(ids.REMOTE_SESSION_START, {"child": "c-new"}, None, author="u1",
                         now=NOW, children=frozenset())


class Events:
    """Every session event published on one room's events topic."""

    def __init__(self, broker: RunningBroker, site: str) -> None:
        self.seen: list[Event] = []
        self.subscribed = threading.Event()
        self.client = make_client(broker.address("recorder"), client_id=f"watch-{site}")
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.seen.append(decode_event(msg.payload))
        connect(self.client, broker.address("recorder"))
        self.client.subscribe(events_topic(site, "room-1"), qos=1)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "db.sqlite")
    opened.add_child("c-a11", "Amara")
    opened.add_user("anna", "therapist", hash_password(PASSWORD))
    yield opened
    opened.close()


def press_start_session(client: Any, child: str) -> str:
    """POST the remote's callback as a browser would, with ``child`` in the picker."""
    dep_states = [ids.REMOTE_ROOM, ids.REMOTE_CHILD, ids.REMOTE_EXERCISE, ids.REMOTE_SURFACE,
                  ids.REMOTE_SUPPORT, ids.REMOTE_PLANNED, ids.REMOTE_QUALITY, ids.REMOTE_NOTE,
                  ids.REMOTE_SHARE]
    values: dict[str, Any] = {ids.REMOTE_ROOM: "room-1", ids.REMOTE_CHILD: child}
    deps = client.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if d["output"].startswith(f"..{ids.REMOTE_FEEDBACK}.children"))
    inputs = [{"id": i["id"], "property": i["property"],
               "value": 1 if i["id"] == ids.REMOTE_SESSION_START else None}
              for i in dep["inputs"] if not i["id"].startswith("{")]
    # the tag and set-correction buttons (pattern-matching inputs): none pressed
    inputs += [[] for i in dep["inputs"] if i["id"].startswith("{")]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])}
             for s in dep["state"]]
    assert [s["id"] for s in state] == dep_states
    response = client.post("/_dash-update-component", json={
        "output": dep["output"], "outputs": [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in dep["output"].strip(".").split("...")],
        "inputs": inputs, "state": state,
        "changedPropIds": [f"{ids.REMOTE_SESSION_START}.n_clicks"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["response"][ids.REMOTE_FEEDBACK]["children"])


@pytest.mark.broker
def test_a_forged_session_start_for_an_unknown_child_never_reaches_the_broker(
    mosquitto: RunningBroker, site: str, store: Store, tmp_path: Path
) -> None:
    watcher = Events(mosquitto, site)
    hub = LiveHub(mosquitto.address("dashboard"), site=site, client_id=f"dash-{site}")
    hub.start()
    try:
        assert watcher.subscribed.wait(5)
        assert hub.connected.wait(5)
        settings = Settings(data_dir=tmp_path / "data", site=site).with_secret_key()
        client = create_app(settings, hub=hub, store=store).server.test_client()
        client.get("/login")  # Dash sets itself up on the first request
        signed_in = client.post("/login", data={"username": "anna", "password": PASSWORD,
                                                "next": "/remote/room-1"})
        assert signed_in.status_code == 302

        refused = press_start_session(client, "c-forged")
        assert "No child 'c-forged' in the records" in refused
        assert press_start_session(client, "c-a11") == "✓ Session started"
        assert wait_until(lambda: len(watcher.seen) == 1)
        assert [(e.type, e.data["child"]) for e in watcher.seen] == [("session_start", "c-a11")]
        assert [c.pseudonym for c in store.children()] == ["c-a11"]
    finally:
        hub.stop()
        watcher.stop()
