"""Shared fixtures: a real Mosquitto started by the tests on a free loopback port.

Where a needed service is missing outside CI a test skips with the reason; with
``CI=true`` it fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dmi_live.broker import Credentials, MosquittoBroker, free_port
from ingest.mqtt import BrokerAddress

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, reason: str) -> None:
    """Skip (outside CI) or fail (in CI) when ``condition`` is false."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` s pass (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@dataclass
class RunningBroker:
    broker: MosquittoBroker
    credentials: Credentials

    @property
    def port(self) -> int:
        return self.broker.port

    def address(self, service: str = "recorder") -> BrokerAddress:
        """``service``: recorder, dashboard, ingest (= room-1's ingest) or ingest-<room>."""
        if service == "ingest":
            service = "ingest-room-1"
        user, password = self.credentials.for_service(service)
        return BrokerAddress(host="127.0.0.1", port=self.broker.port, username=user,
                             password=password, protocol=5)

    def restart(self) -> None:
        self.broker.stop()
        self.broker.start()


def brokers_under(folder: Path) -> list[tuple[int, str]]:
    """(pid, config) of every running mosquitto whose config file lives under ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = next((line for line in (proc / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue
        if "zombie" in state or not argv or not argv[0].endswith("mosquitto"):
            continue
        config = argv[argv.index("-c") + 1] if "-c" in argv[:-1] else ""
        with contextlib.suppress(OSError):
            config = str((proc / "cwd").readlink() / config)  # unchanged when absolute
        if config.startswith(f"{folder.resolve()}/"):
            found.append((int(proc.name), config))
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole run, no broker a test (or a demo a test started) survives."""
    yield
    base = tmp_path_factory.getbasetemp()
    wait_until(lambda: not brokers_under(base), timeout=10)
    left = brokers_under(base)
    for pid, _ in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, "mosquitto processes outlived the tests that started them: " + ", ".join(
        f"{pid} ({config})" for pid, config in left)


@pytest.fixture(scope="session")
def mosquitto_factory(tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[Callable[[], RunningBroker]]:
    """Start as many independent Mosquitto brokers as a test needs."""
    need(shutil.which("mosquitto") is not None,
         "Debian's mosquitto is not installed (the test command installs it)")
    started: list[MosquittoBroker] = []

    def start() -> RunningBroker:
        folder = tmp_path_factory.mktemp("mosquitto")
        creds = Credentials.load_or_create(folder / "credentials.toml",
                                           rooms=("room-1", "room-2"))
        broker = MosquittoBroker(folder / "broker", host="127.0.0.1", port=free_port(),
                                 credentials=creds)
        broker.start()
        started.append(broker)
        return RunningBroker(broker, creds)

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture(scope="session")
def mosquitto(mosquitto_factory: Callable[[], RunningBroker]) -> RunningBroker:
    """One broker shared by the tests of a session; use :func:`site` to stay apart."""
    return mosquitto_factory()


@pytest.fixture
def site() -> str:
    """A site id no other test uses, so tests sharing a broker never see each other."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
