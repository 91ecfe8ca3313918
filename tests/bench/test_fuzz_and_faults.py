"""The short runs of ``bench/fuzz_recorder.py`` and ``bench/faults.py`` keep both
benchmarks working, and hold the recording to what a clinic sees: junk from a room's own
account and crashed processes cost no good sample, store none twice, stop nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from store.tables import QUARANTINE_PAYLOAD, QUARANTINE_ROWS
from tests.conftest import need

pytestmark = [pytest.mark.slow, pytest.mark.broker]

REPO = Path(__file__).parents[2]


def run_quick(script: str) -> tuple[dict[str, str], str]:
    """Run ``bench/<script> --quick``; its last line's ``key=value`` pairs, and its output."""
    need(shutil.which("mosquitto") is not None, "Debian's mosquitto is not installed")
    result = subprocess.run([sys.executable, f"bench/{script}", "--quick"], cwd=REPO,
                            capture_output=True, text=True, timeout=150)
    output = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, output
    last = result.stdout.strip().splitlines()[-1]
    return dict(pair.split("=", 1) for pair in last.split()), output


def test_junk_from_a_rooms_own_account_never_stops_or_thins_the_good_stream() -> None:
    figures, output = run_quick("fuzz_recorder.py")
    n = {k: int(v) for k, v in figures.items()}
    assert n["crashes"] == 0, output
    assert n["min_good_per_s"] > 0, "good samples were stored in every second\n" + output
    assert (n["lost"], n["duplicates"]) == (0, 0), output
    assert n["refused"] >= 2, "the broker refused what is past its packet limit\n" + output
    assert n["quarantined"] > n["sent"] // 2, "most junk was quarantined\n" + output
    assert 0 < n["quarantine_count"] <= min(n["quarantined"], QUARANTINE_ROWS)
    assert n["quarantine_bytes"] <= n["quarantine_count"] * QUARANTINE_PAYLOAD
    assert n["log_lines"] < 100, "rejects are logged rate-limited, not once each\n" + output


def test_killed_broker_recorder_and_ingest_and_a_clock_step_lose_and_repeat_nothing() -> None:
    figures, output = run_quick("faults.py")
    assert figures["crashes"] == "0", output
    for fault in ("broker", "recorder", "ingest", "clock"):
        assert (figures[f"lost_{fault}"], figures[f"dup_{fault}"]) == ("0", "0"), output
    assert (figures["lost"], figures["duplicates"]) == ("0", "0"), output
    assert int(figures["sent"]) > 2000, output
    assert figures["max_recovery_s"] != "nan", "every fault was recovered from\n" + output
    assert figures["stored_t_stood_still"] == "yes", output
    assert figures["lag_grew"] == "yes", "status showed the lag growing\n" + output
    assert figures["quarantine_count"] == "0", "nothing valid was quarantined\n" + output
    assert figures["gaps"] == figures["expected_gaps"], \
        "one gap per restart and per hole, none for redelivered batches\n" + output
