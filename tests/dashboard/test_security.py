"""Server-side authorization, attacked the way a curious or malicious browser would:
forged Dash callback requests, other children's ids, ended family links, password
guessing. Child B's data must never show up for anyone who may not see it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access.passwords import hash_password
from contract import RoomState
from dashboard.app import create_app
from dashboard.family_links import new_token
from dashboard.live import LiveHub
from dashboard.throttle import Backoff, SignInThrottle
from dmi_live.settings import Settings
from ingest.mqtt import BrokerAddress
from store import open_store
from tests.dashboard.replay_session import record_session

PASSWORD = "correct horse battery"
B_MARKERS = ("Zeynep", "c-b0b", "s-b0b")  # child B's name, pseudonym, session


class Site:
    """A dashboard with two children, A (Amara, c-a11) and B (Zeynep, c-b0b), each with a
    recorded session, and a therapist account; driven through Flask's test client."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings(data_dir=tmp_path / "data").with_secret_key()
        self.store = open_store(tmp_path / "db.sqlite")
        self.store.add_child("c-a11", "Amara")
        self.store.add_child("c-b0b", "Zeynep")
        record_session(self.store, session="s-a11", child="c-a11", room="room-1", name="Amara")
        record_session(self.store, session="s-b0b", child="c-b0b", room="room-2",
                       start=time.time() - 7200, name="Zeynep")
        self.store.add_user("anna", "therapist", hash_password(PASSWORD))
        self.hub = LiveHub(BrokerAddress(port=1), site="demo", client_id="t")  # not started
        self.hub.set_state("room-2", RoomState(
            room="room-2", t=time.time(), session="s-b0b", child="c-b0b", set="set-b",
            exercise="reach-ball", surface="ball", support="knee", planned_reps=5, reps=3,
            set_started_t=time.time()))
        slow = Backoff(free=5, first_s=600, cap_s=600, forget_after_s=3600)  # no races
        self.app = create_app(self.settings, hub=self.hub, store=self.store,
                              throttle=SignInThrottle(self.store, pair=slow))
        self.client = self.app.server.test_client()
        staff = self.app.server.test_client()  # the callback graph is for signed-in users
        staff.post("/login", data={"username": "anna", "password": PASSWORD})
        self.deps = staff.get("/_dash-dependencies").get_json()

    def family_link(self, child: str, *, expires_in: float = 3600) -> tuple[str, int]:
        token, digest = new_token(self.settings.secret_key)
        link = self.store.add_family_link(child, digest, time.time() + expires_in, "test")
        return f"/family/link/{token}", link.id

    def sign_in(self, password: str = PASSWORD) -> Any:
        return self.client.post("/login", data={"username": "anna", "password": password,
                                                "next": "/sessions"})

    def page(self, path: str) -> str:
        """The router's answer for ``path``, as text."""
        status, body = self.call_router(path)
        assert status == 200
        return body

    def call_router(self, path: str) -> tuple[int, str]:
        payload = {"output": "app-page.children",
                   "outputs": {"id": "app-page", "property": "children"},
                   "inputs": [{"id": "app-url", "property": "pathname", "value": path},
                              {"id": "app-url", "property": "search", "value": ""}],
                   "state": [], "changedPropIds": ["app-url.pathname"]}
        response = self.client.post("/_dash-update-component", json=payload)
        return response.status_code, response.get_data(as_text=True)

    def forge_every_callback(self) -> list[tuple[str, int, str]]:
        """Call every server callback, with every id-like input naming child B's session,
        child and room; returns (output, status, body) for each."""
        answers = []
        for dep in self.deps:
            if dep.get("clientside_function") or dep["output"].startswith("app-page."):
                continue
            payload = {"output": dep["output"], "outputs": _outputs(dep["output"]),
                       "inputs": [_forged(i) for i in dep["inputs"]],
                       "state": [_forged(s) for s in dep["state"]],
                       "changedPropIds": [f"{_id_text(dep['inputs'][0]['id'])}."
                                          f"{dep['inputs'][0]['property']}"]}
            response = self.client.post("/_dash-update-component", json=payload)
            answers.append((dep["output"], response.status_code,
                            response.get_data(as_text=True)))
        return answers

    def close(self) -> None:
        self.store.close()


def _id_text(id_: str) -> str:
    return id_


def _outputs(text: str) -> Any:
    parts = text.strip(".").split("...") if text.startswith("..") else [text]
    outs = []
    for part in parts:
        id_, prop = part.rsplit(".", 1)
        outs.append({"id": json.loads(id_) if id_.startswith("{") else id_,
                     "property": prop.split("@")[0]})
    return outs if text.startswith("..") else outs[0]


def _forged(item: dict[str, Any]) -> Any:
    id_, prop = item["id"], item["property"]
    name = id_ if not id_.startswith("{") else json.loads(id_).get("type", "")
    value: Any = None
    if "session" in name:
        value = "s-b0b"
    elif "child" in name:
        value = "c-b0b"
    elif "room" in name:
        value = "room-2"
    elif prop == "n_clicks":
        value = 1
    elif prop == "pathname":
        value = "/replay/s-b0b"
    if id_.startswith("{"):
        return [{"id": {**json.loads(id_), "index": 0}, "property": prop, "value": value}]
    return {"id": id_, "property": prop, "value": value}


def leaks(text: str) -> list[str]:
    return [marker for marker in B_MARKERS if marker in text]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    yield built
    built.close()


# ----------------------------------------------------------------------------- no one signed in


@pytest.mark.parametrize("path", ["/", "/sessions", "/replay/s-b0b", "/progress/c-b0b",
                                  "/remote/room-2", "/wall/room-2", "/family"])
