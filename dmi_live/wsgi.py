"""WSGI entry for a clinic: ``gunicorn 'dmi_live.wsgi:server'``.

Settings come from ``DMI_CONFIG`` (a TOML file) and ``DMI_*`` variables. Each worker
process opens the store and holds its own live hub (one MQTT subscription per process);
use the ``gthread`` worker class so server-sent-event streams do not block a worker::

    gunicorn --worker-class gthread --workers 2 --threads 32 --bind 127.0.0.1:8050 \\
        'dmi_live.wsgi:server'
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from dashboard.app import create_app
from dashboard.live import LiveHub
from dmi_live.services import service_address
from dmi_live.settings import load_settings
from store import open_store

logging.basicConfig(level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")

_config = os.environ.get("DMI_CONFIG")
settings = load_settings(Path(_config) if _config else None).with_secret_key()
store = open_store(settings.database_url)
hub = LiveHub(service_address(settings, "dashboard"), site=settings.site,
              client_id=f"dashboard-{settings.site}-{socket.gethostname()}-{os.getpid()}")
hub.start()
app = create_app(settings, hub=hub, store=store)
server = app.server
