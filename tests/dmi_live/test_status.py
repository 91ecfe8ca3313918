"""``dmi-live status`` and ``dmi-live quarantine`` tell the truth about a running recording:
a real Mosquitto generated for a data folder, the recorder, a room's ingest account."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from contract import DeviceStatus, samples_topic, status_topic
from dmi_live.broker import Credentials, MosquittoBroker, free_port
from dmi_live.services import credentials_path, service_address
from dmi_live.settings import Settings
from ingest.mqtt import connect, make_client
from record.recorder import Recorder
from store import open_store
from tests.conftest import need, wait_until
from tests.record.test_recorder import ROWS, make_batch, publish_all

pytestmark = pytest.mark.broker


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmi_live.cli", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def clinic(tmp_path: Path) -> Iterator[tuple[Settings, Path]]:
    import shutil

    need(shutil.which("mosquitto") is not None, "Debian's mosquitto is not installed")
    data = tmp_path / "data"
    config = tmp_path / "dmi-live.toml"
    config.write_text(f'site = "north"\nrooms = ["gym-1"]\ndata_dir = "{data}"\n')
    settings = Settings(site="north", rooms=("gym-1",), data_dir=data)
    creds = Credentials.load_or_create(credentials_path(settings), rooms=settings.rooms)
    broker = MosquittoBroker(data / "broker", host="127.0.0.1", port=free_port(),
                             credentials=creds, site="north")
    broker.start()
    settings = replace(settings, broker=replace(settings.broker, port=broker.port))
    try:
        yield settings, config
    finally:
        broker.stop()


def test_status_shows_each_device_its_last_stored_sample_gaps_and_rejects(
    clinic: tuple[Settings, Path]
) -> None:
    settings, config = clinic
    store = open_store(settings.database_url)
    recorder = Recorder(service_address(settings, "recorder"), store, client_id="rec",
                        site="north")
    recorder.start()
    assert recorder.wait_connected(5)
    time.sleep(0.2)
    ingest = service_address(settings, "ingest", room="gym-1")
    pub = make_client(ingest, client_id="ingest-gym-1")
    connect(pub, ingest)
    pub.loop_start()
    status = DeviceStatus("board-1", "board", "online", time.time())
    pub.publish(status_topic("north", "gym-1", "board-1"), status.encode(), qos=1,
                retain=True).wait_for_publish(5)
    topic = samples_topic("north", "gym-1", "board-1")
    batches = [make_batch(0), make_batch(ROWS), make_batch(5 * ROWS)]  # a hole of 75
    publish_all(pub, [(topic, b.encode()) for b in batches] + [(topic, b"{not json")])
    assert wait_until(lambda: recorder.stats.messages >= 5)

    result = run("status", "--config", str(config), "--json", "--listen", "1")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    (board,) = doc["devices"]
    assert (board["site"], board["room"], board["device"], board["kind"]) == (
        "north", "gym-1", "board-1", "board")
    assert board["last_stored_t"] == pytest.approx(batches[-1].host_times()[-1], abs=1e-6)
    assert board["status"]["state"] == "online"
    assert board["gaps"] == 1
    assert "75 samples missing" in board["last_gap"]["reason"]
    assert board["rejects"] == 1
    assert doc["quarantine"] == {"count": 1, "bytes": len(b"{not json")}
    assert doc["broker"]["reachable"] is True

    text = run("status", "--config", str(config), "--listen", "0")
    assert "north/gym-1/board-1 [board]" in text.stdout
    assert "1 gaps" in text.stdout
    assert "1 rejects" in text.stdout
    rejects = run("quarantine", "--config", str(config), "--json")
    (line,) = rejects.stdout.splitlines()
    assert json.loads(line)["reason"].startswith("payload: not valid JSON")

    pub.publish(status_topic("north", "gym-1", "board-1"), b"", qos=1,
                retain=True).wait_for_publish(5)
    pub.disconnect()
    recorder.stop()
    store.close()


def test_status_of_a_folder_without_a_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    result = run("status", "--data-dir", str(tmp_path / "typo"), "--listen", "0")
    assert result.returncode == 2
    assert "no DMI Live store at" in result.stderr
    assert "wrong --data-dir?" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_a_device_on_the_wire_that_nothing_stores_is_listed_and_called_out(
    tmp_path: Path,
) -> None:
    """Samples flow but the recorder is not running: status must not say "no devices"."""
    from dmi_live.status_cli import WireView, print_report, report

    now = time.time()
    key = ("north", "gym-1", "board-1")
    wire = WireView(reachable=True, newest={key: now - 0.5}, kinds={key: "board"})
    with open_store(tmp_path / "store.sqlite") as store:
        doc = report(store, wire, now=now)
    lines: list[str] = []
    print_report(doc, lines.append)

    assert [(d["device"], d["kind"], d["last_stored_t"]) for d in doc["devices"]] == [
        ("board-1", "board", None)]
    assert doc["recorder"]["not_stored"] == 1
    assert any("none is stored (is dmi-live record running?)" in line for line in lines)
    assert not any("devices: none yet" in line for line in lines)


def test_status_piped_into_a_closed_reader_exits_quietly(tmp_path: Path) -> None:
    """``dmi-live status | head -1``: no BrokenPipeError traceback."""
    config = tmp_path / "dmi-live.toml"
    config.write_text(f'site = "north"\nrooms = ["gym-1"]\ndata_dir = "{tmp_path / "d"}"\n')
    (tmp_path / "d").mkdir()
    with open_store(tmp_path / "d" / "dmi-live.sqlite"):
        pass
    child = subprocess.Popen(
        [sys.executable, "-m", "dmi_live.cli", "status", "--config", str(config), "--listen",
         "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.close()  # the reader is gone before the first line is written
    _, err = child.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert "broken pipe" not in err.lower(), err
