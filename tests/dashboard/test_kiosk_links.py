"""Wall-screen links through Flask's test client: they expire, they are revoked one by
one, and a wall already open is signed out on its next request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer

from dashboard import kiosk_links
from dashboard.app import create_app
from dashboard.auth import kiosk_token
from dashboard.live import LiveHub
from dmi_live.settings import Settings
from ingest.mqtt import BrokerAddress
from store import Store, open_store
from tests.conftest import wait_until


class Site:
    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings(data_dir=tmp_path / "data").with_secret_key()
        self.secret = self.settings.secret_key
        self.store: Store = open_store(tmp_path / "db.sqlite")
        hub = LiveHub(BrokerAddress(port=1), site="demo", client_id="t")  # not started
        self.app = create_app(self.settings, hub=hub, store=self.store)

    def wall(self, token: str, room: str = "room-1") -> tuple[Any, Any]:
        """A new screen opening ``/wall/<room>?k=<token>``: (client, response)."""
        client = self.app.server.test_client()
        return client, client.get(f"/wall/{room}", query_string={"k": token})

    def shows_wall(self, client: Any, room: str = "room-1") -> bool:
        payload = {"output": "app-page.children",
                   "outputs": {"id": "app-page", "property": "children"},
                   "inputs": [{"id": "app-url", "property": "pathname", "value": f"/wall/{room}"},
                              {"id": "app-url", "property": "search", "value": ""}],
                   "state": [], "changedPropIds": ["app-url.pathname"]}
        response = client.post("/_dash-update-component", json=payload)
        return response.status_code == 200 and "data-live-room" in response.get_data(as_text=True)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    built = Site(tmp_path)
    yield built
    built.store.close()


def test_revoking_a_link_signs_its_open_wall_out_and_only_that_one(site: Site) -> None:
    now = time.time()
    token_1, link_1 = kiosk_links.create(site.store, site.secret, "room-1", created_by="ada",
                                         now=now)
    token_2, _ = kiosk_links.create(site.store, site.secret, "room-1", created_by="ada", now=now)
    wall_1, opened = site.wall(token_1)
    assert opened.headers["Location"] == "/wall/room-1"
    wall_2, _ = site.wall(token_2)
    assert site.shows_wall(wall_1)
    assert site.shows_wall(wall_2)
    assert not site.shows_wall(wall_1, "room-2"), "one room only"
    site.store.revoke_kiosk_link(link_1.id)
    assert not site.shows_wall(wall_1), "the open wall is signed out at its next request"
    assert wall_1.get("/_dash-dependencies").status_code == 401
    assert site.shows_wall(wall_2), "the other wall of the room goes on"
    assert site.wall(token_1)[1].status_code == 403
    assert ("wall room-1", "open kiosk link") in [(r.who, r.action)
                                                  for r in site.store.audit_log()]


def test_a_link_works_for_the_days_it_was_made_for(site: Site) -> None:
    created = time.time() - 31 * 86400
    token, link = kiosk_links.create(site.store, site.secret, "room-1", created_by="ada",
                                     now=created, days=30)
    assert link.expires == pytest.approx(created + 30 * 86400)
    assert site.wall(token)[1].status_code == 403
    long_ago = time.time() - 180 * 86400 + 5
    token, _ = kiosk_links.create(site.store, site.secret, "room-1", created_by="ada",
                                  now=long_ago)
    assert site.wall(token)[1].status_code == 302, "180 days by default"


def test_a_wall_open_past_its_links_expiry_is_signed_out(site: Site) -> None:
    link = site.store.add_kiosk_link("k-short", "room-1", time.time() + 1.5, "test")
    token = kiosk_token(site.secret, "room-1", link_id=link.id, expires=time.time() + 3600)
    wall, _ = site.wall(token)  # the token claims longer: the stored link decides
    assert site.shows_wall(wall)
    assert wait_until(lambda: not site.shows_wall(wall), 10)


def test_old_links_that_never_expired_and_forged_ones_are_refused(site: Site) -> None:
    never_expiring = URLSafeSerializer(site.secret, salt="dmi-kiosk-v1").dumps({"room": "room-1"})
    assert site.wall(never_expiring)[1].status_code == 403
    forged = kiosk_token("not-our-secret", "room-1")
    assert site.wall(forged)[1].status_code == 403
    token, _ = kiosk_links.create(site.store, site.secret, "room-1", created_by="ada",
                                  now=time.time())
    wall, _ = site.wall(token, "room-2")  # a room-1 link opened on another room's path
    assert not site.shows_wall(wall, "room-2")
    assert site.shows_wall(wall, "room-1")


def test_a_token_signed_with_the_key_but_never_stored_opens_nothing(site: Site) -> None:
    """Whoever has the secret key alone (a copied config) cannot mint a wall link that
    the admin page would not list and could not revoke."""
    token = kiosk_token(site.secret, "room-1")
    wall, opened = site.wall(token)
    assert opened.status_code == 403
    assert not site.shows_wall(wall)
    assert site.store.kiosk_links() == []
