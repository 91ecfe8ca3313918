"""The admin page through Flask's test client: an admin signs in for real and every action
works, shows its result and is audited; a therapist, a family link, a wall screen and an
anonymous browser get nothing from any admin callback, however the request is forged."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from access.passwords import hash_password, verify_password
from dashboard import ids, kiosk_links
from dashboard.app import create_app
from dashboard.family_links import new_token, token_hash
from dashboard.live import LiveHub
from dmi_live.settings import Settings
from ingest.mqtt import BrokerAddress
from store import open_store

PASSWORD = "correct horse battery"
ADMIN_IDS = ("admin-", "links-")


# ----------------------------------------------------------------------------- the site


class Site:
    """A dashboard with an admin (ada), a therapist (anna), two children and a device in
    room-2; ``settings.rooms`` is room-1 only."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings(data_dir=tmp_path / "data", rooms=("room-1",)).with_secret_key()
        self.store = open_store(tmp_path / "db.sqlite")
        self.store.add_child("c-a11", "Amara")
        self.store.add_child("c-b0b", "Zeynep")
        self.store.add_user("ada", "admin", hash_password(PASSWORD))
        self.store.add_user("anna", "therapist", hash_password(PASSWORD))
        self.store.upsert_device("demo", "room-2", "room-2-board", "board", "under-feet")
        hub = LiveHub(BrokerAddress(port=1), site="demo", client_id="t")  # not started
        self.app = create_app(self.settings, hub=hub, store=self.store)
        self.client = self.app.server.test_client()
        staff = self.new_client()  # the callback graph is for signed-in users
        self.sign_in("ada", client=staff)
        self.deps = [d for d in staff.get("/_dash-dependencies").get_json()
                     if any(p in d["output"] for p in ADMIN_IDS)]

    def new_client(self) -> Any:
        return self.app.server.test_client()

    def sign_in(self, username: str, password: str = PASSWORD, client: Any = None) -> Any:
        return (client or self.client).post("/login", data={"username": username,
                                                            "password": password})

    def page(self, path: str, client: Any = None) -> str:
        payload = {"output": "app-page.children",
                   "outputs": {"id": "app-page", "property": "children"},
                   "inputs": [{"id": "app-url", "property": "pathname", "value": path},
                              {"id": "app-url", "property": "search", "value": ""}],
                   "state": [], "changedPropIds": ["app-url.pathname"]}
        response = (client or self.client).post("/_dash-update-component", json=payload)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def dep(self, output_id: str) -> dict[str, Any]:
        return next(d for d in self.deps if f"{output_id}." in d["output"])

    def call(self, output_id: str, changed: str, values: dict[str, Any],
             client: Any = None) -> Any:
        """Call the callback that writes ``output_id`` as if ``changed`` (``id.prop``) had
        just changed, with ``values`` (id → value) for its inputs and state; returns the
        response (204: nothing)."""
        dep = self.dep(output_id)
        return (client or self.client).post("/_dash-update-component",
                                            json=payload(dep, values, changed))

    def result(self, output_id: str, changed: str, values: dict[str, Any]) -> dict[str, Any]:
        response = self.call(output_id, changed, values)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return response.get_json()["response"]

    def audit(self) -> list[tuple[str, str, str | None, str]]:
        return [(r.who, r.action, r.child, r.detail) for r in self.store.audit_log(limit=50)]

    def snapshot(self) -> tuple[Any, ...]:
        st = self.store
        return (st.users(), st.children(), st.exercises(), st.family_links(), st.kiosk_links(),
                [(r.who, r.action) for r in st.audit_log(limit=1000)
                 if r.action not in ("sign-in", "open family link", "view family page")])


def _outputs(text: str) -> Any:
    if not text.startswith(".."):
        id_, prop = text.rsplit(".", 1)
        return {"id": id_, "property": prop}
    outs = []
    for part in text.strip(".").split("..."):
        id_, prop = part.rsplit(".", 1)
        outs.append({"id": json.loads(id_) if id_.startswith("{") else id_, "property": prop})
    return outs


