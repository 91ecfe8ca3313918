"""Demos side by side and demos that die: own data folders, one Ctrl-C, no broker left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dmi_live.broker import free_port
from tests.conftest import brokers_under, need, wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def launch(cwd: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``dmi-live demo`` in ``cwd``; returns once it printed its links (or ended)."""
    cmd = [sys.executable, "-m", "dmi_live.cli", "demo", "--port", str(free_port()),
           "--broker-port", str(free_port()), *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Press Ctrl-C"):
            break
    return proc, lines


def interrupt(proc: subprocess.Popen[str], lines: list[str]) -> int:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    lines.extend(out.splitlines())
    return proc.returncode


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture(autouse=True)
def _mosquitto() -> None:
    import shutil

    need(shutil.which("mosquitto") is not None, "Debian's mosquitto is not installed")


def test_a_second_default_demo_gets_its_own_folder(
        tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    first, out1 = launch(tmp_path)
    procs.append(first)
    assert any("wall screen:" in line for line in out1), out1
    second, out2 = launch(tmp_path)
    procs.append(second)
    text2 = "\n".join(out2)
    assert "another demo is running in data/demo; this one uses data/demo-2" in text2
    assert f"data in {tmp_path / 'data' / 'demo-2'}" in text2
    password1 = re.search(r"password (\S+)\)", "\n".join(out1))
    password2 = re.search(r"password (\S+)\)", text2)
    assert password1 is not None
    assert password2 is not None
    # each demo has its own database and therapist password; the first one's still works
    from access.passwords import verify_password
    from store import open_store

    with open_store(tmp_path / "data" / "demo" / "dmi-live.sqlite") as store:
        user = store.get_user("therapist")
        assert user is not None
        assert verify_password(password1.group(1), user.password_hash)
    assert interrupt(second, out2) == 0
    assert interrupt(first, out1) == 0, "one Ctrl-C stops the first demo"
    for lines in (out1, out2):
        text = "\n".join(lines)
        assert "Stopped cleanly." in text
        assert "Traceback" not in text
        assert "gap on" not in text


def test_a_demo_refuses_a_data_folder_in_use(
        tmp_path: Path, procs: list[subprocess.Popen[str]]) -> None:
    data = tmp_path / "shared"
    first, out1 = launch(tmp_path, "--data-dir", str(data))
    procs.append(first)
    second, out2 = launch(tmp_path, "--data-dir", str(data))
    procs.append(second)
    second.wait(timeout=30)
    assert second.returncode == 2
    assert out2 == [f"dmi-live demo: error: another dmi-live demo is running with the data "
                    f"folder {data}; stop it first or choose another --data-dir"]
    assert first.poll() is None
    assert interrupt(first, out1) == 0


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_broker_outlives_its_demo(tmp_path: Path, procs: list[subprocess.Popen[str]],
                                     how: signal.Signals) -> None:
    proc, lines = launch(tmp_path, "--data-dir", str(tmp_path / "data"))
    procs.append(proc)
    assert any("wall screen:" in line for line in lines), lines
    assert len(brokers_under(tmp_path)) == 1, "the demo runs its own Mosquitto"
    proc.send_signal(how)
    proc.communicate(timeout=30)
    assert wait_until(lambda: not brokers_under(tmp_path), timeout=10), brokers_under(tmp_path)
