"""Signing in and out, attacked as issue 13 found it: redirects off the site after sign-in,
lock-outs anyone could trigger, cookies that outlived sign-out and new passwords,
cross-site posts, the callback graph and health details for anonymous visitors, and a
missing Content-Security-Policy. Everything through Flask's test client on a real store."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from access.passwords import hash_password
from dashboard import admin_actions, signins
from dashboard.app import create_app
from dashboard.live import LiveHub
from dashboard.throttle import Backoff, SignInThrottle
from dmi_live.settings import Settings
from ingest.mqtt import BrokerAddress
from store import Store, open_store

PASSWORD = "correct horse battery"
ATTACKER, CLINIC = "10.0.0.66", "10.0.0.7"
# delays long enough that no test depends on how fast it runs
PAIR = Backoff(free=5, first_s=600, cap_s=3600, forget_after_s=7200)
ADDRESS = Backoff(free=20, first_s=5, cap_s=10, forget_after_s=7200)


class Site:
    """A dashboard with an admin (ada) and a therapist (anna) on a SQLite store."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.settings = Settings(data_dir=tmp_path / "data").with_secret_key()
        self.store = open_store(tmp_path / "db.sqlite")
        self.store.add_user("ada", "admin", hash_password(PASSWORD))
        self.store.add_user("anna", "therapist", hash_password(PASSWORD))
        self.app = self.new_app(self.store)

    def new_app(self, store: Store) -> Any:
        """Another dashboard process on the same database (a second gunicorn worker)."""
        hub = LiveHub(BrokerAddress(port=1), site="demo", client_id="t")  # not started
        return create_app(self.settings, hub=hub, store=store,
                          throttle=SignInThrottle(store, pair=PAIR, address=ADDRESS))

    def client(self, address: str = CLINIC, app: Any = None) -> Any:
        client = (app or self.app).server.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    def page(self, client: Any, path: str, search: str = "") -> str:
        """The router's answer for ``path``, as the open Dash front end asks for it."""
        payload = {"output": "app-page.children",
                   "outputs": {"id": "app-page", "property": "children"},
                   "inputs": [{"id": "app-url", "property": "pathname", "value": path},
                              {"id": "app-url", "property": "search", "value": search}],
                   "state": [], "changedPropIds": ["app-url.pathname"]}
        response = client.post("/_dash-update-component", json=payload)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def audit(self) -> list[tuple[str, str, str]]:
        return [(r.who, r.action, r.detail) for r in self.store.audit_log(limit=200)]


def sign_in(client: Any, username: str = "anna", password: str = PASSWORD,
            next_path: str = "/sessions", **headers: str) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "next": next_path}, headers=headers)


def login_query(response: Any) -> dict[str, str]:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login", response.headers["Location"]
    return {k: v[-1] for k, v in parse_qs(location.query).items()}


def signed_in(site: Site, client: Any) -> bool:
    return "Sessions" in site.page(client, "/sessions") and \
        "login-user" not in site.page(client, "/sessions")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    yield built
    built.store.close()


# ----------------------------------------------------------------------------- 1. redirects


