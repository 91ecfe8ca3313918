"""The store's sign-ins, sign-in throttle and wall-screen links, on SQLite and PostgreSQL,
and migration 3 bringing an older store to them."""

from __future__ import annotations

import pytest

from store import Store, open_store
from store.errors import Conflict, NotFound, UnknownUser
from store.migrations import MIGRATIONS
from tests.store.conftest import postgres_server, store, store_url  # noqa: F401 - fixtures


@pytest.fixture
def people(store: Store) -> Store:  # noqa: F811 - the fixture imported above
    store.add_user("anna", "therapist", "scrypt$hash-a")
    store.add_user("ben", "therapist", "scrypt$hash-b")
    return store


def test_a_sign_in_is_stored_until_it_is_revoked(people: Store) -> None:
    row = people.start_sign_in("anna", "h1", "10.0.0.7")
    assert (row.username, row.address, row.revoked) == ("anna", "10.0.0.7", False)
    assert people.get_sign_in("h1") == row
    assert people.get_sign_in("nope") is None
    people.touch_sign_in("h1")
    assert people.get_sign_in("h1").last_seen >= row.last_seen
    assert people.revoke_sign_in("h1")
    assert not people.revoke_sign_in("h1"), "revoked once"
    assert people.get_sign_in("h1").revoked
    with pytest.raises(UnknownUser):
        people.start_sign_in("zed", "h2")
    with pytest.raises(Conflict):
        people.start_sign_in("ben", "h1")


@pytest.mark.parametrize("change", ["new password", "disabled"])
def test_an_account_change_revokes_every_sign_in_of_that_account(people: Store,
                                                                 change: str) -> None:
    for sign_in in ("a1", "a2"):
        people.start_sign_in("anna", sign_in)
    people.start_sign_in("ben", "b1")
    if change == "new password":
        people.set_password_hash("anna", "scrypt$new")
    else:
        people.set_user_disabled("anna", True)
    assert [s.revoked for s in people.sign_ins("anna")] == [True, True]
    assert not people.get_sign_in("b1").revoked
    people.set_user_disabled("anna", False)
    assert all(s.revoked for s in people.sign_ins("anna")), "enabling does not restore them"
    assert people.revoke_sign_ins("ben") == 1


def test_the_throttle_counts_blocks_and_forgets(people: Store) -> None:
    def doubling(failures: int) -> float:
        return 0.0 if failures < 3 else 2.0 ** (failures - 3)

    for t in (100.0, 101.0):
        row = people.throttle_failed("pair:anna|1", now=t, forget_after=60, delay=doubling)
    assert (row.failures, row.blocked_until) == (2, 0.0)
    row = people.throttle_failed("pair:anna|1", now=102.0, forget_after=60, delay=doubling)
    assert (row.failures, row.blocked_until) == (3, 103.0)
    row = people.throttle_failed("pair:anna|1", now=103.0, forget_after=60, delay=doubling)
    assert (row.failures, row.blocked_until) == (4, 105.0)
    people.throttle_failed("addr:1", now=103.0, forget_after=60, delay=doubling)
    assert {r.key for r in people.throttle_rows(["pair:anna|1", "addr:1", "x"])} == \
        {"pair:anna|1", "addr:1"}
    row = people.throttle_failed("pair:anna|1", now=200.0, forget_after=60, delay=doubling)
    assert (row.failures, row.blocked_until) == (1, 0.0), "quiet for a minute: forgotten"
    assert people.throttle_forget(before=150.0) == 1, "addr:1 was quiet since 103"
    people.throttle_clear("pair:anna|1")
    assert people.throttle_rows(["pair:anna|1", "addr:1"]) == []


def test_wall_links_are_stored_listed_and_revoked_one_by_one(people: Store) -> None:
    one = people.add_kiosk_link("k1", "room-1", 2_000_000_000.0, "ada")
    two = people.add_kiosk_link("k2", "room-2", 2_000_000_000.0, "ada")
    assert people.kiosk_link("k1") == one
    assert {k.id for k in people.kiosk_links()} == {"k1", "k2"}
    assert people.kiosk_links("room-2") == [two]
    with pytest.raises(Conflict):
        people.add_kiosk_link("k1", "room-1", 2_000_000_000.0, "ada")
    revoked = people.revoke_kiosk_link("k1")
    assert revoked.revoked
    assert not revoked.is_valid(0.0)
    assert people.revoke_kiosk_link("k1").revoked_at == revoked.revoked_at
    assert people.kiosk_link("k2").is_valid(1_000_000_000.0)
    assert not people.kiosk_link("k2").is_valid(2_000_000_000.0), "expired"
    with pytest.raises(NotFound, match="no wall-screen link 'k9'"):
        people.revoke_kiosk_link("k9")


def test_migration_3_adds_the_tables_to_an_older_store(store_url: str) -> None:  # noqa: F811
    with open_store(store_url, migrations=MIGRATIONS[:2]) as old:
        old.add_user("anna", "therapist", "scrypt$hash")
        assert old.schema_version == 2
    with open_store(store_url) as upgraded:
        assert upgraded.schema_version >= 3
        upgraded.start_sign_in("anna", "h1")
        upgraded.add_kiosk_link("k1", "room-1", 2_000_000_000.0, "ada")
        upgraded.throttle_failed("addr:1", now=1.0, forget_after=60, delay=lambda n: 0.0)
        assert upgraded.get_sign_in("h1").username == "anna"
