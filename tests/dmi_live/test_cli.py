"""The command line: every mistake is one clear line and a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dmi_live.broker import free_port


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmi_live.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("command", ["demo", "broker", "ingest", "record", "serve", "metrics"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert f"usage: dmi-live {command}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--port", "http"], "argument --port: 'http' is not a port number"),
        (["demo", "--broker-port", "70000"], "70000 is not a port number"),
        (["demo", "--speed", "-1"], "'-1' must not be negative"),
        (["record", "--bogus"], "unrecognized arguments: --bogus"),
        (["launch"], "invalid choice: 'launch'"),
    ],
)
def test_bad_arguments_are_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = run("serve", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dmi-live serve: error: {tmp_path / 'nope.toml'}: no such file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[broker\nport = 1", "not valid TOML"),
        ("[broker]\nport = 'x'", "broker.port must be a whole number"),
        ("[broker]\nport = 99999", "broker.port must be a port number"),
        ("[http]\nprot = 8050", "unknown setting http.prot"),
        ("site = 'North Clinic'", "site 'North Clinic' must be lowercase"),
    ],
)
def test_invalid_config_file_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "dmi.toml"
    path.write_text(text)
    result = run("record", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert message in lines[0]


@pytest.mark.broker
def test_broker_port_in_use_is_reported(tmp_path: Path) -> None:
    import shutil
    import socket

    from tests.conftest import need

    need(shutil.which("mosquitto") is not None, "mosquitto is not installed")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("broker", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"dmi-live broker: error: port {port} on 127.0.0.1 is already in use "
        "(another MQTT broker?); choose another with --port")


def test_account_and_link_changes_from_the_command_line_are_audited(tmp_path: Path) -> None:
    from store import open_store

    data = tmp_path / "data"

    def cli(*args: str, password: str | None = None) -> str:
        result = subprocess.run([sys.executable, "-m", "dmi_live.cli", *args, "--data-dir",
                                 str(data)], input=password, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cli("users", "add", "bob", "--role", "therapist", "--password-stdin",
        password="a long password\n")
    with open_store(data / "dmi-live.sqlite") as store:
        store.add_child("c-1", "Mia")
        store.start_sign_in("bob", "bobs-browser")
    assert "signed out everywhere" in cli("users", "reset", "bob", "--password-stdin",
                                          password="another long password\n")
    cli("users", "disable", "bob")
    cli("users", "enable", "bob")
    cli("family-link", "c-1", "--expires", "2h")
    cli("family-link", "--revoke", "1")
    cli("kiosk-link", "room-1", "--days", "7")
    with open_store(data / "dmi-live.sqlite") as store:
        (wall,) = store.kiosk_links()
    cli("kiosk-link", "--revoke", wall.id)
    with open_store(data / "dmi-live.sqlite") as store:
        assert store.get_sign_in("bobs-browser").revoked, "a new password signs bob out"
        log = [(row.who.split(":")[0], row.action, row.child, row.detail)
               for row in reversed(store.audit_log())]
    assert [entry[:3] for entry in log] == [
        ("cli", "add user", None), ("cli", "reset password", None),
        ("cli", "disable user", None), ("cli", "enable user", None),
        ("cli", "create family link", "c-1"), ("cli", "revoke family link", "c-1"),
        ("cli", "create kiosk link", None), ("cli", "revoke kiosk link", None),
    ]
    details = [entry[3] for entry in log]
    assert details[:4] == ["bob as therapist", "bob", "bob", "bob"]
    assert details[4].startswith("link 1, until ")
    assert details[5] == "link 1"
    assert details[6].startswith(f"link {wall.id} for room-1, until ")
    assert details[7] == f"link {wall.id} for room-1"
