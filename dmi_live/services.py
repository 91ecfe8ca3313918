"""Start and stop the parts of DMI Live; the CLI and the demo compose these."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from dmi_live.broker import (
    AmqttBroker,
    Credentials,
    MosquittoBroker,
    choose_port,
    ingest_account,
)
from dmi_live.errors import BrokerError, DmiError
from dmi_live.finisher import SessionFinisher
from dmi_live.settings import Settings
from ingest.devices.base import Source
from ingest.forwarder import Forwarder
from ingest.mqtt import BrokerAddress
from ingest.service import BatchPolicy, IngestService
from ingest.spool import Spool

log = logging.getLogger(__name__)


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / "broker" / "credentials.toml"


def service_address(settings: Settings, service: str, *, room: str | None = None
                    ) -> BrokerAddress:
    """Where and as whom ``service`` connects: explicit settings first, then the
    credentials that ``dmi-live broker`` generated in the same data folder (an ingest
    uses its room's account)."""
    b = settings.broker
    username, password = b.username, b.password
    path = credentials_path(settings)
    if username is None and path.exists():
        account = ingest_account(room) if service == "ingest" and room else service
        creds = Credentials.load_or_create(path)
        if account not in creds.passwords:
            raise BrokerError(f"no broker account {account!r} in {path}: add the room to "
                              "'rooms' in the settings and restart the broker")
        username, password = creds.for_service(account)
    return BrokerAddress(host=b.host, port=b.port, username=username, password=password,
                         tls=b.tls, ca_file=b.ca_file, protocol=b.protocol)


def start_broker(settings: Settings, *, fallback: bool, pick_free_port: bool
                 ) -> tuple[MosquittoBroker | AmqttBroker, Settings]:
    """Start Mosquitto (or amqtt when allowed and Mosquitto is missing); return settings
    pointing at it (the port may differ when ``pick_free_port``)."""
    host = settings.broker.host
    port = settings.broker.port
    if pick_free_port:
        chosen = choose_port(host, port)
        if chosen != port:
            log.warning("port %s is taken (another MQTT broker?): using %s instead", port, chosen)
        port = chosen
    broker: MosquittoBroker | AmqttBroker
    if MosquittoBroker.available():
        creds = Credentials.load_or_create(credentials_path(settings), rooms=settings.rooms)
        broker = MosquittoBroker(settings.data_dir / "broker", host=host, port=port,
                                 credentials=creds, site=settings.site)
        protocol = 5
    elif fallback:
        log.warning("mosquitto is not installed: using the in-process amqtt broker "
                    "(MQTT 3.1.1, no passwords; install Debian's mosquitto for a real one)")
        broker = AmqttBroker(host=host, port=port)
        protocol = 4
        credentials_path(settings).unlink(missing_ok=True)
    else:
        raise BrokerError("mosquitto is not installed (Debian: apt-get install mosquitto)")
    broker.start()
    new = replace(settings, broker=replace(settings.broker, port=port, protocol=protocol))
    return broker, new


@dataclass
class IngestHandle:
    forwarder: Forwarder
    service: IngestService
    spool: Spool

    def stop(self) -> None:
        self.service.stop()
        self.forwarder.stop()
        self.spool.close()


def start_ingest(settings: Settings, room: str, sources: Sequence[Source], *,
                 policy: BatchPolicy | None = None,
                 spool_max_messages: int | None = None) -> IngestHandle:
    """Spool, forwarder and one reader thread per source for ``room``."""
    path = settings.data_dir / "spool" / f"{room}.sqlite"
    spool = Spool(path) if spool_max_messages is None else Spool(
        path, max_messages=spool_max_messages)
    address = service_address(settings, "ingest", room=room)
    forwarder = Forwarder(address, spool, site=settings.site, room=room,
                          client_id=f"ingest-{settings.site}-{room}")
    forwarder.start()
    service = IngestService(sources, forwarder.submit, policy)
    service.start()
    return IngestHandle(forwarder, service, spool)


@dataclass
class RecorderHandle:
    recorder: Any
    engine: Any
    store: Any
    finisher: Any

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        self.recorder.stop()
        self.finisher.stop()
        self.store.close()


def start_recorder(settings: Settings, *, group: str | None = None,
                   client_id: str | None = None, engine: bool = True) -> RecorderHandle:
    """The recorder, and (unless ``engine`` is False) the session engine beside it.

    Run exactly one engine per site: with several recorders in a group, start the others
    with ``engine=False`` (``dmi-live record --no-engine``).
    """
    from record.engine_service import EngineService
    from record.recorder import Recorder
    from store import open_store

    store = open_store(settings.database_url)
    address = service_address(settings, "recorder")
    # the recorder that stores a session's end prepares its replay (in a group, each
    # event reaches one of them)
    finisher = SessionFinisher(store)
    recorder = Recorder(address, store, client_id=client_id or f"recorder-{settings.site}",
                        site=settings.site, group=group, on_event=finisher.on_event)
    finisher.start()
    recorder.start()
    service = None
    if engine:
        service = EngineService(address, store, site=settings.site,
                                client_id=f"engine-{settings.site}")
        service.start()
    return RecorderHandle(recorder, service, store, finisher)


@dataclass
class DashboardHandle:
    server: BaseWSGIServer
    thread: threading.Thread
    hub: Any
    store: Any
    url: str

    def stop(self) -> None:
        self.hub.stop()
        self.server.shutdown()
        self.thread.join(5)
        self.store.close()


def start_dashboard(settings: Settings, *, pick_free_port: bool = False) -> DashboardHandle:
    from dashboard.app import create_app
    from dashboard.live import LiveHub
    from store import open_store

    port = settings.http_port
    if pick_free_port:
        chosen = choose_port(settings.http_host, port)
        if chosen != port:
            log.warning("HTTP port %s is taken: using %s instead", port, chosen)
        port = chosen
    hub = LiveHub(service_address(settings, "dashboard"), site=settings.site,
                  client_id=f"dashboard-{settings.site}-{socket.gethostname()}-{port}")
    store = open_store(settings.database_url)
    hub.start()
    app = create_app(settings, hub=hub, store=store)
    try:
        server = make_server(settings.http_host, port, app.server, threaded=True)
    except OSError as exc:
        hub.stop()
        store.close()
        raise DmiError(f"cannot serve on {settings.http_host}:{port}: {exc.strerror}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    return DashboardHandle(server, thread, hub, store, f"http://{settings.http_host}:{port}")
