"""``dmi-live metrics FILE`` through configure()/run()."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from dmi_live import metrics_cli
from tests.analysis.conftest import DATA, assert_rel, bds_reference


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="dmi-live metrics")
    metrics_cli.configure(parser)
    code = metrics_cli.run(parser.parse_args(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dmi-live metrics: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_bds_json_reports_the_published_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([str(DATA / "bds" / "BDS00043.txt"), "--format", "bds", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    ref = bds_reference(DATA / "bds" / "reference.tsv")["BDS00043"]
    assert_rel(result["ellipse_area_cm2"], ref["COParea"], 1e-6, "area")
    assert_rel(result["mean_velocity_cm_s"], ref["COPvelo"], 1e-6, "velocity")
    assert_rel(result["mean_frequency_hz"], ref["COPmfreq"], 1e-6, "mean frequency")
    assert result["fs_hz"] == 100.0
    assert result["n"] == 6000


def test_bds_text_output_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([str(DATA / "bds" / "BDS00001.txt")], capsys)  # format guessed
    assert code == 0
    assert "bds, 6000 samples at 100 Hz" in out
    assert any(
        line.split()[:1] == ["ellipse_area_cm2"] and "cm²" in line for line in out.splitlines()
    )


def test_quijoux_prints_descriptors_under_the_reference_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(
        [str(DATA / "quijoux" / "processed_25Hz.csv"), "--format", "quijoux", "--json"], capsys
    )
    assert code == 0, err
    result = json.loads(out)
    reference = json.loads((DATA / "quijoux" / "reference_features_rows4000_7000.json").read_text())
    assert set(reference) <= set(result)
    for name in ("rms_ML", "confidence_ellipse_area_ML_AND_AP", "critical_time_Diffusion_AP"):
        assert_rel(result[name], reference[name], 1e-6, name)


def test_csv_with_cop_columns_and_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = np.arange(1000) / 50.0
    ml, ap = np.sin(2 * np.pi * 0.5 * t), 0.5 * np.cos(2 * np.pi * 0.5 * t)
    path = tmp_path / "rec.csv"
    path.write_text(
        "t,ml,ap\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(t, ml, ap, strict=True))
    )
    code, out, err = _run([str(path), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["format"] == "csv"
    assert result["fs_hz"] == 50.0
    assert result["mean_frequency_hz"] == pytest.approx(0.5, rel=0.05)
    assert result["rms_cm"] == pytest.approx(np.sqrt(0.5 + 0.125), rel=1e-3)


def test_csv_with_load_cells_skips_unloaded_samples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["fl,fr,bl,br"]
    rows += ["0.1,0.1,0.1,0.1"] * 50  # nobody on the board yet
    rows += [f"{10 + np.sin(i / 10)},{10 - np.sin(i / 10)},10,10" for i in range(400)]
    path = tmp_path / "board.csv"
    path.write_text("\n".join(rows) + "\n")
    code, out, err = _run([str(path), "--fs", "100", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["n"] == 400
    assert result["valid_fraction"] == pytest.approx(400 / 450)


def test_missing_column_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "trial.txt"
    path.write_text("Time[s]\tCOPx[cm]\n" + "".join(f"{i / 100}\t0.{i}\n" for i in range(200)))
    _assert_one_line_error(*_run([str(path), "--format", "bds"], capsys), "COPy[cm]", str(path))


def test_wrong_separator_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trial.txt"
    lines = (DATA / "bds" / "BDS00001.txt").read_text().splitlines()[:300]
    path.write_text("\n".join(line.replace("\t", ";") for line in lines))
    _assert_one_line_error(
        *_run([str(path), "--format", "bds"], capsys), "line 1", "tab-separated", "';'"
    )


def test_too_short_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "short.txt"
    path.write_text("\n".join((DATA / "bds" / "BDS00001.txt").read_text().splitlines()[:40]))
    _assert_one_line_error(*_run([str(path)], capsys), "too short", "39 samples")
    q = tmp_path / "short.csv"
    q.write_text("\n".join("0.1,0.2" for _ in range(100)))
    _assert_one_line_error(*_run([str(q), "--format", "quijoux"], capsys), "too short", "10 s")


def test_bad_number_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("t,ml,ap\n0,1,2\n0.01,1,2\n0.02,oops,2\n")
    _assert_one_line_error(*_run([str(path)], capsys), "line 4", "'ml'", "'oops'")


def test_unreadable_files_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_one_line_error(*_run([str(tmp_path / "nope.csv")], capsys), "no such file")
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    _assert_one_line_error(*_run([str(binary)], capsys), "not a text file")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _assert_one_line_error(*_run([str(empty)], capsys), "empty")


def test_csv_without_time_needs_a_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rec.csv"
    path.write_text("ml,ap\n" + "\n".join(f"{np.sin(i / 9)},{np.cos(i / 7)}" for i in range(300)))
    _assert_one_line_error(*_run([str(path)], capsys), "--fs")
    code, _, _ = _run([str(path), "--fs", "100"], capsys)
    assert code == 0
