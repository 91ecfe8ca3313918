"""``dmi-live metrics`` reads the product's own CSV export: the zip, or a board's samples
taken out of it (its ``t_dev``, ``boot`` and ``seq`` columns are not metrics input)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from analysis.cop import cop_from_loads
from analysis.sway import sway_metrics
from review.exporting import bundle_from_store, write_bundle
from store import open_store
from tests.dashboard.replay_session import record_session


def metrics(path: Path) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-m", "dmi_live.cli", "metrics", str(path),
                             "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_metrics_of_a_csv_export_and_of_its_board_file(tmp_path: Path) -> None:
    with open_store(tmp_path / "dmi-live.sqlite") as store:
        record_session(store, duration=40.0, hole=False)
        zipped = write_bundle(bundle_from_store(store, "s-1"), tmp_path / "s-1.zip", "csv")
        manifest_board = next(d["device"] for d in bundle_from_store(store, "s-1").manifest[
            "devices"] if d["kind"] == "board")
        stored = store.read_samples(manifest_board, 0, 2e9)
    with zipfile.ZipFile(zipped) as zf:
        board_csv = tmp_path / "board.csv"
        board_csv.write_bytes(zf.read(f"samples/{manifest_board}.csv"))
    assert "boot" in board_csv.read_text().splitlines()[0]
    from_zip, from_file = metrics(zipped), metrics(board_csv)
    assert from_zip["format"] == from_file["format"] == "csv"
    assert from_zip["n"] == from_file["n"] == len(stored)
    ml, ap, _ = cop_from_loads(*(stored[c].to_numpy() for c in ("fl", "fr", "bl", "br")))
    expected = sway_metrics(ml, ap, fs=from_file["fs_hz"]).as_dict()
    for name in ("ellipse_area_cm2", "mean_velocity_cm_s"):
        assert name in from_file
        for value in (from_zip[name], from_file[name]):
            np.testing.assert_allclose(value, expected[name], rtol=0.05)
