"""The admin page in real Chromium: an admin signs in with the form, adds a child, makes a
family link for it (shown once, with a copy button) and revokes it; a bad form shows
what is wrong. The app is served in-process (werkzeug, threaded) on a store the test fills.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from access.passwords import hash_password
from dmi_live.broker import free_port
from store import Store, open_store

pytestmark = [pytest.mark.e2e]
PASSWORD = "correct horse battery"


@dataclass
class Served:
    url: str
    store: Store


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    from dashboard.app import create_app
    from dashboard.live import LiveHub
    from dmi_live.settings import Settings
    from ingest.mqtt import BrokerAddress

    store = open_store(tmp_path / "dmi-live.sqlite")
    store.add_user("ada", "admin", hash_password(PASSWORD))
    store.add_child("c-a11", "Amara")
    settings = Settings(data_dir=tmp_path, rooms=("room-1",))
    hub = LiveHub(BrokerAddress(port=free_port()), site=settings.site, client_id="e2e-admin")
    app = create_app(settings, hub=hub, store=store)
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", store)
    finally:
        server.shutdown()
        thread.join(5)
        store.close()


def test_an_admin_adds_a_child_and_shares_then_revokes_a_family_link(
        served: Served, page: Any, tmp_path: Path) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{served.url}/admin")
    page.fill("#login-user", "ada")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#admin-root")

    page.fill("#admin-child-pseudonym", "c 0417")
    page.click("#admin-child-add")
    page.wait_for_selector("#admin-children-feedback .admin-error")
    assert "Pseudonym: 'c 0417' may use only" in page.inner_text("#admin-children-feedback")
    page.fill("#admin-child-pseudonym", "c-0417")
    page.fill("#admin-child-name", "Mia")
    page.click("#admin-child-add")
    page.wait_for_selector("text=Added child c-0417 (Mia).")
    assert "c-0417" in page.inner_text("#admin-children-table")

    page.click("#links-child")
    page.get_by_role("option", name="Mia (c-0417)", exact=True).click()
    page.click("#links-expires label:has-text('7 days')")
    page.click("#links-create")
    page.wait_for_selector("#links-once-url")
    url = page.input_value("#links-once-url")
    assert url.startswith(f"{served.url}/family/link/")
    page.click("#links-once :text-is('Copy')")
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
    assert "active" in page.inner_text("#links-table")

    family = page.context.browser.new_context().new_page()
    family.goto(url)
    family.wait_for_selector("text=Mia")
    family.context.close()

    page.click("#links-table button:has-text('Revoke')")
    page.wait_for_selector("#links-table .admin-state-revoked")
    assert "Revoked link" in page.inner_text("#links-feedback")
    assert page.locator("#links-once-url").count() == 0, "the link is not shown again"
    (link,) = served.store.family_links("c-0417")
    assert link.revoked
