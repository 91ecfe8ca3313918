"""Admin actions without Dash: each one changes the store and is audited; bad form input
gets a message naming the field and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from access import Principal
from access.passwords import hash_password, verify_password
from dashboard import admin_actions as aa
from dashboard import kiosk_links
from dashboard.family_links import token_hash
from store import Store, open_store

SECRET = "test-secret-key"
ADMIN = "ada"
PASSWORD = "correct horse battery"
BASE = "https://dmi.clinic.example/"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(tmp_path / "db.sqlite")
    st.add_user(ADMIN, "admin", hash_password(PASSWORD))
    st.add_user("anna", "therapist", hash_password(PASSWORD))
    st.add_child("c-a11", "Amara")
    st.add_child("c-b0b", "Zeynep")
    yield st
    st.close()


def snapshot(st: Store) -> tuple[Any, ...]:
    return (st.users(), st.children(), st.exercises(), st.family_links(), st.kiosk_links(),
            st.audit_log(limit=1000))


def last_audit(st: Store) -> tuple[str, str, str | None, str]:
    row = st.audit_log(limit=1)[0]
    return row.who, row.action, row.child, row.detail


def add_user(st: Store, **form: Any) -> str:
    return aa.add_user(st, ADMIN, **{"username": "bob", "role": "therapist",
                                      "password": "a long password", **form})


def save_exercise(st: Store, **form: Any) -> str:
    return aa.save_exercise(st, ADMIN, **{"key": "reach-high-foam", "name": "Reach high on foam",
                                          "domain": "standing", "default_reps": 6,
                                          "signal_profile": "reach", **form})


# ----------------------------------------------------------------------------- refusals


REFUSED: list[tuple[str, Callable[[Store], Any], str]] = [
    ("empty user name", lambda st: add_user(st, username="  "), "User name: is required"),
    ("space in user name", lambda st: add_user(st, username="bo b"),
     "User name: 'bo b' may use only letters"),
    ("user name not text", lambda st: add_user(st, username=["bob"]),
     "User name: expected text"),
    ("unknown role", lambda st: add_user(st, role="root"),
     "Role: choose one of therapist, supervisor, admin (got 'root')"),
    ("no role", lambda st: add_user(st, role=None), "Role: choose one of"),
    ("short password", lambda st: add_user(st, password="short"),
     "Password: a password needs at least 10 characters"),
    ("no password", lambda st: add_user(st, password=None), "Password: is required"),
    ("taken, other case", lambda st: add_user(st, username="Anna"),
     "User name: 'Anna' is taken already (by 'anna')"),
    ("disable unknown", lambda st: aa.set_user_disabled(st, ADMIN, username="zed",
                                                        disabled=True),
     "Account: there is no account 'zed'"),
    ("disable yourself", lambda st: aa.set_user_disabled(st, ADMIN, username=ADMIN,
                                                         disabled=True),
     "Account: you cannot disable your own account"),
    ("reset, short", lambda st: aa.reset_password(st, ADMIN, username="anna", password="x"),
     "New password: a password needs at least 10 characters"),
    ("reset, no account", lambda st: aa.reset_password(st, ADMIN, username=None,
                                                       password=PASSWORD),
     "Account: is required"),
    ("role unchanged", lambda st: aa.change_role(st, ADMIN, username="anna", role="therapist"),
     "New role: anna is a therapist already"),
    ("own role", lambda st: aa.change_role(st, ADMIN, username=ADMIN, role="therapist"),
     "Account: you cannot change your own role"),
    ("bad role", lambda st: aa.change_role(st, ADMIN, username="anna", role="owner"),
     "New role: choose one of"),
    ("pseudonym with space", lambda st: aa.add_child(st, ADMIN, pseudonym="c 1",
                                                     display_name=""),
     "Pseudonym: 'c 1' may use only letters, digits"),
    ("no pseudonym", lambda st: aa.add_child(st, ADMIN, pseudonym="", display_name="Mia"),
     "Pseudonym: is required"),
    ("child exists", lambda st: aa.add_child(st, ADMIN, pseudonym="c-a11", display_name="X"),
     "Pseudonym: 'c-a11' exists already"),
    ("long display name", lambda st: aa.add_child(st, ADMIN, pseudonym="c-9",
                                                  display_name="x" * 201),
     "Display name: is longer than 200 characters"),
    ("link, unknown child", lambda st: aa.create_family_link(
        st, ADMIN, secret_key=SECRET, child="c-zzz", expires="30d", base_url=BASE,
        now=time.time()), "Child: choose a child from the list"),
    ("link, odd expiry", lambda st: aa.create_family_link(
        st, ADMIN, secret_key=SECRET, child="c-a11", expires="9999w", base_url=BASE,
        now=time.time()), "Works for: choose one of 12h, 7d, 30d, 90d (got '9999w')"),
    ("link, child not theirs", lambda st: aa.create_family_link(
        st, "anna", secret_key=SECRET, child="c-b0b", expires="7d", base_url=BASE,
        now=time.time(), may_see=lambda c: c == "c-a11"), "Child: choose a child"),
    ("revoke unknown", lambda st: aa.revoke_family_link(st, ADMIN, link_id=99),
     "Link: there is no family link 99"),
    ("revoke as text", lambda st: aa.revoke_family_link(st, ADMIN, link_id="1"),
     "Link: there is no family link '1'"),
    ("kiosk, odd days", lambda st: aa.kiosk_link(
        st, ADMIN, secret_key=SECRET, room="room-1", rooms=["room-1"], base_url=BASE,
        now=time.time(), days=0), "Works for (days): 0 is not between 1 and 3650"),
    ("kiosk, unknown room", lambda st: aa.kiosk_link(
        st, ADMIN, secret_key=SECRET, room="room-9", rooms=["room-1"], base_url=BASE,
        now=time.time()), "Room: choose a room from the list"),
    ("exercise, built-in", lambda st: save_exercise(st, key="stand-foam-pad"),
     "Key: 'stand-foam-pad' is a built-in DMI exercise and cannot be changed"),
    ("exercise, bad key", lambda st: save_exercise(st, key="Reach High"),
     "Key: 'Reach High' may use only lowercase letters"),
    ("exercise, no name", lambda st: save_exercise(st, name=""), "Name: is required"),
    ("exercise, domain", lambda st: save_exercise(st, domain="flying"),
     "Domain: choose one of sitting, kneeling"),
    ("exercise, reps text", lambda st: save_exercise(st, default_reps="many"),
     "Default reps: enter a whole number from 0 to 999"),
    ("exercise, reps fraction", lambda st: save_exercise(st, default_reps=2.5),
     "Default reps: enter a whole number"),
    ("exercise, reps too many", lambda st: save_exercise(st, default_reps=5000),
     "Default reps: 5000 is not between 0 and 999"),
    ("exercise, profile", lambda st: save_exercise(st, signal_profile="magic"),
     "Signal profile: choose one of vertical-transfer"),
]


@pytest.mark.parametrize(("case", "action", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_bad_input_names_the_field_and_changes_nothing(store: Store, case: str,
                                                       action: Callable[[Store], Any],
                                                       message: str) -> None:
    before = snapshot(store)
    with pytest.raises(aa.FormError) as err:
        action(store)
    assert str(err.value).startswith(message), str(err.value)
    assert snapshot(store) == before


def test_the_last_enabled_admin_stays(store: Store) -> None:
    store.add_user("root", "admin", hash_password(PASSWORD))
    aa.set_user_disabled(store, ADMIN, username="root", disabled=True)
    store.set_user_role("anna", "admin")
    aa.change_role(store, "anna", username=ADMIN, role="supervisor")
    before = snapshot(store)
    with pytest.raises(aa.FormError, match="'anna' is the last enabled admin"):
        aa.set_user_disabled(store, ADMIN, username="anna", disabled=True)
    with pytest.raises(aa.FormError, match="'anna' is the last enabled admin"):
        aa.change_role(store, ADMIN, username="anna", role="therapist")
    assert snapshot(store) == before


# ----------------------------------------------------------------------------- accounts


def test_add_user_stores_a_hash_that_signs_in_and_is_audited(store: Store) -> None:
    message = add_user(store, username=" bob ", role="supervisor")
    assert message.startswith("Added supervisor bob")
    user = store.get_user("bob")
    assert user is not None
    assert user.role == "supervisor"
    assert not user.disabled
    assert "a long password" not in user.password_hash
    assert verify_password("a long password", user.password_hash)
    assert last_audit(store) == (ADMIN, "add user", None, "bob as supervisor")


def test_disable_enable_reset_and_role_change_are_audited(store: Store) -> None:
    aa.set_user_disabled(store, ADMIN, username="anna", disabled=True)
    assert store.get_user("anna").disabled  # type: ignore[union-attr]
    assert last_audit(store) == (ADMIN, "disable user", None, "anna")
    aa.set_user_disabled(store, ADMIN, username="anna", disabled=False)
    assert not store.get_user("anna").disabled  # type: ignore[union-attr]
    assert last_audit(store) == (ADMIN, "enable user", None, "anna")
    aa.reset_password(store, ADMIN, username="anna", password="a brand new secret")
    assert verify_password("a brand new secret", store.get_user("anna").password_hash)  # type: ignore[union-attr]
    assert last_audit(store) == (ADMIN, "reset password", None, "anna")
    aa.change_role(store, ADMIN, username="anna", role="supervisor")
    assert store.get_user("anna").role == "supervisor"  # type: ignore[union-attr]
    assert last_audit(store) == (ADMIN, "change role", None, "anna: therapist → supervisor")


def test_who_may_act_follows_the_account_as_it_is_now(store: Store) -> None:
    admin = Principal(kind="user", name=ADMIN, role="admin")
    therapist = Principal(kind="user", name="anna", role="therapist")
    kiosk = Principal(kind="kiosk", name="wall room-1", role="kiosk",
                      rooms=frozenset({"room-1"}))
    family = Principal(kind="family", name="family-link-1", role="family",
                       children=frozenset({"c-a11"}))
    forged = Principal(kind="user", name="anna", role="admin")  # cookie says admin, store not
    assert aa.is_admin(admin, store)
    assert not any(aa.is_admin(p, store) for p in (therapist, kiosk, family, forged, None))
    assert aa.may_manage_links(therapist, store)
    assert not any(aa.may_manage_links(p, store) for p in (kiosk, family, None))
    store.set_user_disabled(ADMIN, True)
    assert not aa.is_admin(admin, store)
    store.set_user_disabled(ADMIN, False)
    store.set_user_role(ADMIN, "supervisor")
    assert not aa.is_admin(admin, store), "a demoted admin loses the page at once"


# ----------------------------------------------------------------------------- children


def test_add_child_is_audited_without_its_name(store: Store) -> None:
    assert aa.add_child(store, ADMIN, pseudonym="c-0417", display_name=" Mia ") == \
        "Added child c-0417 (Mia)."
    assert ("c-0417", "Mia") in [(c.pseudonym, c.display_name) for c in store.children()]
    who, action, child, detail = last_audit(store)
    assert (who, action, child) == (ADMIN, "add child", "c-0417")
    assert "Mia" not in detail
    assert aa.add_child(store, ADMIN, pseudonym="c-0418", display_name=None) == \
        "Added child c-0418."


# ----------------------------------------------------------------------------- family links


def test_a_family_link_is_shown_once_and_only_its_hash_is_stored(store: Store) -> None:
    now = time.time()
    created = aa.create_family_link(store, "anna", secret_key=SECRET, child="c-a11",
                                    expires="7d", base_url=BASE, now=now)
    assert created.url.startswith("https://dmi.clinic.example/family/link/")
    token = created.url.rsplit("/", 1)[1]
    (link,) = store.family_links("c-a11")
    assert link.token_hash == token_hash(token)
    assert token not in repr(store.family_links())
    assert link.expires == pytest.approx(now + 7 * 86400)
    assert link.created_by == "anna"
    assert "shown only this once" in created.message
    who, action, child, detail = last_audit(store)
    assert (who, action, child) == ("anna", "create family link", "c-a11")
    assert token not in detail


def test_links_list_their_state_and_revoke_once(store: Store) -> None:
    now = time.time()
    for expires in ("12h", "30d"):
        aa.create_family_link(store, ADMIN, secret_key=SECRET, child="c-a11",
                              expires=expires, base_url=BASE, now=now)
    aa.create_family_link(store, ADMIN, secret_key=SECRET, child="c-b0b", expires="90d",
                          base_url=BASE, now=now)
    short, long_ = sorted(store.family_links("c-a11"), key=lambda k: k.expires)
    assert aa.revoke_family_link(store, ADMIN, link_id=long_.id).startswith(
        f"Revoked link {long_.id} of c-a11")
    assert last_audit(store) == (ADMIN, "revoke family link", "c-a11", f"link {long_.id}")
    later = now + 13 * 3600
    states = {v.id: v.state for v in aa.visible_links(store, lambda c: True, "c-a11", later)}
    assert states == {short.id: "expired", long_.id: "revoked"}
    with pytest.raises(aa.FormError, match="revoked already"):
        aa.revoke_family_link(store, ADMIN, link_id=long_.id)
    mine = aa.visible_links(store, lambda c: c == "c-a11", None, now)
    assert {v.child for v in mine} == {"c-a11"}, "only the children this user may see"
    assert aa.visible_links(store, lambda c: c == "c-a11", "c-b0b", now) == []
    (other,) = store.family_links("c-b0b")
    with pytest.raises(aa.FormError, match="there is no family link"):
        aa.revoke_family_link(store, "anna", link_id=other.id, may_see=lambda c: c == "c-a11")
    assert not store.family_links("c-b0b")[0].revoked


# ----------------------------------------------------------------------------- wall screens


def test_kiosk_link_opens_one_room_until_it_expires_or_is_revoked(store: Store) -> None:
    devices = [SimpleNamespace(room="room-2"), SimpleNamespace(room=None),
               SimpleNamespace(room="Bad Room")]
    rooms = aa.known_rooms(("room-1",), devices)
    assert rooms == ["room-1", "room-2"]
    now = time.time()
    created = aa.kiosk_link(store, ADMIN, secret_key=SECRET, room="room-2", rooms=rooms,
                            base_url=BASE, now=now, days="7")
    assert created.url.startswith("https://dmi.clinic.example/wall/room-2?k=")
    token = created.url.split("?k=")[1]
    (link,) = store.kiosk_links()
    assert (link.room, link.created_by, link.expires) == ("room-2", ADMIN, now + 7 * 86400)
    assert last_audit(store)[:2] == (ADMIN, "create kiosk link")
    assert kiosk_links.open_link(store, SECRET, token, now=now) == link
    assert kiosk_links.open_link(store, "other-secret", token, now=now) is None
    assert kiosk_links.open_link(store, SECRET, token, now=now + 8 * 86400) is None, "expired"
    assert aa.revoke_kiosk_link(store, ADMIN, link_id=link.id).startswith(
        f"Revoked wall-screen link {link.id} of room-2")
    assert last_audit(store) == (ADMIN, "revoke kiosk link", None, f"link {link.id} for room-2")
    assert kiosk_links.open_link(store, SECRET, token, now=now) is None, "revoked"
    with pytest.raises(aa.FormError, match="revoked already"):
        aa.revoke_kiosk_link(store, ADMIN, link_id=link.id)
    with pytest.raises(aa.FormError, match="there is no wall-screen link 'nope'"):
        aa.revoke_kiosk_link(store, ADMIN, link_id="nope")


# ----------------------------------------------------------------------------- exercises


def test_clinic_exercises_are_added_and_edited_and_audited(store: Store) -> None:
    assert save_exercise(store, default_reps="6") == \
        "Added exercise reach-high-foam (Reach high on foam)."
    assert last_audit(store)[:2] == (ADMIN, "add exercise")
    assert save_exercise(store, name="Reach high, foam", default_reps=8.0) == \
        "Saved exercise reach-high-foam (Reach high, foam)."
    row = next(e for e in store.exercises() if e.key == "reach-high-foam")
    assert (row.name, row.default_reps, row.signal_profile, row.editable) == \
        ("Reach high, foam", 8, "reach", True)
    assert last_audit(store) == (ADMIN, "edit exercise", None,
                                 "reach-high-foam: Reach high, foam (standing, 8 reps, reach)")


# ----------------------------------------------------------------------------- audit log


@pytest.mark.parametrize(("child", "limit", "expected"), [
    ("c-a11", 500, ("c-a11", 500)), (None, 100, (None, 100)), ("", 7, (None, 100)),
    (["c-a11"], True, (None, 100)), ("c-a11", "2000", ("c-a11", 100)),
])
def test_audit_filter_takes_only_what_the_page_offers(child: Any, limit: Any,
                                                      expected: tuple[Any, int]) -> None:
    assert aa.audit_filter(child, limit) == expected


# ----------------------------------------------------------------------------- the CLI


def test_kiosk_link_cli_makes_lists_and_revokes_links(tmp_path: Path, store: Store,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from dmi_live import kiosk_cli
    from dmi_live.errors import UsageError
    from dmi_live.settings import Settings

    settings = Settings(data_dir=tmp_path, rooms=("room-1",), secret_key=SECRET)
    parser = argparse.ArgumentParser()
    kiosk_cli.configure(parser)

    def run(*args: str) -> tuple[str, str]:
        assert kiosk_cli.run(parser.parse_args(list(args)), settings, store) == 0
        return capsys.readouterr()

    out, err = run("room-1", "--base-url", BASE, "--days", "30")
    (link,) = store.kiosk_links()
    assert out.startswith("https://dmi.clinic.example/wall/room-1?k=")
    assert kiosk_links.open_link(store, SECRET, out.strip().split("?k=")[1],
                                 now=time.time()) == link
    assert round((link.expires - link.created) / 86400) == 30
    assert f"dmi-live kiosk-link --revoke {link.id}" in err
    audit = store.audit_log(limit=1)[0]
    assert (audit.who.startswith("cli:"), audit.action) == (True, "create kiosk link")
    out, err = run("gym-9")
    assert out.startswith("http://127.0.0.1:8050/wall/gym-9?k=")
    assert "'gym-9' is not in the settings' rooms" in err
    out, _ = run("--list", "room-1")
    assert out.split()[:3] == [link.id, "room-1", "active"]
    assert "gym-9" not in out
    out, _ = run("--revoke", link.id)
    assert out.strip() == f"revoked wall-screen link {link.id} of room-1"
    assert store.audit_log(limit=1)[0].action == "revoke kiosk link"
    assert "revoked" in run("--list")[0]
    with pytest.raises(UsageError, match="room 'Gym 9' must be lowercase"):
        kiosk_cli.run(parser.parse_args(["Gym 9"]), settings, store)
    with pytest.raises(UsageError, match="there is no wall-screen link 'nope'"):
        kiosk_cli.run(parser.parse_args(["--revoke", "nope"]), settings, store)
    with pytest.raises(SystemExit):
        parser.parse_args(["room-1", "--days", "0"])
