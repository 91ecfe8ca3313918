"""The wall when things go wrong: a silent device, and a dashboard restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from dashboard import kiosk_links
from dmi_live import services
from dmi_live.broker import free_port
from dmi_live.settings import BrokerSettings, Settings
from ingest.devices.base import Reading, Source
from ingest.devices.simulator import SimulatedRoom

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


class Pausable(Source):
    """A real simulated device that a test can silence (like a loose cable that sends nothing)."""

    def __init__(self, inner: Source) -> None:
        super().__init__()
        self.inner = inner
        self.device, self.kind = inner.device, inner.kind
        self.columns, self.period, self.placement = inner.columns, inner.period, inner.placement
        self.boot = inner.boot
        self.silent = threading.Event()

    def read(self, timeout: float) -> list[Reading]:
        readings = self.inner.read(timeout)
        self.boot = self.inner.boot
        return [] if self.silent.is_set() else readings


@dataclass
class Stack:
    settings: Settings
    parts: list[Any]
    dashboard: Any
    board: Pausable

    @property
    def wall_url(self) -> str:
        token, _ = kiosk_links.create(self.dashboard.store, self.settings.secret_key, "room-1",
                                      created_by="test", now=time.time())
        return f"{self.dashboard.url}/wall/room-1?k={token}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    settings = Settings(data_dir=tmp_path / "data", http_port=free_port(),
                        broker=BrokerSettings(port=free_port())).with_secret_key()
    broker, settings = services.start_broker(settings, fallback=False, pick_free_port=False)
    dashboard = services.start_dashboard(settings)
    board, imu = SimulatedRoom(seed=4).sources()
    pausable = Pausable(board)
    ingest = services.start_ingest(settings, "room-1", [pausable, imu])
    stack = Stack(settings, [ingest, broker], dashboard, pausable)
    yield stack
    stack.dashboard.stop()
    for part in stack.parts:
        part.stop()


def light(page: Any, device: str) -> str:
    return page.get_attribute(f".light[data-device='{device}']", "data-state") or ""


def test_a_silent_device_turns_stale_then_offline(stack: Stack, page: Any) -> None:
    page.goto(stack.wall_url)
    page.wait_for_function(
        "() => document.querySelectorAll('.light[data-state=online]').length === 2")
    stack.board.silent.set()
    page.wait_for_selector(".light[data-device='board-1'][data-state='stale']", timeout=4000)
    assert light(page, "imu-trunk") == "online"
    page.wait_for_selector(".light[data-device='board-1'][data-state='offline']", timeout=15_000)
    assert "no data for" in page.inner_text(".light[data-device='board-1']")
    assert light(page, "imu-trunk") == "online"
    stack.board.silent.clear()
    page.wait_for_selector(".light[data-device='board-1'][data-state='online']", timeout=10_000)


def test_the_wall_reconnects_after_the_dashboard_restarts(stack: Stack, page: Any) -> None:
    page.goto(stack.wall_url)
    page.wait_for_function("() => window.dmiLive && window.dmiLive.draws > 5")
    stack.dashboard.stop()
    page.wait_for_selector("#wall-connection-banner[data-state='down']", timeout=10_000)
    assert "reconnecting" in page.inner_text("#wall-connection-banner")
    stack.dashboard = services.start_dashboard(replace(stack.settings))
    # the page retries every second (SSE retry: 1000 and its own reopen)
    page.wait_for_selector("#wall-connection-banner[data-state='live']", state="attached",
                           timeout=10_000)
    draws = page.evaluate("() => window.dmiLive.draws")
    page.wait_for_function(f"() => window.dmiLive.draws > {draws + 5}", timeout=10_000)