def _item(spec: dict[str, Any], values: dict[str, Any]) -> Any:
    id_, prop = spec["id"], spec["property"]
    if id_.startswith("{"):  # pattern-matching ALL: values[type] = {concrete id key: n_clicks}
        pattern = json.loads(id_)
        key = next(k for k, v in pattern.items() if v == ["ALL"])
        return [{"id": {**pattern, key: index}, "property": prop, "value": value}
                for index, value in values.get(pattern["type"], {}).items()]
    return {"id": id_, "property": prop, "value": values.get(id_)}


def payload(dep: dict[str, Any], values: dict[str, Any], changed: str) -> dict[str, Any]:
    return {"output": dep["output"], "outputs": _outputs(dep["output"]),
            "inputs": [_item(i, values) for i in dep["inputs"]],
            "state": [_item(s, values) for s in dep["state"]],
            "changedPropIds": [changed]}


def revoke_id(link_id: int | str, kind: str = ids.LINKS_REVOKE) -> str:
    return json.dumps({"link": link_id, "type": kind}, separators=(",", ":"))


def text(response: dict[str, Any], output_id: str, prop: str = "children") -> str:
    return json.dumps(response.get(output_id, {}).get(prop))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def admin(site: Site) -> Site:
    assert site.sign_in("ada").status_code == 302
    return site


# ----------------------------------------------------------------------------- the page


def test_the_admin_page_shows_every_section_to_an_admin(admin: Site) -> None:
    body = admin.page("/admin")
    for heading in ("Accounts", "Children", "Family links", "Wall screens", "Exercises",
                    "Audit log"):
        assert heading in body
    assert "anna" in body
    assert "Zeynep" in body
    assert "stand-foam-pad" in body
    assert {"room-1", "room-2"} <= set(re.findall(r"room-\d", body)), "settings and devices"
    assert "password_hash" not in body
    assert "scrypt$" not in body


def test_only_admins_see_the_admin_page(site: Site) -> None:
    assert "login-user" in site.page("/admin"), "anonymous: the sign-in form"
    site.sign_in("anna")
    body = site.page("/admin")
    assert "needs a link from your clinic" in body
    assert "Zeynep" not in body
    assert "links-create" in site.page("/family-links"), "staff make family links"
    family, _ = _family_client(site, "c-a11")
    for path in ("/admin", "/family-links"):
        assert "This page is for the clinic's staff" in site.page(path, family)
    wall = _kiosk_client(site, "room-1")
    for path in ("/admin", "/family-links"):
        assert "This screen is signed in as a wall screen" in site.page(path, wall)


# ----------------------------------------------------------------------------- accounts


def test_an_admin_adds_an_account_that_can_sign_in(admin: Site) -> None:
    values = {ids.ADMIN_USER_ADD: 1, ids.ADMIN_USER_NEW_NAME: "bob",
              ids.ADMIN_USER_NEW_ROLE: "supervisor",
              ids.ADMIN_USER_NEW_PASSWORD: "bob's long password"}
    out = admin.result(ids.ADMIN_USERS_TABLE, f"{ids.ADMIN_USER_ADD}.n_clicks", values)
    assert "Added supervisor bob" in text(out, ids.ADMIN_USERS_FEEDBACK)
    assert "bob" in text(out, ids.ADMIN_USERS_TABLE)
    assert {"label": "bob · supervisor", "value": "bob"} in out[ids.ADMIN_USER_TARGET]["options"]
    assert out[ids.ADMIN_USER_NEW_PASSWORD]["value"] == "", "the password field is cleared"
    assert ("ada", "add user", None, "bob as supervisor") in admin.audit()
    bob = admin.new_client()
    assert admin.sign_in("bob", "bob's long password", bob).headers["Location"] == "/"


