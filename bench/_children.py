"""The processes of ``bench/faults.py``: ``dmi-live`` commands as subprocesses of one
settings file, and ``dmi-live status --json`` read while they run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class Child:
    """``dmi-live <args>`` as a subprocess, its output in ``logs/<name>-<n>.log``."""

    def __init__(self, name: str, config: Path, logs: Path, *args: str) -> None:
        self.name, self.config, self.logs, self.args = name, config, logs, args
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        with (self.logs / f"{self.name}-{self.runs}.log").open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "dmi_live.cli", *self.args, "--config", str(self.config)],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, as a service manager stops it; the exit status (None: it hung)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def errors(self) -> list[str]:
        """Lines logged at ERROR, and tracebacks, in every run's log."""
        out = []
        for path in sorted(self.logs.glob(f"{self.name}-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if " ERROR " in line or line.startswith("Traceback"):
                    out.append(f"{path.name}: {line[:300]}")
        return out


class StatusProbe:
    """``dmi-live status --json`` started now; :meth:`result` waits for its JSON."""

    def __init__(self, config: Path, label: str, listen: float = 1.0) -> None:
        self.label, self.started = label, time.time()
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "dmi_live.cli", "status", "--config", str(config), "--json",
             "--listen", str(listen)], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def result(self) -> dict[str, Any]:
        out, err = self.proc.communicate(timeout=60)
        if self.proc.returncode != 0:
            return {"error": f"exit {self.proc.returncode}: {err.strip()[-300:]}"}
        return json.loads(out)


def show_status(label: str, doc: dict[str, Any], place: tuple[str, str]) -> None:
    """The parts of a ``dmi-live status --json`` document the benchmark is about."""
    print(f"  status {label}:", flush=True)
    if "error" in doc:
        print(f"    dmi-live status failed: {doc['error']}")
        return
    now = doc["now"]
    broker = "reachable" if doc["broker"]["reachable"] else f"not read ({doc['broker']['error']})"
    lag = doc["recorder"]["lag_s"]
    q = doc["quarantine"]
    print(f"    broker {broker}; recorder lag {'unknown' if lag is None else f'{lag:.2f} s'}; "
          f"quarantine {q['count']} rows, {q['bytes']} bytes")
    for d in doc["devices"]:
        if (d["site"], d["room"]) != place:
            continue
        stored = d["last_stored_t"]
        when = "never" if stored is None else f"{stored:.2f} ({now - stored:.1f} s before)"
        status = d["status"] or {}
        state = status.get("state", "?") + (f" ({status['reason']})" if status.get("reason")
                                             else "")
        lag_s = "-" if d["lag_s"] is None else f"{d['lag_s']:.2f} s"
        gap = f" (last: {d['last_gap']['reason']})" if d["last_gap"] else ""
        print(f"    {d['device']}: last_stored_t {when}, lag {lag_s}, status {state}, gaps "
              f"{d['gaps']}{gap}, rejects {d['rejects']}")
