"""Live streams (server-sent events) as a browser holds them open: revoked links and
disabled accounts stop receiving, one principal cannot hold every worker thread, a
closed tab gives its slot back, and opening streams leaves a readable audit trail."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from access.passwords import hash_password
from contract import RoomState
from dashboard.app import create_app
from dashboard.family_links import new_token
from dashboard.live import LiveHub
from dashboard.streams import OpenAudit, StreamGuard
from dmi_live.settings import Settings
from ingest.mqtt import BrokerAddress
from store import open_store
from tests.conftest import wait_until

PASSWORD = "correct horse battery"


class Stream:
    """One open event stream read by a thread, as a browser would."""

    def __init__(self, response: TestResponse) -> None:
        self.response = response
        self.status = response.status_code
        self.chunks: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self.thread.start()
        else:
            self.chunks.append(response.get_data(as_text=True))
            self.done.set()

    def _read(self) -> None:
        try:
            for chunk in self.response.response:
                self.chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        finally:
            self.done.set()

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def close(self) -> None:
        if self.thread.is_alive():
            self.thread.join(10)
        self.response.close()


class Site:
    """A dashboard with one child (Amara, c-a11) in a live session in room-1, a therapist
    account, and a hub that is fed by hand; driven through Flask's test client."""

    def __init__(self, tmp_path: Path, **hub_options: Any) -> None:
        self.settings = Settings(data_dir=tmp_path / "data").with_secret_key()
        self.store = open_store(tmp_path / "db.sqlite")
        self.store.add_child("c-a11", "Amara")
        self.store.add_user("anna", "therapist", hash_password(PASSWORD))
        self.store.add_user("ben", "therapist", hash_password(PASSWORD))
        self.hub = LiveHub(BrokerAddress(port=1), site="demo", client_id="t", **hub_options)
        self.set_state(reps=0)
        self.app = create_app(self.settings, hub=self.hub, store=self.store)
        self.streams: list[Stream] = []

    def set_state(self, *, reps: int) -> None:
        self.hub.set_state("room-1", RoomState(
            room="room-1", t=time.time(), session="s-a11", child="c-a11", set="set-1",
            exercise="reach-ball", surface="ball", support="knee", planned_reps=8, reps=reps,
            set_started_t=time.time()))

    def browser(self) -> Any:
        client = self.app.server.test_client()
        client.get("/login")  # Dash sets itself up on the first request
        return client

    def family(self, *, expires_in: float = 3600) -> tuple[Any, int]:
        """A browser signed in through a new family link for Amara, and the link id."""
        token, digest = new_token(self.settings.secret_key)
        link = self.store.add_family_link("c-a11", digest, time.time() + expires_in, "anna")
        client = self.browser()
        assert client.get(f"/family/link/{token}").headers["Location"] == "/family"
        return client, link.id

    def therapist(self, name: str = "anna") -> Any:
        client = self.browser()
        client.post("/login", data={"username": name, "password": PASSWORD, "next": "/"})
        return client

    def open(self, client: Any, path: str) -> Stream:
        stream = Stream(client.get(path, buffered=False))
        self.streams.append(stream)
        return stream

    def close(self) -> None:
        self.hub.stop()  # ends every open stream
        for stream in self.streams:
            stream.close()
        self.store.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path, max_streams=6, max_streams_per_principal=4)
    yield built
    built.close()


def ended(stream: Stream) -> Callable[[], bool]:
    return lambda: stream.done.is_set() and "event: ended" in stream.text


# ----------------------------------------------------------------------------- finding 1


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_family_stream_ends_once_its_link_is_revoked_or_expired(site: Site, how: str) -> None:
    client, link_id = site.family(expires_in=3600 if how == "revoked" else 4)
    stream = site.open(client, "/live/family/stream")
    assert stream.status == 200
    assert wait_until(lambda: '"reps":0' in stream.text)
    if how == "revoked":
        site.store.revoke_family_link(link_id)
    assert wait_until(ended(stream)), stream.text[-300:]
    assert "data: This family link has ended." in stream.text
    again = site.open(client, "/live/family/stream")
    assert again.status == 403


def test_a_room_stream_ends_once_the_account_is_disabled(site: Site) -> None:
    stream = site.open(site.therapist(), "/live/room-1/stream")
    assert wait_until(lambda: '"reps":0' in stream.text)
    site.store.set_user_disabled("anna", True)
    assert wait_until(ended(stream)), stream.text[-300:]
    assert "data: You are signed out." in stream.text


def test_the_guard_asks_every_two_seconds_and_a_failing_check_ends_without_ended() -> None:
    now = [100.0]
    asked: list[float] = []

    def still_allowed() -> bool:
        asked.append(now[0])
        return now[0] < 110

    guard = StreamGuard(still_allowed, ended_message="gone", clock=lambda: now[0])
    for _ in range(40):  # a busy stream looks four times a second
        assert guard.allowed()
        now[0] += 0.25
    assert asked == [102.0, 104.0, 106.0, 108.0]
    now[0] = 110.5
    assert not guard.allowed()
    assert guard.final_event() == "event: ended\ndata: gone\n\n"

    def broken() -> bool:
        raise ConnectionError("database away")

    failing = StreamGuard(broken, ended_message="gone", every_s=0.0)
    assert not failing.allowed()
    assert failing.final_event() is None  # the page reconnects; the route decides afresh


