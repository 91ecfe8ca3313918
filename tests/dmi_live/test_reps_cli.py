"""``dmi-live reps``: counts recorded IMU files, calibrates with --like, one line per error."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.repsynth import simulate_sensor_set
from analysis.synth import SetScenario
from dmi_live import reps_cli
from tests.analysis.repsets import double_bump_set

SPAR = Path(__file__).resolve().parents[1] / "data" / "spar"
HEADER = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"
FS = 50.0


def run(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser(prog="dmi-live reps")
    reps_cli.configure(parser)
    return reps_cli.run(parser.parse_args([str(a) for a in argv]))


def write(path: Path, t: np.ndarray, samples: np.ndarray) -> Path:
    rows = "\n".join(",".join(f"{v:.5f}" for v in row) for row in np.column_stack([t, samples]))
    path.write_text(f"{HEADER}\n{rows}\n", encoding="utf-8")
    return path


def squats(path: Path, n_reps: int, seed: int) -> Path:
    sim = simulate_sensor_set(SetScenario(n_reps=n_reps), fs=FS, rng=np.random.default_rng(seed))
    return write(path, sim.t, sim.samples)


def double_leans(path: Path, n_reps: int, seed: int) -> Path:
    """Reps of two leans each (a big one, then a smaller one): one rep or two?"""
    return write(path, *double_bump_set(n_reps, seed, fs=FS))


def test_counts_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = squats(tmp_path / "a.csv", 7, 1), squats(tmp_path / "b.csv", 11, 2)
    assert run(a, b) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{a}: 7 reps (")
    assert out[1].startswith(f"{b}: 11 reps (")
    assert "50 Hz" in out[0]


def test_json_is_one_object_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spar = shutil.copy(SPAR / "S01_ABD_L.csv", tmp_path / "S01_ABD_L.csv")
    assert run("--json", spar, squats(tmp_path / "s.csv", 9, 3)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["file"] == str(spar)
    assert abs(first["reps"] - 20) <= 1  # a real set of 20 shoulder abductions
    assert first["fs_hz"] == 50.0
    assert len(first["rep_times_s"]) == first["reps"]
    assert first["calibration"] is None
    assert second["reps"] == 9


def test_a_bad_file_is_one_line_naming_it_and_the_others_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = squats(tmp_path / "good.csv", 6, 4)
    bad = tmp_path / "S01.csv"
    lines = good.read_text().splitlines()
    lines[16] = "0.32,9.8,abc,0,0,0,0"
    bad.write_text("\n".join(lines) + "\n")
    assert run(bad, good) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"dmi-live reps: error: {bad}: line 17: 'abc' is not a number"
    ]
    assert captured.out.startswith(f"{good}: 6 reps")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "line 1: the file is empty"),
        ("t,ax,ay,az,gx,gy,gz\n0,0,0,0,0,0,0\n", "line 1: missing column 'time_s'"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0.02,1,2,3\n", "line 3: expected 7 fields, found 4"),
        (f"{HEADER}\n0.1,1,2,3,4,5,6\n0.1,1,2,3,4,5,6\n", "line 3: time 0.1 s does not increase"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0.02,1,2,3,4,5,6\n", "too short: 2 samples"),
        (f"{HEADER}\n0,1,2,3,inf,5,6\n", "line 2: gyr_x 'inf' is not a finite number"),
    ],
    ids=["empty", "header", "fields", "time", "short", "inf"],
)
def test_unusable_files_say_why_and_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "set.csv"
    path.write_text(content)
    assert run(path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"dmi-live reps: error: {path}: ")
    assert message in err[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path / "nope.csv") == 2
    assert "nope.csv: no such file" in capsys.readouterr().err


def test_like_calibrates_on_a_set_with_a_known_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = double_leans(tmp_path / "monday.csv", 10, 100)
    today = double_leans(tmp_path / "tuesday.csv", 12, 1)
    assert run("--json", today) == 0
    assert json.loads(capsys.readouterr().out)["reps"] != 12  # two leans look like two reps
    assert run("--json", "--like", example, "--count", "10", today) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reps"] == 12
    assert result["calibration"]  # what was learned, as the changes from the defaults


def test_like_and_count_go_together(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = squats(tmp_path / "a.csv", 5, 5)
    assert run("--like", path, path) == 2
    assert "--like FILE and --count N go together" in capsys.readouterr().err


def test_a_bad_like_file_stops_before_counting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = squats(tmp_path / "a.csv", 5, 6)
    assert run("--like", tmp_path / "missing.csv", "--count", "8", good) == 2
    captured = capsys.readouterr()
    assert "cannot calibrate" in captured.err
    assert captured.out == ""


def test_fs_overrides_the_time_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sim = simulate_sensor_set(SetScenario(n_reps=8), fs=FS, rng=np.random.default_rng(7))
    path = write(tmp_path / "ms.csv", sim.t * 1000, sim.samples)  # time in ms by mistake
    assert run("--json", "--fs", "50", path) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["fs_hz"], result["reps"]) == (50.0, 8)


def test_dmi_live_reps_runs_and_the_module_imports_lightly() -> None:
    code = "import sys, dmi_live.reps_cli; print(sorted({'numpy', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"
    result = subprocess.run(
        [sys.executable, "-m", "dmi_live.cli", "reps", "--json", str(SPAR / "S01_ER_L.csv")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["file"].endswith("S01_ER_L.csv")
