"""The clinic the fault bench breaks: a real Mosquitto, ``dmi-live record`` and
``dmi-live ingest --simulate`` as child processes, the spool watched into a ledger of what
was sent, and the store that should hold all of it; how long each fault run waits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._children import Child, StatusProbe, show_status
from bench._ledger import Ledger, SpoolWatch, compare, stored_rows, wait_until
from dmi_live import services
from dmi_live.broker import MosquittoBroker, free_port
from dmi_live.settings import BrokerSettings, Settings
from store import open_store

SITE, ROOM = "bench", "room-1"
PLACE = (SITE, ROOM)


@dataclass(frozen=True)
class Timing:
    steady: float
    down: float
    recorder_down: float
    clock_s: float
    status_after: bool  # read the status after each fault, and while broker or ingest are down
    listen: float  # dmi-live status --listen


QUICK = Timing(steady=0.5, down=1.5, recorder_down=5.0, clock_s=3.0, status_after=False,
               listen=0.5)
FULL = Timing(steady=5.0, down=5.0, recorder_down=8.0, clock_s=12.0, status_after=True,
              listen=1.0)


# ----------------------------------------------------------------------------- the clinic


@dataclass
class Clinic:
    settings: Settings
    config: Path
    broker: MosquittoBroker
    recorder: Child
    ingest: Child
    watch: SpoolWatch
    ledger: Ledger
    store: Any
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    timing: Timing = FULL
    checks: dict[str, str] = field(default_factory=dict)  # facts for the key=value line

    def caught_up(self, timeout: float) -> float | None:
        """Seconds until everything spooled so far is stored (None: not in ``timeout``)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            self.watch.poll()
            snapshot = Ledger(self.ledger.snapshot())
            if snapshot.samples() and compare(snapshot, self.store, PLACE).total_lost == 0:
                return time.monotonic() - start
            time.sleep(0.3)
        return None

    def stored_since(self, t: float) -> bool:
        """Whether a good sample with host time after ``t`` is stored."""
        return any(len(stored_rows(self.store, d, PLACE, t)) for d in ("board-1", "imu-trunk"))

    def probe(self, label: str) -> StatusProbe:
        return StatusProbe(self.config, label, self.timing.listen)

    def collect(self, probe: StatusProbe) -> dict[str, Any]:
        doc = probe.result()
        self.statuses.append((probe.label, doc))
        show_status(probe.label, doc, PLACE)
        return doc


@contextmanager
def clinic(folder: Path, timing: Timing) -> Iterator[Clinic]:
    data, logs = folder / "data", folder / "logs"
    logs.mkdir(parents=True)
    port = free_port()
    config = folder / "dmi-live.toml"
    config.write_text(f'site = "{SITE}"\nrooms = ["{ROOM}"]\ndata_dir = "{data}"\n'
                      f"[broker]\nport = {port}\n")
    settings = Settings(site=SITE, rooms=(ROOM,), data_dir=data,
                        broker=BrokerSettings(port=port))
    broker, settings = services.start_broker(settings, fallback=False, pick_free_port=False)
    assert isinstance(broker, MosquittoBroker)
    recorder = Child("recorder", config, logs, "record")
    ingest = Child("ingest", config, logs, "ingest", "--simulate", "--room-id", ROOM)
    ledger = Ledger()
    watch = SpoolWatch(data / "spool" / f"{ROOM}.sqlite", ledger, every=0.3)
    store = None
    try:
        recorder.start()
        ingest.start()
        watch.start()
        wait_until(lambda: (data / "dmi-live.sqlite").exists(), 30)
        store = open_store(settings.database_url)
        yield Clinic(settings, config, broker, recorder, ingest, watch, ledger, store,
                     timing=timing)
    finally:
        for child in (ingest, recorder):
            child.stop()
        watch.stop()
        broker.stop()
        if store is not None:
            store.close()


def wait_recovered(c: Clinic, since: float, timeout: float = 60.0) -> float | None:
    """Seconds until the stream is stored again (a sample after ``since``) and nothing
    spooled is missing."""
    start = time.monotonic()
    if not wait_until(lambda: c.stored_since(since), timeout, every=0.2):
        return None
    rest = c.caught_up(timeout - (time.monotonic() - start))
    return None if rest is None else time.monotonic() - start
