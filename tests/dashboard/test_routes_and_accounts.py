"""Who may open which page, and how passwords and sign-in throttling behave."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from access import Principal
from access.passwords import (
    PasswordError,
    check_password_rules,
    hash_password,
    verify_password,
)
from dashboard.auth import kiosk_token, read_kiosk_token
from dashboard.routes import resolve_page
from dashboard.throttle import Backoff

KIOSK_1 = Principal(kind="kiosk", name="wall room-1", role="kiosk", rooms=frozenset({"room-1"}))
THERAPIST = Principal(kind="user", name="anna", role="therapist")
FAMILY = Principal(kind="family", name="fam", role="family", rooms=frozenset(),
                   children=frozenset({"c-1"}))


class FakeStore:
    def children(self) -> list[object]:
        return [SimpleNamespace(pseudonym="c-1", label="Amara")]

    def exercises(self) -> list[object]:
        return [SimpleNamespace(key="reach", name="Reach across", default_reps=5)]

    def devices(self) -> list[object]:
        return [SimpleNamespace(room="room-1"), SimpleNamespace(room="room-2")]


def text_of(component: object) -> str:
    return str(component.to_plotly_json())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "who", "expect"),
    [
        ("/wall/room-1", KIOSK_1, "data-live-room"),
        ("/wall/room-2", KIOSK_1, "needs a link from your clinic"),
        ("/wall/room-2", THERAPIST, "data-live-room"),
        ("/wall/room-1", FAMILY, "This page is for the clinic's staff"),
        ("/sessions", FAMILY, "Open your child's page"),
        ("/", FAMILY, "/family"),
        ("/wall/room-1", None, "needs a link from your clinic"),
        ("/remote/room-1", THERAPIST, "remote-rep-plus"),
        ("/remote/room-1", KIOSK_1, "This screen is signed in as a wall screen"),
        ("/remote/room-1", None, "login-user"),
        ("/", THERAPIST, "/remote/room-2"),
        ("/", None, "login-user"),
        ("/nowhere", THERAPIST, "Page not found"),
    ],
)
def test_pages_follow_their_rules(path: str, who: Principal | None, expect: str) -> None:
    assert expect in text_of(resolve_page(path, {}, who, FakeStore()))


def test_sign_in_page_keeps_where_the_user_was_going() -> None:
    page = text_of(resolve_page("/remote/room-1", {}, None, FakeStore()))
    assert "Input(value='/remote/room-1', type='hidden', name='next')" in page


def test_kiosk_tokens_are_signed_and_name_a_link_room_and_expiry() -> None:
    token = kiosk_token("secret-a", "room-1", link_id="abc", expires=2_000_000_000)
    claim = read_kiosk_token("secret-a", token)
    assert claim is not None
    assert (claim.link_id, claim.room, claim.expires) == ("abc", "room-1", 2_000_000_000)
    assert read_kiosk_token("secret-b", token) is None
    assert read_kiosk_token("secret-a", token[:-2] + "xx") is None


def test_passwords_hash_slowly_and_verify() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt:16384:8:1$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterx", stored)
    assert not verify_password("anything", "md5$abc")
    assert hash_password("same password") != hash_password("same password")
    with pytest.raises(PasswordError, match="at least 10"):
        check_password_rules("short")


def test_sign_in_delays_grow_after_the_free_tries_up_to_a_cap() -> None:
    backoff = Backoff(free=5, first_s=1, cap_s=300, forget_after_s=3600)
    assert [backoff.delay(n) for n in range(1, 11)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32]
    assert backoff.delay(40) == 300
    assert backoff.delay(10**6) == 300
    with pytest.raises(ValueError, match="forget_after_s must be longer than cap_s"):
        Backoff(free=5, first_s=1, cap_s=300, forget_after_s=60)