def test_bad_account_input_is_explained_and_changes_nothing(admin: Site) -> None:
    before = admin.snapshot()
    out = admin.result(ids.ADMIN_USERS_TABLE, f"{ids.ADMIN_USER_ADD}.n_clicks", {
        ids.ADMIN_USER_ADD: 1, ids.ADMIN_USER_NEW_NAME: "bob",
        ids.ADMIN_USER_NEW_ROLE: "therapist", ids.ADMIN_USER_NEW_PASSWORD: "short"})
    assert "Password: a password needs at least 10 characters" in \
        text(out, ids.ADMIN_USERS_FEEDBACK)
    assert ids.ADMIN_USERS_TABLE not in out, "the table is left as it was"
    out = admin.result(ids.ADMIN_USERS_TABLE, f"{ids.ADMIN_USER_DISABLE}.n_clicks", {
        ids.ADMIN_USER_DISABLE: 1, ids.ADMIN_USER_TARGET: "ada"})
    assert "you cannot disable your own account" in text(out, ids.ADMIN_USERS_FEEDBACK)
    assert admin.snapshot() == before


def test_disable_enable_role_and_password_work_and_are_audited(admin: Site) -> None:
    def act(button: str, **values: Any) -> str:
        out = admin.result(ids.ADMIN_USERS_TABLE, f"{button}.n_clicks",
                           {button: 1, ids.ADMIN_USER_TARGET: "anna", **values})
        return text(out, ids.ADMIN_USERS_FEEDBACK)

    anna = admin.new_client()
    admin.sign_in("anna", client=anna)
    assert "Sessions" in admin.page("/sessions", anna)
    assert "Disabled anna" in act(ids.ADMIN_USER_DISABLE)
    assert "login-user" in admin.page("/sessions", anna), "signed out on the next click"
    assert "error=disabled" in admin.sign_in("anna", client=anna).headers["Location"]
    assert "Enabled anna" in act(ids.ADMIN_USER_ENABLE)
    assert "anna is a supervisor now" in act(ids.ADMIN_USER_SET_ROLE,
                                             **{ids.ADMIN_USER_ROLE: "supervisor"})
    assert admin.store.get_user("anna").role == "supervisor"  # type: ignore[union-attr]
    assert "New password set for anna" in act(ids.ADMIN_USER_RESET,
                                              **{ids.ADMIN_USER_PASSWORD: "anna's new secret"})
    assert verify_password("anna's new secret",
                           admin.store.get_user("anna").password_hash)  # type: ignore[union-attr]
    assert admin.sign_in("anna", "anna's new secret", anna).headers["Location"] == "/"
    log = admin.audit()
    for entry in [("ada", "disable user", None, "anna"), ("ada", "enable user", None, "anna"),
                  ("ada", "change role", None, "anna: therapist → supervisor"),
                  ("ada", "reset password", None, "anna")]:
        assert entry in log


def test_a_demoted_admin_loses_the_callbacks_at_once(admin: Site) -> None:
    admin.store.add_user("root", "admin", hash_password(PASSWORD))
    admin.store.set_user_role("ada", "supervisor")  # by another admin, ada still signed in
    response = admin.call(ids.ADMIN_USERS_TABLE, f"{ids.ADMIN_USER_ADD}.n_clicks", {
        ids.ADMIN_USER_ADD: 1, ids.ADMIN_USER_NEW_NAME: "eve",
        ids.ADMIN_USER_NEW_ROLE: "admin", ids.ADMIN_USER_NEW_PASSWORD: "eve's long password"})
    assert response.status_code == 204
    assert admin.store.get_user("eve") is None
    assert "needs a link from your clinic" in admin.page("/admin")


# ----------------------------------------------------------------------------- children


