"""Exports started from the replay page: one background job per request.

The job runs in a thread of the process that got the request; its progress lives in the
flask cache (so with Redis any worker can answer the progress poll), its file under
``settings.data_dir / "exports"``. ``GET /exports/<job>`` sends the file to a signed-in
principal who may see the session's child and room — the job id alone is not enough.
Files older than :data:`KEEP_S` are removed when the next job starts.

Wiring: ``init_exports(server, settings)`` registers the download route.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import flask
from werkzeug.exceptions import NotFound

from access import may_review
from dashboard import auth
from dashboard import cache as replay_cache
from review import replay_data as rd
from store import Store

log = logging.getLogger(__name__)

KEEP_S = 3600
PROGRESS_EVERY_S = 0.25
blueprint = flask.Blueprint("dmi_exports", __name__)


def init_exports(server: flask.Flask, settings: Any) -> None:
    """Register the download route (idempotent)."""
    if "dmi_exports" not in server.blueprints:
        server.register_blueprint(blueprint)


def _key(job: str) -> str:
    return f"export-job:{job}"


def _folder(app: flask.Flask) -> Path:
    settings = app.extensions["dmi"]["settings"]
    folder = Path(settings.data_dir) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prune(folder: Path, now: float) -> None:
    for path in folder.iterdir():
        try:
            if now - path.stat().st_mtime > KEEP_S:
                path.unlink()
        except OSError:
            continue


def start_export(meta: rd.SessionMeta, fmt: str, who: str) -> str:
    """Start exporting ``meta``'s session as ``fmt``; return the job id."""
    from review.exporting import FORMATS, audit_export, default_name

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    replay_cache.ensure_cache()
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    folder = _folder(app)
    _prune(folder, time.time())
    job = uuid.uuid4().hex
    name = default_name(meta.id, fmt)
    status = {"state": "running", "done": 0, "total": 1, "what": "starting", "name": name,
              "file": str(folder / f"{job}-{name}"), "session": meta.id, "child": meta.child,
              "room": meta.room, "owner": who, "error": ""}
    replay_cache.cache.set(_key(job), status, timeout=KEEP_S)
    store = app.extensions["dmi"]["store"]
    audit_export(store, who, meta.child, meta.id, fmt)
    thread = threading.Thread(target=_run, args=(app, store, meta, fmt, job, status),
                              name=f"export-{job[:8]}", daemon=True)
    thread.start()
    return job


def _run(app: flask.Flask, store: Store, meta: rd.SessionMeta, fmt: str, job: str,
         status: dict[str, Any]) -> None:
    from review.exporting import bundle_from_store, write_bundle
    from review.report_pdf import build_report, write_pdf

    last = 0.0

    def progress(done: int, total: int, what: str) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY_S and done < total:
            return
        last = now
        status.update(done=done, total=max(total, 1), what=what)
        replay_cache.cache.set(_key(job), status, timeout=KEEP_S)

    with app.app_context():
        try:
            path = Path(status["file"])
            if fmt == "pdf":
                progress(0, 4, "analysing")
                report = build_report(meta, replay_cache.all_signals(meta))
                write_pdf(report, path, progress=progress)
            else:
                write_bundle(bundle_from_store(store, meta.id), path, fmt, progress=progress)
            status.update(state="done", done=status["total"], what="done")
        except Exception as exc:
            log.exception("export %s of session %s failed", fmt, meta.id)
            status.update(state="failed", error=str(exc) or type(exc).__name__)
        replay_cache.cache.set(_key(job), status, timeout=KEEP_S)


def export_status(job: Any, principal: Any) -> dict[str, Any] | None:
    """The job's status if ``principal`` may see its session, else None."""
    if not isinstance(job, str) or not job.isalnum() or len(job) > 64:
        return None
    replay_cache.ensure_cache()
    status = replay_cache.cache.get(_key(job))
    if not isinstance(status, dict) or not may_review(principal, status["child"],
                                                       status["room"]):
        return None
    return status


@blueprint.get("/exports/<job>")
def download(job: str) -> flask.Response:
    status = export_status(job, auth.current())
    if status is None or status["state"] != "done" or not Path(status["file"]).exists():
        raise NotFound("no such export")
    return flask.send_file(status["file"], as_attachment=True, download_name=status["name"],
                           max_age=0)