# ----------------------------------------------------------------------------- finding 2


def test_one_principal_gets_four_streams_and_a_plain_429_beyond(site: Site) -> None:
    client, _ = site.family()
    responses = [client.get("/live/family/stream", buffered=False) for _ in range(4)]
    for response in responses:  # each one streaming
        chunks = iter(response.response)
        assert next(chunks).startswith(b"retry:")
        assert b'"reps":0' in next(chunks)
    refused = client.get("/live/family/stream", buffered=False)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    assert refused.mimetype == "text/plain"
    assert "Too many live views are open for this sign-in" in refused.get_data(as_text=True)
    other = site.therapist().get("/live/room-1/stream", buffered=False)
    assert other.status_code == 200  # another principal is not held back by this one
    other.close()
    responses.pop().close()  # a tab closed: the server closes its response
    again = client.get("/live/family/stream", buffered=False)
    assert again.status_code == 200
    for response in [*responses, again]:
        response.close()
    assert site.hub.streams.open_streams() == 0


def test_the_process_limit_answers_429_and_a_never_read_stream_frees_its_slot(
        site: Site) -> None:
    anna, ben = site.therapist(), site.therapist("ben")
    opened = [anna.get("/live/room-1/stream", buffered=False) for _ in range(4)]
    opened += [ben.get("/live/room-1/stream", buffered=False) for _ in range(2)]
    assert [r.status_code for r in opened] == [200] * 6
    refused = ben.get("/live/room-1/stream", buffered=False)
    assert refused.status_code == 429
    assert "as many live views open as it can serve" in refused.get_data(as_text=True)
    for response in opened:  # closed before a byte was read: the slots come back
        response.close()
    assert site.hub.streams.open_streams() == 0
    fresh = ben.get("/live/room-1/stream", buffered=False)
    assert fresh.status_code == 200
    fresh.close()


def test_a_browser_that_disconnects_from_a_real_server_frees_its_slot(site: Site) -> None:
    server = make_server("127.0.0.1", 0, site.app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cookie = _session_cookie(site.therapist())
        responses = []
        for _ in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/live/room-1/stream", headers={"Cookie": cookie})
            response = conn.getresponse()  # the response holds the connection from here
            assert response.status == 200
            assert response.read(6) == b"retry:"
            responses.append(response)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/live/room-1/stream", headers={"Cookie": cookie})
        refused = conn.getresponse()
        assert refused.status == 429
        refused.close()
        for response in responses:  # the browser goes away
            response.close()

        def freed() -> bool:
            site.set_state(reps=int(time.monotonic() * 1000) % 100)  # something to write
            return site.hub.streams.open_streams() == 0

        assert wait_until(freed)
    finally:
        site.hub.stop()
        server.shutdown()
        thread.join(10)


def _session_cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


# ----------------------------------------------------------------------------- finding 5


def test_stream_opens_are_audited_once_per_principal_and_room(site: Site) -> None:
    family, link_id = site.family()
    therapist = site.therapist()
    for _ in range(3):  # a page that reconnects three times
        family.get("/live/family/stream", buffered=False).close()
        therapist.get("/live/room-1/stream", buffered=False).close()
    therapist.get("/live/room-2/stream", buffered=False).close()
    opens = [(a.who, a.child, a.detail) for a in site.store.audit_log(limit=50)
             if a.action == "open live stream"]
    assert sorted(opens, key=str) == sorted([
        (f"family-link-{link_id}", "c-a11", "family"),
        ("anna", "c-a11", "room-1"),  # the child in room-1's running session
        ("anna", None, "room-2"),
    ], key=str)


def test_an_audit_throttle_lets_a_principal_through_again_after_five_minutes() -> None:
    now = [0.0]
    audit = OpenAudit(clock=lambda: now[0])
    assert audit.due("anna", "room-1")
    assert not audit.due("anna", "room-1")
    assert audit.due("anna", "room-2")
    assert audit.due("wall room-1", "room-1")
    now[0] = 299.0
    assert not audit.due("anna", "room-1")
    now[0] = 301.0
    assert audit.due("anna", "room-1")


def test_staff_see_the_hubs_counters_and_open_streams_in_healthz(site: Site) -> None:
    therapist = site.therapist()
    stream = therapist.get("/live/room-1/stream", buffered=False)
    detail = therapist.get("/healthz").get_json()["live"]
    assert detail["streams"] == 1
    assert {"applied", "rejected", "reasons"} <= set(detail)
    anonymous = site.browser().get("/healthz").get_json(silent=True) or {}
    assert "live" not in anonymous  # the counters are for staff
    stream.close()
