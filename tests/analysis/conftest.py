"""Shared fixtures for the analysis tests: reference data locations and loaders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"


def load_bds(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """COPx, COPy (cm) of a BDS trial: a whole file, or its Time, COPx, COPy columns
    (``bds/cop/*.tsv.xz``; numpy opens the compressed file itself)."""
    table = np.loadtxt(path, skiprows=1)
    return table[:, -2], table[:, -1]


def bds_reference(path: Path) -> dict[str, dict[str, float]]:
    with path.open() as fh:
        return {
            row["Trial"]: {k: float(row[k]) for k in ("COParea", "COPvelo", "COPmfreq")}
            for row in csv.DictReader(fh, delimiter="\t")
        }


@pytest.fixture(scope="session")
def quijoux_processed() -> np.ndarray:
    return np.loadtxt(DATA / "quijoux" / "processed_25Hz.csv", delimiter=",")


@pytest.fixture(scope="session")
def imu_slice() -> np.ndarray:
    return np.loadtxt(DATA / "imu" / "fusion_sensor_data_0-40s.csv", delimiter=",", skiprows=1)


def assert_rel(actual: float, expected: float, rel: float, what: str) -> None:
    """Relative comparison with a message naming the quantity."""
    err = abs(actual - expected) / abs(expected)
    assert err <= rel, f"{what}: {actual!r} vs reference {expected!r} (relative error {err:.2e})"
