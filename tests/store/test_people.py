from __future__ import annotations

import time

import pytest

from store import Store
from store.catalog import DEFAULT_EXERCISES
from store.errors import (
    Conflict,
    DuplicateUser,
    ExerciseLocked,
    InvalidData,
    UnknownChild,
    UnknownFamilyLink,
    UnknownUser,
)
from tests.store.factories import Events

# ----------------------------------------------------------------------------- children


def test_children_round_trip_and_rename(store: Store) -> None:
    store.add_child("c-2", "Bo")
    store.add_child("c-1", "Alma")

    renamed = store.add_child("c-2", "Bo K.")

    assert renamed.display_name == "Bo K."
    assert [(c.pseudonym, c.display_name) for c in store.children()] == [
        ("c-1", "Alma"),
        ("c-2", "Bo K."),
    ]


def test_naming_a_child_first_seen_in_a_session_keeps_its_sessions(store: Store) -> None:
    store.add_child("c-5", "")  # added by an admin without a name
    store.apply_event("site", "room-1", Events().start(child="c-5"))

    store.add_child("c-5", "Noor")

    assert [(c.pseudonym, c.label) for c in store.children()] == [("c-5", "Noor")]
    assert [s.id for s in store.sessions(child="c-5")] == ["s-1"]


# ----------------------------------------------------------------------------- users


def test_users_round_trip(store: Store) -> None:
    before = time.time()
    added = store.add_user("ana", "therapist", "pbkdf2:sha256$abc")

    got = store.get_user("ana")

    assert got == added
    assert (got.username, got.role, got.password_hash, got.disabled) == (
        "ana", "therapist", "pbkdf2:sha256$abc", False,
    )  # fmt: skip
    assert got.created >= before - 1
    assert store.get_user("nobody") is None


def test_users_can_be_disabled_re_enabled_and_change_password_and_role(store: Store) -> None:
    store.add_user("ben", "supervisor", "h1")

    assert store.set_user_disabled("ben", True).disabled is True
    assert store.get_user("ben").disabled is True  # type: ignore[union-attr]
    assert store.set_user_disabled("ben", False).disabled is False
    assert store.set_password_hash("ben", "h2").password_hash == "h2"
    assert store.set_user_role("ben", "admin").role == "admin"
    assert store.get_user("ben") == store.users()[0]


def test_duplicate_usernames_are_refused(store: Store) -> None:
    store.add_user("ana", "therapist", "h")

    with pytest.raises(DuplicateUser, match="ana"):
        store.add_user("ana", "admin", "other")

    assert store.get_user("ana").role == "therapist"  # type: ignore[union-attr]


def test_unknown_roles_and_users_are_refused(store: Store) -> None:
    with pytest.raises(InvalidData, match="janitor"):
        store.add_user("x", "janitor", "h")
    with pytest.raises(UnknownUser, match="ghost"):
        store.set_user_disabled("ghost", True)
    with pytest.raises(UnknownUser):
        store.set_password_hash("ghost", "h")
    with pytest.raises(InvalidData):
        store.add_user("", "admin", "h")
    assert store.users() == []


# ----------------------------------------------------------------------------- family links


def test_family_links_round_trip_and_revoke(store: Store) -> None:
    store.add_child("c-1", "Alma")
    expires = time.time() + 7 * 86400
    link = store.add_family_link("c-1", "sha256:aaa", expires, "ana")

    found = store.family_link_by_hash("sha256:aaa")

    assert found == link
    assert (found.child, found.created_by, found.expires, found.revoked) == (
        "c-1", "ana", expires, False,
    )  # fmt: skip
    assert found.is_valid(time.time())
    assert not found.is_valid(expires + 1)

    revoked = store.revoke_family_link(link.id)
    assert revoked.revoked
    assert not revoked.is_valid(time.time())
    assert store.family_link_by_hash("sha256:aaa") == revoked
    assert store.revoke_family_link(link.id).revoked_at == revoked.revoked_at  # first one kept
    assert store.family_link_by_hash("sha256:bbb") is None