def test_pages_refuse_an_anonymous_browser(site: Site, path: str) -> None:
    body = site.page(path)
    echoed = body.replace(path.replace("/", "\\u002f"), "")  # the sign-in form's "next"
    assert not leaks(echoed), "only the requested path itself comes back"
    assert ("login-user" in body or "needs a link from your clinic" in body
            or "This link has ended" in body)


def test_every_callback_and_route_refuses_an_anonymous_browser(site: Site) -> None:
    answers = site.forge_every_callback()
    assert len(answers) >= 8, "the dashboard's server callbacks are all exercised"
    for output, status, body in answers:
        assert not leaks(body), f"{output} leaked child B's data: {body[:200]}"
        assert status in (204, 200), output
    assert site.client.get("/live/room-2/stream").status_code == 403
    assert site.client.get("/live/family/stream").status_code == 403
    assert site.client.post("/api/rooms/room-2/actions",
                            json={"action": "rep", "delta": 1}).status_code == 403
    assert site.client.get("/exports/anything").status_code in (403, 404)


# ----------------------------------------------------------------------------- family of child A


def test_a_family_link_shows_its_child_and_nothing_else(site: Site) -> None:
    link, _ = site.family_link("c-a11")
    assert site.client.get(link).headers["Location"].endswith("/family")
    assert "Amara" in site.page("/family")
    for path in ("/replay/s-b0b", "/replay/s-a11", "/progress/c-b0b", "/sessions",
                 "/remote/room-2", "/wall/room-2"):
        body = site.page(path)
        assert not leaks(body), path
        assert "This page is for the clinic's staff" in body, path
        assert "Open your child's page" in body, "and the way back"
        assert "wall-screen" not in body
    home = site.page("/")
    assert not leaks(home)
    assert '"href":"\\u002ffamily"' in home, "the home page is the child's page"
    for output, _status, body in site.forge_every_callback():
        assert not leaks(body), f"{output} leaked child B's data to A's family"
    assert site.client.get("/live/room-2/stream").status_code == 403


def test_the_family_stream_carries_only_its_own_child(site: Site) -> None:
    link, _ = site.family_link("c-a11")
    site.client.get(link)
    response = site.client.get("/live/family/stream", buffered=False)
    chunks = response.response
    first = next(chunk for chunk in chunks if chunk.startswith(b"data:"))
    response.close()
    view = json.loads(first[5:])
    assert view["state"]["session"] is None, "A has no session: B's running one is not shown"
    assert not leaks(first.decode())


def test_family_view_of_a_running_session_has_no_ids_or_device_data(site: Site) -> None:
    view = site.hub.family_view("c-b0b")
    assert view["state"]["reps"] == 3
    assert view["state"]["planned_reps"] == 5
    text = json.dumps(view)
    assert "c-b0b" not in text
    assert "s-b0b" not in text
    assert "room-2" not in text
    assert site.hub.family_view("c-a11")["state"]["session"] is None


def test_expired_revoked_and_forged_family_links_fail(site: Site) -> None:
    expired, _ = site.family_link("c-a11", expires_in=-1)
    assert site.client.get(expired).headers["Location"].endswith("/family?ended=1")
    assert "This link has ended" in site.page("/family")
    revoked, link_id = site.family_link("c-a11")
    site.store.revoke_family_link(link_id)
    assert site.client.get(revoked).headers["Location"].endswith("/family?ended=1")
    good, _ = site.family_link("c-a11")
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert site.client.get(forged).headers["Location"].endswith("/family?ended=1")
    assert "Amara" not in site.page("/family")


def test_revoking_a_link_ends_a_family_already_looking(site: Site) -> None:
    link, link_id = site.family_link("c-a11")
    site.client.get(link)
    assert "Amara" in site.page("/family")
    site.store.revoke_family_link(link_id)
    body = site.page("/family")
    assert "Amara" not in body
    assert "This link has ended" in body


# ----------------------------------------------------------------------------- staff accounts


def test_sign_in_is_throttled_after_repeated_failures(site: Site) -> None:
    for _ in range(5):
        assert "error=failed" in site.sign_in("wrong password!").headers["Location"]
    locked = site.sign_in(PASSWORD)
    assert "error=locked" in locked.headers["Location"], "even the right password waits"
    assert "login-user" in site.page("/sessions")


def test_a_therapist_signs_in_and_a_disabled_account_is_signed_out(site: Site) -> None:
    assert site.sign_in().headers["Location"] == "/sessions"
    assert "Zeynep" in site.page("/sessions")
    cookie = site.client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    site.store.set_user_disabled("anna", True)
    body = site.page("/sessions")
    assert not leaks(body)
    assert "login-user" in body


def test_sign_in_is_recorded_in_the_audit_log(site: Site) -> None:
    site.sign_in()
    site.page("/replay/s-b0b")
    actions = [(row.who, row.action, row.child) for row in site.store.audit_log(limit=10)]
    assert ("anna", "sign-in", None) in actions
    assert any(who == "anna" and child == "c-b0b" for who, _a, child in actions)


def test_security_headers(site: Site) -> None:
    response = site.client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    # not no-referrer: with it a browser's own same-site form posts carry "Origin: null"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_role_change_applies_on_the_next_request(site: Site) -> None:
    site.sign_in()
    assert "Administration" not in site.page("/")
    assert "needs a link from your clinic" in site.page("/admin")
    site.store.set_user_role("anna", "admin")
    assert "Administration" in site.page("/")
    site.store.set_user_role("anna", "therapist")
    assert "needs a link from your clinic" in site.page("/admin")