def test_an_admin_adds_a_child(admin: Site) -> None:
    out = admin.result(ids.ADMIN_CHILDREN_TABLE, f"{ids.ADMIN_CHILD_ADD}.n_clicks", {
        ids.ADMIN_CHILD_ADD: 1, ids.ADMIN_CHILD_PSEUDONYM: "c-0417",
        ids.ADMIN_CHILD_NAME: "Mia"})
    assert "Added child c-0417 (Mia)." in text(out, ids.ADMIN_CHILDREN_FEEDBACK)
    assert "c-0417" in text(out, ids.ADMIN_CHILDREN_TABLE)
    option = {"label": "Mia (c-0417)", "value": "c-0417"}
    assert option in out[ids.LINKS_CHILD]["options"]
    assert option in out[ids.ADMIN_AUDIT_CHILD]["options"]
    assert ("ada", "add child", "c-0417", "with a display name") in admin.audit()
    out = admin.result(ids.ADMIN_CHILDREN_TABLE, f"{ids.ADMIN_CHILD_ADD}.n_clicks", {
        ids.ADMIN_CHILD_ADD: 2, ids.ADMIN_CHILD_PSEUDONYM: "c-0417",
        ids.ADMIN_CHILD_NAME: "Other"})
    assert "Pseudonym: 'c-0417' exists already" in text(out, ids.ADMIN_CHILDREN_FEEDBACK)
    assert [c.display_name for c in admin.store.children() if c.pseudonym == "c-0417"] == ["Mia"]


# ----------------------------------------------------------------------------- family links


def _create_link(site: Site, child: str = "c-a11", client: Any = None) -> tuple[Any, str]:
    response = site.call(ids.LINKS_TABLE, f"{ids.LINKS_CREATE}.n_clicks", {
        ids.LINKS_CREATE: 1, ids.LINKS_CHILD: child, ids.LINKS_EXPIRES: "7d"}, client)
    if response.status_code != 200:
        return response, ""
    match = re.search(r"http://localhost/family/link/[A-Za-z0-9_.-]+",
                      json.dumps(response.get_json()))
    return response, match.group(0) if match else ""


def test_a_family_link_is_shown_once_and_opens_the_family_page(admin: Site) -> None:
    response, url = _create_link(admin)
    assert url, "the link is in the answer"
    out = response.get_json()["response"]
    assert "shown only this once" in text(out, ids.LINKS_ONCE)
    token = url.rsplit("/", 1)[1]
    (link,) = admin.store.family_links("c-a11")
    assert link.token_hash == token_hash(token)
    assert ("ada", "create family link", "c-a11") in [a[:3] for a in admin.audit()]
    assert token not in json.dumps(admin.audit()), "the audit keeps no token"
    again = admin.result(ids.LINKS_TABLE, f"{ids.LINKS_CHILD}.value",
                         {ids.LINKS_CHILD: "c-a11", ids.LINKS_EXPIRES: "7d"})
    assert token not in json.dumps(again)
    assert again[ids.LINKS_ONCE]["children"] is None
    assert "active" in text(again, ids.LINKS_TABLE)
    assert token not in admin.page("/admin"), "never shown again"
    family = admin.new_client()
    assert family.get(url.replace("http://localhost", "")).headers["Location"] == "/family"
    assert "Amara" in admin.page("/family", family)


def test_a_revoked_link_stops_working(admin: Site) -> None:
    _, url = _create_link(admin)
    (link,) = admin.store.family_links("c-a11")
    out = admin.result(ids.LINKS_TABLE, f"{revoke_id(link.id)}.n_clicks",
                       {ids.LINKS_REVOKE: {link.id: 1}, ids.LINKS_CHILD: "c-a11"})
    assert f"Revoked link {link.id} of c-a11" in text(out, ids.LINKS_FEEDBACK)
    assert "revoked" in text(out, ids.LINKS_TABLE)
    assert ("ada", "revoke family link", "c-a11", f"link {link.id}") in admin.audit()
    family = admin.new_client()
    assert family.get(url.replace("http://localhost", "")).headers["Location"].endswith(
        "/family?ended=1")


