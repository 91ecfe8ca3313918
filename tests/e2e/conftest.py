"""Real headless Chromium (Debian's) driven by Playwright; never a downloaded browser."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dmi_live.broker import free_port
from tests.conftest import need

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing (the test command installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    yield page
    context.close()


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    wall_url: str
    base_url: str
    data_dir: Path
    output: list[str]

    @property
    def password(self) -> str:
        for line in self.output:
            match = re.search(r"password (\S+)\)", line)
            if match:
                return match.group(1)
        raise AssertionError("the demo printed no password")

    def sign_in(self, page: Any, next_path: str = "/") -> None:
        page.goto(self.base_url + next_path)
        page.fill("#login-user", "therapist")
        page.fill("#login-password", self.password)
        page.click("#login-submit")

    def interrupt(self, timeout: float = 20.0) -> int:
        self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=timeout)
        self.output.extend(out.splitlines())
        return self.process.returncode


def start_demo(data_dir: Path, *extra: str) -> DemoProcess:
    http_port, broker_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "dmi_live.cli", "demo", "--port", str(http_port),
           "--broker-port", str(broker_port), "--data-dir", str(data_dir), *extra]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line.rstrip())
        match = re.search(r"wall screen: (\S+)", line)
        if match:
            url = match.group(1)
            output.append(process.stdout.readline().rstrip())  # the remote line
            return DemoProcess(process, url, url.split("/wall/")[0], data_dir, output)
    process.kill()
    process.communicate()
    raise AssertionError("demo did not print its wall URL:\n" + "\n".join(output))


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    proc = start_demo(tmp_path / "data")
    yield proc
    if proc.process.poll() is None:
        proc.process.kill()
        proc.process.wait()
    if proc.process.stdout is not None:
        proc.process.stdout.close()
