"""A newcomer's command line: fast help, children by name, no silent empty store, passwords
without a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, stdin: str | None = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmi_live.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_help_lists_every_command_without_loading_the_heavy_libraries() -> None:
    probe = ("import sys\nfrom dmi_live.cli import main\ntry:\n    main(['--help'])\n"
             "except SystemExit:\n    pass\n"
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
             "{'scipy', 'pandas', 'numpy', 'dash', 'plotly', 'sqlalchemy', 'reportlab', "
             "'matplotlib', 'paho', 'dashboard', 'review', 'store', 'analysis'})\n"
             "print('HEAVY', heavy)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    for command in ("demo", "users", "family-link", "metrics", "export", "reps", "status"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["users", "family-link", "kiosk-link", "export",
                                     "import", "quarantine", "reps", "status"])
def test_each_command_still_builds_its_own_options(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: dmi-live {command}" in result.stdout
    assert "options:" in result.stdout


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    from dmi_live.demo import seed_demo
    from store import open_store

    data = tmp_path / "data"
    data.mkdir()
    with open_store(data / "dmi-live.sqlite") as store:
        seed_demo(store)  # Amara c-0417, Ben c-0522, Léa c-0631
    return data


@pytest.mark.parametrize("given", ["Ben", "ben", "c-0522"])
def test_family_link_takes_a_name_or_a_pseudonym(clinic: Path, given: str) -> None:
    from store import open_store

    result = cli("family-link", given, "--data-dir", str(clinic))
    assert result.returncode == 0, result.stderr
    assert "/family/link/" in result.stdout
    with open_store(clinic / "dmi-live.sqlite") as store:
        assert [link.child for link in store.family_links(None)] == ["c-0522"]


def test_an_unknown_child_lists_the_children(clinic: Path) -> None:
    result = cli("family-link", "Zoe", "--data-dir", str(clinic))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "dmi-live family-link: error: no child 'Zoe' (by name or id); "
        "children: Amara (c-0417), Ben (c-0522), Léa (c-0631)")


@pytest.mark.parametrize("args", [["family-link", "Ben"], ["family-link", "--list"],
                                  ["kiosk-link", "--list"], ["users", "list"],
                                  ["users", "disable", "bob"], ["export", "s-1"]])
def test_a_wrong_data_dir_creates_no_empty_store(tmp_path: Path, args: list[str]) -> None:
    wrong = tmp_path / "typo"
    result = cli(*args, "--data-dir", str(wrong))
    assert result.returncode == 2
    assert f"no DMI Live store at {wrong / 'dmi-live.sqlite'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (wrong / "dmi-live.sqlite").exists()


def test_users_add_without_a_terminal_says_what_it_needs(tmp_path: Path) -> None:
    result = cli("users", "add", "bob", "--role", "therapist", "--data-dir", str(tmp_path),
                 stdin="")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "EOFError" not in result.stderr
    assert "no password given" in result.stderr
    assert "--password-file" in result.stderr
    assert not (tmp_path / "dmi-live.sqlite").exists()


def test_users_add_reads_a_piped_password_or_a_password_file(tmp_path: Path) -> None:
    from access.passwords import verify_password
    from store import open_store

    piped = cli("users", "add", "bob", "--role", "therapist", "--data-dir", str(tmp_path),
                stdin="a long password one\n")
    assert piped.returncode == 0, piped.stderr
    assert "creating a new, empty store" in piped.stderr
    secret = tmp_path / "pw.txt"
    secret.write_text("a long password two\n")
    reset = cli("users", "reset", "bob", "--password-file", str(secret), "--data-dir",
                str(tmp_path))
    assert reset.returncode == 0, reset.stderr
    with open_store(tmp_path / "dmi-live.sqlite") as store:
        user = store.get_user("bob")
        assert user is not None
        assert verify_password("a long password two", user.password_hash)
