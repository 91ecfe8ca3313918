"""A tiny ingest process for the fault tests: one deterministic counting device → spool →
Mosquitto, exactly as the real ingest (``IngestService`` + ``Forwarder`` + ``Spool``).

Run as ``python -m tests.ingest.ingest_runner --site S --port P --spool FILE …`` with
the broker password in ``DMI_BROKER_PASSWORD``. The device ``counter`` produces
``--samples`` readings at ``--rate`` Hz in boot ``--boot``; reading ``k`` has sequence
number ``k`` and the value ``k`` in its first column, so a test knows every sample it
must find in the store. The process exits 0 once its device is done and the spool is
empty (every batch acknowledged by the broker).

``--crash-in-ack-window``: once every sample is in the spool, SIGKILL this process at
the next broker acknowledgement, *before* the acknowledged batches leave the spool — the
moment that makes a restarted ingest send batches the recorder already has.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence

from contract import DeviceStatus, SampleBatch
from ingest.devices.base import BOARD_COLUMNS, Reading, Source
from ingest.forwarder import Forwarder
from ingest.mqtt import BrokerAddress
from ingest.service import BatchPolicy, IngestService
from ingest.spool import Spool

log = logging.getLogger("ingest_runner")

DEVICE = "counter"


class CountingSource(Source):
    """Reading ``k`` at device time ``k / rate`` with values ``(k, 0, 0, 0)``, paced."""

    device = DEVICE
    kind = "board"
    columns = BOARD_COLUMNS
    placement = "under-feet"

    def __init__(self, *, samples: int, rate: float, boot: str) -> None:
        super().__init__()
        self.samples, self.period, self.boot = samples, 1.0 / rate, boot
        self.next = 0
        self.start = 0.0

    def setup(self) -> None:
        if not self.start:
            self.start = time.monotonic()

    def read(self, timeout: float) -> list[Reading]:
        due = min(self.samples, int((time.monotonic() - self.start) / self.period) + 1)
        if due <= self.next:
            time.sleep(timeout)
            return []
        out = [Reading(k * self.period, (float(k), 0.0, 0.0, 0.0)) for k in range(self.next, due)]
        self.next = due
        return out

    @property
    def done(self) -> bool:
        return self.next >= self.samples


def crash_in_ack_window(spool: Spool, total: int) -> None:
    """Arm the crash described in the module docstring."""
    spooled = 0
    put_many, ack = spool.put_many, spool.ack

    def counting_put(items: Sequence[tuple[str, bytes, int, bool]]) -> int:
        nonlocal spooled
        accepted = put_many(items)
        spooled += sum(len(json.loads(p)["rows"]) for _, p, _, _ in items[:accepted])
        return accepted

    def crashing_ack(ids: Sequence[int]) -> None:
        if ids and spooled >= total:
            log.warning("crashing with %d acknowledged batches still spooled", len(ids))
            os.kill(os.getpid(), signal.SIGKILL)
        ack(ids)

    spool.put_many = counting_put  # type: ignore[method-assign]
    spool.ack = crashing_ack  # type: ignore[method-assign,assignment]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", required=True)
    parser.add_argument("--room", default="room-1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--boot", required=True)
    parser.add_argument("--crash-in-ack-window", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s runner %(levelname)s %(name)s: %(message)s")
    address = BrokerAddress(port=args.port, username=os.environ["DMI_BROKER_USERNAME"],
                            password=os.environ["DMI_BROKER_PASSWORD"])
    spool = Spool(args.spool)
    if args.crash_in_ack_window:
        crash_in_ack_window(spool, args.samples)
    forwarder = Forwarder(address, spool, site=args.site, room=args.room,
                          client_id=f"ingest-{args.site}-{args.room}")
    forwarder.start()
    left_over = len(spool)  # from a previous run that died
    batches = 0

    def submit(item: SampleBatch | DeviceStatus) -> None:
        nonlocal batches
        batches += isinstance(item, SampleBatch)
        forwarder.submit(item)

    source = CountingSource(samples=args.samples, rate=args.rate, boot=args.boot)
    service = IngestService([source], submit, BatchPolicy(batch_size=10))
    service.start()
    while not (service.samples == args.samples and forwarder.stats.acked >= left_over + batches):
        time.sleep(0.05)
    service.stop()
    forwarder.stop()
    spool.close()
    log.info("done: %d samples, spool empty", service.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