def test_a_therapist_makes_and_revokes_family_links_but_nothing_else(site: Site) -> None:
    site.sign_in("anna")
    response, url = _create_link(site, "c-b0b")
    assert url
    (link,) = site.store.family_links("c-b0b")
    assert link.created_by == "anna"
    out = site.result(ids.LINKS_TABLE, f"{revoke_id(link.id)}.n_clicks",
                      {ids.LINKS_REVOKE: {link.id: 1}})
    assert "Revoked" in text(out, ids.LINKS_FEEDBACK)
    assert ("anna", "revoke family link", "c-b0b", f"link {link.id}") in site.audit()


# ----------------------------------------------------------------------------- wall screens


def test_a_kiosk_link_signs_a_wall_in_until_it_is_revoked(admin: Site) -> None:
    make = f"{ids.ADMIN_KIOSK_SHOW}.n_clicks"
    out = admin.result(ids.ADMIN_KIOSK_RESULT, make, {ids.ADMIN_KIOSK_SHOW: 1,
                                                      ids.ADMIN_KIOSK_ROOM: "room-2",
                                                      ids.ADMIN_KIOSK_DAYS: 30})
    (link,) = admin.store.kiosk_links()
    assert (link.room, link.created_by) == ("room-2", "ada")
    assert round((link.expires - link.created) / 86400) == 30
    url = re.search(r"http://localhost(/wall/room-2\?k=[^\"]+)", json.dumps(out)).group(1)
    assert link.id in text(out, ids.ADMIN_KIOSK_TABLE)
    assert ("ada", "create kiosk link", None) in [a[:3] for a in admin.audit()]
    wall = admin.new_client()
    assert wall.get(url).headers["Location"] == "/wall/room-2"
    assert "data-live-room" in admin.page("/wall/room-2", client=wall)

    revoke = f"{revoke_id(link.id, ids.ADMIN_KIOSK_REVOKE)}.n_clicks"
    out = admin.result(ids.ADMIN_KIOSK_RESULT, revoke, {ids.ADMIN_KIOSK_REVOKE: {link.id: 1}})
    assert f"Revoked wall-screen link {link.id} of room-2" in text(out, ids.ADMIN_KIOSK_RESULT)
    assert "revoked" in text(out, ids.ADMIN_KIOSK_TABLE)
    assert ("ada", "revoke kiosk link", None, f"link {link.id} for room-2") in admin.audit()
    body = admin.page("/wall/room-2", client=wall)
    assert "data-live-room" not in body, "the open wall is signed out on its next request"
    assert wall.get(url).status_code == 403, "and the link does not sign it in again"

    out = admin.result(ids.ADMIN_KIOSK_RESULT, make, {ids.ADMIN_KIOSK_SHOW: 2,
                                                      ids.ADMIN_KIOSK_ROOM: "room-9"})
    assert "Room: choose a room from the list" in json.dumps(out)


# ----------------------------------------------------------------------------- exercises


def test_clinic_exercises_are_added_loaded_and_edited_built_ins_stay(admin: Site) -> None:
    form = {ids.ADMIN_EXERCISE_SAVE: 1, ids.ADMIN_EXERCISE_KEY: "reach-high-foam",
            ids.ADMIN_EXERCISE_NAME: "Reach high on foam", ids.ADMIN_EXERCISE_DOMAIN: "standing",
            ids.ADMIN_EXERCISE_REPS: 6, ids.ADMIN_EXERCISE_PROFILE: "reach"}
    save = f"{ids.ADMIN_EXERCISE_SAVE}.n_clicks"
    out = admin.result(ids.ADMIN_EXERCISES_TABLE, save, form)
    assert "Added exercise reach-high-foam" in text(out, ids.ADMIN_EXERCISES_FEEDBACK)
    assert {"label": "Reach high on foam (reach-high-foam)", "value": "reach-high-foam"} in \
        out[ids.ADMIN_EXERCISE_EDIT]["options"]
    loaded = admin.result(ids.ADMIN_EXERCISE_KEY, f"{ids.ADMIN_EXERCISE_EDIT}.value",
                          {ids.ADMIN_EXERCISE_EDIT: "reach-high-foam"})
    assert loaded[ids.ADMIN_EXERCISE_REPS]["value"] == 6
    assert admin.call(ids.ADMIN_EXERCISE_KEY, f"{ids.ADMIN_EXERCISE_EDIT}.value",
                      {ids.ADMIN_EXERCISE_EDIT: "stand-foam-pad"}).status_code == 204
    out = admin.result(ids.ADMIN_EXERCISES_TABLE, save, {**form, ids.ADMIN_EXERCISE_REPS: 9})
    assert "Saved exercise reach-high-foam" in text(out, ids.ADMIN_EXERCISES_FEEDBACK)
    before = admin.store.exercises()
    out = admin.result(ids.ADMIN_EXERCISES_TABLE, save,
                       {**form, ids.ADMIN_EXERCISE_KEY: "stand-foam-pad"})
    assert "Key: 'stand-foam-pad' is a built-in DMI exercise" in \
        text(out, ids.ADMIN_EXERCISES_FEEDBACK)
    assert admin.store.exercises() == before
    assert [a[1] for a in admin.audit() if "exercise" in a[1]] == ["edit exercise",
                                                                  "add exercise"]