def test_family_links_list_per_child(store: Store) -> None:
    store.add_child("c-1", "A")
    store.add_child("c-2", "B")
    store.add_family_link("c-1", "h1", time.time() + 60, "ana")
    store.add_family_link("c-2", "h2", time.time() + 60, "ana")
    store.add_family_link("c-1", "h3", time.time() + 60, "ben")

    assert sorted(link.token_hash for link in store.family_links("c-1")) == ["h1", "h3"]
    assert len(store.family_links()) == 3


def test_family_links_need_a_known_child_and_a_unique_hash(store: Store) -> None:
    with pytest.raises(UnknownChild, match="c-404"):
        store.add_family_link("c-404", "h", time.time() + 60, "ana")
    store.add_child("c-1", "A")
    store.add_family_link("c-1", "h", time.time() + 60, "ana")
    with pytest.raises(Conflict):
        store.add_family_link("c-1", "h", time.time() + 60, "ana")
    with pytest.raises(UnknownFamilyLink):
        store.revoke_family_link(9999)


# ----------------------------------------------------------------------------- audit


def test_audit_log_newest_first_filtered_by_child(store: Store) -> None:
    store.audit("ana", "view-replay", "c-1", "session s-1")
    store.audit("ben", "view-replay", "c-2")
    store.audit("fam:7", "view-family", "c-1")
    store.audit("admin", "add-user", detail="ana")

    log = store.audit_log()
    assert [(a.who, a.action, a.child) for a in log] == [
        ("admin", "add-user", None),
        ("fam:7", "view-family", "c-1"),
        ("ben", "view-replay", "c-2"),
        ("ana", "view-replay", "c-1"),
    ]
    assert log[-1].detail == "session s-1"
    assert [a.who for a in store.audit_log(child="c-1")] == ["fam:7", "ana"]
    assert [a.who for a in store.audit_log(limit=2)] == ["admin", "fam:7"]


# ----------------------------------------------------------------------------- exercises


def test_the_default_dmi_catalog_is_there(store: Store) -> None:
    catalog = {e.key: e for e in store.exercises()}

    assert len(catalog) == len(DEFAULT_EXERCISES) >= 15
    assert catalog["sit-to-stand-foam"].name == "Sit-to-stand on foam"
    assert catalog["squat-ladder-rungs"].default_reps > 0
    for key in ("weight-shift-lateral-foam", "reach-across-midline", "step-onto-block",
                "stand-foam-pad", "kneel-to-stand"):  # fmt: skip
        assert key in catalog
    assert not any(e.editable for e in catalog.values())
    domains = [e.domain for e in store.exercises()]
    assert domains.index("sitting") < domains.index("standing") < domains.index("gait")


def test_a_clinic_adds_and_edits_its_own_exercise(store: Store) -> None:
    store.upsert_exercise("wobble-cushion", "Stand on wobble cushion", "standing", 3, "static-hold")

    edited = store.upsert_exercise(
        "wobble-cushion", "Stand on wobble cushion, eyes closed", "standing", 2, "static-hold"
    )

    assert edited.editable
    assert {e.key: e for e in store.exercises()}["wobble-cushion"] == edited
    ev = Events()
    store.add_child("c-17", "")
    store.apply_event("site", "room", ev.start())
    store.apply_event("site", "room", ev.set_start("a", exercise="wobble-cushion"))
    assert store.sets("s-1")[0].exercise == "wobble-cushion"


def test_built_in_exercises_cannot_be_changed(store: Store) -> None:
    with pytest.raises(ExerciseLocked, match="sit-to-stand-foam"):
        store.upsert_exercise("sit-to-stand-foam", "Something else", "standing", 1, "x")

    catalog = {e.key: e for e in store.exercises()}
    assert catalog["sit-to-stand-foam"].name == "Sit-to-stand on foam"


def test_exercise_values_are_checked(store: Store) -> None:
    with pytest.raises(InvalidData, match="default_reps"):
        store.upsert_exercise("x", "X", "standing", -1, "step")
    with pytest.raises(InvalidData, match="name"):
        store.upsert_exercise("x", "", "standing", 1, "step")