@pytest.mark.parametrize("next_path", [
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
    "//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)",
    " //evil.example", "/\x00/evil.example", "/\u200b/evil.example",
])
def test_sign_in_only_ever_sends_the_browser_to_a_page_of_this_site(site: Site,
                                                                    next_path: str) -> None:
    response = sign_in(site.client(), next_path=next_path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_keeps_a_path_of_this_site(site: Site) -> None:
    response = sign_in(site.client(), next_path="/sessions?child=c-1")
    assert response.headers["Location"] == "/sessions?child=c-1"


def test_the_sign_in_form_never_carries_a_foreign_next(site: Site) -> None:
    client = site.client()
    body = client.get("/login?next=/%09/evil.example").get_data(as_text=True)
    (hidden,) = re.findall(r'<input[^>]*name="next"[^>]*>', body)
    assert 'value="/"' in hidden
    assert "evil.example" not in body
    assert "evil.example" not in site.page(client, "/login", "?next=//evil.example")


# ----------------------------------------------------------------------------- 2. throttle


def test_a_guesser_elsewhere_never_locks_the_real_user_out(site: Site) -> None:
    attacker = site.client(ATTACKER)
    for _ in range(PAIR.free):
        assert login_query(sign_in(attacker, "ada", "wrong password!"))["error"] == "failed"
    real_admin = site.client(CLINIC)
    assert sign_in(real_admin, "ada", next_path="/admin").headers["Location"] == "/admin"
    assert "Administration" in site.page(real_admin, "/admin")
    held = login_query(sign_in(attacker, "ada", PASSWORD))
    assert held["error"] == "locked", "even the right password waits, from that address"
    assert 500 < int(held["wait"]) <= 600
    actions = [(who, action) for who, action, _ in site.audit()]
    assert actions.count(("anonymous", "failed sign-in")) == PAIR.free
    assert ("anonymous", "sign-in throttled") in actions
    assert ("ada", "sign-in") in actions
    throttled = next(d for _, a, d in site.audit() if a == "sign-in throttled")
    assert "'ada'" in throttled
    assert ATTACKER in throttled


def test_many_names_from_one_address_slow_that_address_a_little(site: Site) -> None:
    attacker = site.client(ATTACKER)
    for i in range(ADDRESS.free):
        assert login_query(sign_in(attacker, f"user{i}", "wrong password!"))["error"] == "failed"
    held = login_query(sign_in(attacker, "anna", PASSWORD))
    assert held["error"] == "locked"
    assert int(held["wait"]) <= ADDRESS.cap_s, "an address waits seconds, not minutes"
    assert sign_in(site.client(CLINIC), "anna").headers["Location"] == "/sessions", \
        "the account itself is never locked"


def test_every_dashboard_process_counts_the_same_failures(site: Site) -> None:
    other_store = open_store(site.tmp_path / "db.sqlite")  # a second worker process
    try:
        worker_1, worker_2 = site.client(ATTACKER), site.client(ATTACKER,
                                                                site.new_app(other_store))
        for i in range(PAIR.free):
            worker = worker_1 if i % 2 else worker_2
            assert login_query(sign_in(worker, "anna", "wrong password!"))["error"] == "failed"
        assert login_query(sign_in(worker_1, "anna"))["error"] == "locked"
        assert login_query(sign_in(worker_2, "anna"))["error"] == "locked"
    finally:
        other_store.close()


def test_a_success_forgets_the_failures_before_it(site: Site) -> None:
    client = site.client()
    for _ in range(PAIR.free - 1):
        sign_in(client, password="wrong password!")
    assert sign_in(client).headers["Location"] == "/sessions"
    for _ in range(PAIR.free - 1):
        sign_in(client, password="wrong password!")
    assert sign_in(client).headers["Location"] == "/sessions"


# ----------------------------------------------------------------------------- 3. revocable


def copied_cookie(site: Site, client: Any) -> Any:
    """A new browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = site.client(ATTACKER)
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_stops_working_at_sign_out(site: Site) -> None:
    client = site.client()
    sign_in(client)
    thief = copied_cookie(site, client)
    assert signed_in(site, thief), "the copy works while the user is signed in"
    assert client.post("/logout").headers["Location"] == "/login"
    assert not signed_in(site, client)
    assert not signed_in(site, thief), "the old cookie is refused after signing out"
    assert thief.get("/_dash-dependencies").status_code == 401
    assert ("anna", "sign-out", "") in site.audit()


@pytest.mark.parametrize("change", ["admin page", "command line"])
def test_a_new_password_signs_out_every_browser_of_the_account(site: Site, change: str,
                                                               tmp_path: Path) -> None:
    laptop, tablet = site.client(), site.client("10.0.0.8")
    sign_in(laptop)
    sign_in(tablet)
    thief = copied_cookie(site, laptop)
    if change == "admin page":
        admin_actions.reset_password(site.store, "ada", username="anna",
                                     password="a brand new password")
    else:
        site.store.set_password_hash("anna", hash_password("a brand new password"))
    for browser in (laptop, tablet, thief):
        assert not signed_in(site, browser)
    assert all(row.revoked for row in site.store.sign_ins("anna"))


def test_an_admin_who_changes_their_own_password_stays_signed_in_there(site: Site) -> None:
    from dashboard import ids

    admin, elsewhere = site.client(), site.client("10.0.0.8")
    sign_in(admin, "ada")
    sign_in(elsewhere, "ada")
    deps = admin.get("/_dash-dependencies").get_json()
    dep = next(d for d in deps if f"{ids.ADMIN_USERS_FEEDBACK}." in d["output"])
    values = {ids.ADMIN_USER_RESET: 1, ids.ADMIN_USER_TARGET: "ada",
              ids.ADMIN_USER_PASSWORD: "a brand new password"}

    def item(spec: dict[str, Any]) -> dict[str, Any]:
        return {"id": spec["id"], "property": spec["property"], "value": values.get(spec["id"])}

    response = admin.post("/_dash-update-component", json={
        "output": dep["output"], "outputs": [
            {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
            for part in dep["output"].strip(".").split("...")],
        "inputs": [item(i) for i in dep["inputs"]], "state": [item(s) for s in dep["state"]],
        "changedPropIds": [f"{ids.ADMIN_USER_RESET}.n_clicks"]})
    assert "New password set for ada" in response.get_data(as_text=True)
    assert "Administration" in site.page(admin, "/admin")
    assert "login-user" in site.page(elsewhere, "/admin")


def test_a_sign_in_ends_after_half_an_hour_without_use(site: Site) -> None:
    client = site.client()
    sign_in(client)
    (row,) = site.store.sign_ins("anna")
    with client.session_transaction() as session:
        assert signins.why_ended(site.store, "anna", session, time.time()) is None
        later = row.last_seen + signins.IDLE_TIMEOUT_S + 1
        assert signins.why_ended(site.store, "anna", session, later) == "expired"
        assert signins.why_ended(site.store, "ada", session, time.time()) == "signed-out"


# ----------------------------------------------------------------------------- 4. cross-site


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"},
    {"Referer": "https://evil.example/login"}, {"Origin": "http://localhost.evil.example"},
    {"Origin": "http://localhost:8051"},
])
def test_cross_site_sign_in_and_sign_out_are_refused(site: Site,
                                                     headers: dict[str, str]) -> None:
    client = site.client()
    assert sign_in(client, **headers).status_code == 403
    assert not signed_in(site, client)
    sign_in(client)
    assert client.post("/logout", headers=headers).status_code == 403
    assert signed_in(site, client), "a foreign page cannot sign the user out"


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "http://localhost"}, {"Origin": "http://LOCALHOST:80"},
    {"Referer": "http://localhost/login?next=/sessions"},
])
def test_sign_in_from_this_site_or_a_script_works(site: Site, headers: dict[str, str]) -> None:
    client = site.client()
    assert sign_in(client, **headers).headers["Location"] == "/sessions"
    assert client.post("/logout", headers=headers).headers["Location"] == "/login"


# ----------------------------------------------------------------------------- 5. anonymous


def test_an_anonymous_visitor_gets_no_callback_graph_and_no_health_details(site: Site) -> None:
    anonymous = site.client()
    assert anonymous.get("/_dash-dependencies").status_code == 401
    assert anonymous.get("/healthz").get_json() == {"ok": True}
    staff = site.client()
    sign_in(staff)
    graph = staff.get("/_dash-dependencies")
    assert graph.status_code == 200
    assert any("admin-" in dep["output"] for dep in graph.get_json())
    assert "broker_connected" in staff.get("/healthz").get_json()


def test_an_anonymous_visitor_gets_plain_pages_without_dash(site: Site) -> None:
    anonymous = site.client()
    response = anonymous.get("/sessions?child=c-1")
    assert login_query(response) == {"next": "/sessions?child=c-1"}
    login = anonymous.get("/login?next=/sessions&error=failed").get_data(as_text=True)
    for part in ('id="login-user"', 'id="login-password"', 'id="login-submit"',
                 'action="/login"', "do not match", 'href="/assets/app.css"'):
        assert part in login
    assert "_dash-config" not in login, "the Dash front end is not loaded before sign-in"
    assert "This link has ended" in anonymous.get("/family").get_data(as_text=True)
    wall = anonymous.get("/wall/room-1")
    assert wall.status_code == 403
    assert "needs a link from your clinic" in wall.get_data(as_text=True)
    stylesheet = anonymous.get("/assets/app.css")
    stylesheet.close()
    assert stylesheet.status_code == 200


def test_a_signed_in_user_gets_the_dash_app(site: Site) -> None:
    client = site.client()
    sign_in(client)
    assert "_dash-config" in client.get("/sessions").get_data(as_text=True)


# ----------------------------------------------------------------------------- 6. headers


def test_every_response_has_a_csp_that_allows_exactly_dashs_inline_scripts(site: Site) -> None:
    client = site.client()
    sign_in(client)
    response = client.get("/sessions")
    policy = dict(part.strip().split(" ", 1) for part in
                  response.headers["Content-Security-Policy"].split(";"))
    scripts = policy["script-src"].split()
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    page = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>",
                        page, flags=re.S)
    assert inline, "Dash's page has inline scripts (its renderer, clientside callbacks)"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    for path in ("/login", "/healthz", "/_dash-dependencies", "/nowhere"):
        headers = client.get(path).headers
        assert "Content-Security-Policy" in headers, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def _legacy_hash(password: str) -> str:
    """A hash as DMI Live stored them before Werkzeug did the hashing."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


def test_an_account_with_an_old_hash_signs_in_and_is_hashed_anew(site: Site) -> None:
    """Upgrading keeps every account: the old hash verifies once, then a new one is kept,
    and the other devices the account is signed in on stay signed in."""
    site.store.add_user("olga", "therapist", _legacy_hash(PASSWORD))
    assert login_query(sign_in(site.client(), "olga", "not the password")) != {}
    tablet = site.client()
    assert sign_in(tablet, "olga").headers["Location"] == "/sessions"
    stored = site.store.get_user("olga").password_hash
    assert stored.startswith("scrypt:16384:8:1$")

    phone = site.client()
    assert sign_in(phone, "olga").headers["Location"] == "/sessions"
    assert signed_in(site, tablet), "the rehash signed nobody out"
    assert site.store.get_user("olga").password_hash == stored, "hashed anew only once"


def test_a_wrong_password_keeps_the_user_name_typed_but_never_the_password(site: Site) -> None:
    browser = site.client()
    response = sign_in(browser, password="not the password")
    assert login_query(response)["error"] == "failed"
    assert "anna" not in response.headers["Location"]  # not in the address (history, logs)
    form = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="login-user"' in form
    assert 'value="anna"' in form
    assert "not the password" not in form
    assert sign_in(browser).headers["Location"] == "/sessions"
    browser.post("/logout", headers={"Origin": "http://localhost"})
    assert 'value="anna"' not in browser.get("/login").get_data(as_text=True)