# ----------------------------------------------------------------------------- audit log


def test_the_audit_log_filters_by_child(admin: Site) -> None:
    admin.store.audit("anna", "view replay", "c-b0b", "s-1")
    admin.store.audit("anna", "view replay", "c-a11", "s-2")
    out = admin.result(ids.ADMIN_AUDIT_TABLE, f"{ids.ADMIN_AUDIT_CHILD}.value",
                       {ids.ADMIN_AUDIT_CHILD: "c-b0b", ids.ADMIN_AUDIT_LIMIT: 100})
    body = text(out, ids.ADMIN_AUDIT_TABLE)
    assert "Zeynep" in body
    assert "s-1" in body
    assert "s-2" not in body
    assert "sign-in" not in body
    out = admin.result(ids.ADMIN_AUDIT_TABLE, f"{ids.ADMIN_AUDIT_REFRESH}.n_clicks",
                       {ids.ADMIN_AUDIT_REFRESH: 1, ids.ADMIN_AUDIT_LIMIT: 100})
    assert "s-2" in text(out, ids.ADMIN_AUDIT_TABLE)
    assert "sign-in" in text(out, ids.ADMIN_AUDIT_TABLE)


# ----------------------------------------------------------------------------- the others


FORGED: dict[str, Any] = {
    ids.ADMIN_USER_ADD: 1, ids.ADMIN_USER_DISABLE: 1, ids.ADMIN_USER_ENABLE: 1,
    ids.ADMIN_USER_SET_ROLE: 1, ids.ADMIN_USER_RESET: 1,
    ids.ADMIN_USER_NEW_NAME: "mallory", ids.ADMIN_USER_NEW_ROLE: "admin",
    ids.ADMIN_USER_NEW_PASSWORD: "mallory's password", ids.ADMIN_USER_TARGET: "ada",
    ids.ADMIN_USER_ROLE: "therapist", ids.ADMIN_USER_PASSWORD: "mallory's password",
    ids.ADMIN_CHILD_ADD: 1, ids.ADMIN_CHILD_PSEUDONYM: "c-evil", ids.ADMIN_CHILD_NAME: "Eve",
    ids.LINKS_CREATE: 1, ids.LINKS_CHILD: "c-b0b", ids.LINKS_EXPIRES: "30d",
    ids.ADMIN_KIOSK_SHOW: 1, ids.ADMIN_KIOSK_ROOM: "room-1", ids.ADMIN_KIOSK_DAYS: 30,
    ids.ADMIN_EXERCISE_EDIT: "clinic-ex", ids.ADMIN_EXERCISE_SAVE: 1,
    ids.ADMIN_EXERCISE_KEY: "evil-ex", ids.ADMIN_EXERCISE_NAME: "Evil",
    ids.ADMIN_EXERCISE_DOMAIN: "standing", ids.ADMIN_EXERCISE_REPS: 3,
    ids.ADMIN_EXERCISE_PROFILE: "reach",
    ids.ADMIN_AUDIT_CHILD: "c-b0b", ids.ADMIN_AUDIT_LIMIT: 100, ids.ADMIN_AUDIT_REFRESH: 1,
}


def forge_all(site: Site, client: Any, *, skip_links: bool = False) -> list[tuple[str, int]]:
    """Every admin callback, once per input as the one that changed, with values that
    would work for an admin (an active link to revoke included)."""
    link = next(k for k in site.store.family_links("c-b0b") if not k.revoked)
    wall = next(k for k in site.store.kiosk_links() if not k.revoked)
    values = {**FORGED, ids.LINKS_REVOKE: {link.id: 1}, ids.ADMIN_KIOSK_REVOKE: {wall.id: 1}}
    answers = []
    for dep in site.deps:
        if skip_links and ids.LINKS_TABLE in dep["output"]:
            continue
        for spec in dep["inputs"]:
            kind = json.loads(spec["id"])["type"] if spec["id"].startswith("{") else None
            changed = (f"{revoke_id(next(iter(values[kind])), kind)}.n_clicks" if kind
                       else f"{spec['id']}.{spec['property']}")
            response = client.post("/_dash-update-component",
                                   json=payload(dep, values, changed))
            answers.append((f"{dep['output']} ← {changed}", response.status_code,
                            response.get_data(as_text=True)))
    return [(name, status) for name, status, body in answers if status != 204 or body]


def _family_client(site: Site, child: str) -> tuple[Any, int]:
    token, digest = new_token(site.settings.secret_key)
    link = site.store.add_family_link(child, digest, time.time() + 3600, "test")
    client = site.new_client()
    assert client.get(f"/family/link/{token}").headers["Location"] == "/family"
    return client, link.id


def _kiosk_client(site: Site, room: str) -> Any:
    client = site.new_client()
    token, _ = kiosk_links.create(site.store, site.settings.secret_key, room, created_by="test",
                                  now=time.time())
    assert client.get(f"/wall/{room}?k={token}").status_code == 302
    return client


@pytest.fixture
def armed(site: Site) -> Site:
    """A clinic exercise to load, an active link of child B and a wall link to revoke."""
    site.store.upsert_exercise("clinic-ex", "Clinic exercise", "standing", 4, "reach")
    site.store.add_kiosk_link("w-armed", "room-1", time.time() + 3600, "test")
    token, digest = new_token(site.settings.secret_key)
    site.store.add_family_link("c-b0b", digest, time.time() + 3600, "test")
    return site


def test_the_forgery_would_work_for_an_admin(armed: Site) -> None:
    """So that the refusals below refuse something real."""
    armed.sign_in("ada")
    accepted = forge_all(armed, armed.client)
    assert len(accepted) >= 10
    assert armed.store.get_user("mallory") is not None


@pytest.mark.parametrize("who", ["anonymous", "therapist", "family", "kiosk", "disabled admin"])
def test_everyone_else_gets_nothing_from_any_admin_callback(armed: Site, who: str) -> None:
    if who == "anonymous":
        client = armed.new_client()
    elif who == "therapist":
        client = armed.new_client()
        armed.sign_in("anna", client=client)
    elif who == "family":
        client, _ = _family_client(armed, "c-b0b")
    elif who == "kiosk":
        client = _kiosk_client(armed, "room-1")
    else:
        client = armed.new_client()
        armed.sign_in("ada", client=client)
        armed.store.add_user("root", "admin", hash_password(PASSWORD))
        armed.store.set_user_disabled("ada", True)
    before = armed.snapshot()
    answered = forge_all(armed, client, skip_links=who == "therapist")
    assert answered == [], f"{who} got answers from {answered}"
    assert armed.snapshot() == before, f"{who} changed something"
    assert len(armed.deps) == 7, "every admin callback was forged"

