"""flask-caching for the replay, sessions and progress pages.

``init_cache(server, settings)`` picks the backend: Redis when ``settings.cache_url`` is
a ``redis://`` URL (shared by every worker process; what a clinic runs), else an
in-process SimpleCache. The loaders below are memoized on plain ids, version strings and
quantised ranges — never on DataFrames or arrays (flask-caching keys on ``repr``).

A session's ``version`` (:attr:`dashboard.replay_data.SessionMeta.version`) is its end
time once it has ended, so its signals are cached for good; a running session's version
changes every 30 s, so the replay of a live session lags it by at most that.

The store comes from ``flask.current_app.extensions["dmi"]["store"]``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import flask
from flask_caching import Cache

from dashboard import replay_data as rd
from dashboard.replay_metrics import SetMetrics, set_metrics
from store.errors import StoreError

log = logging.getLogger(__name__)

cache = Cache()

META_TIMEOUT_S = 30
SIGNALS_TIMEOUT_S = 6 * 3600
VIEW_TIMEOUT_S = 3600
SIMPLE_THRESHOLD = 96
"""Entries the in-process cache keeps; a 45-min session's signals are about 20 MB."""


def init_cache(server: flask.Flask, settings: Any) -> Cache:
    """Attach the cache to ``server`` (idempotent)."""
    if cache in server.extensions.get("cache", {}):
        return cache
    url = getattr(settings, "cache_url", "simple")
    config: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": VIEW_TIMEOUT_S}
    if url.startswith(("redis://", "rediss://")):
        config.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url,
                      CACHE_KEY_PREFIX=f"dmi-{getattr(settings, 'site', 'demo')}:")
    else:
        config.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=SIMPLE_THRESHOLD)
    cache.init_app(server, config=config)
    log.info("replay cache: %s", config["CACHE_TYPE"])
    return cache


def ensure_cache() -> None:
    """Initialise the cache for the current app if ``create_app`` did not."""
    app = flask.current_app
    if cache not in app.extensions.get("cache", {}):
        init_cache(app._get_current_object(), app.extensions.get("dmi", {}).get("settings"))  # type: ignore[attr-defined]


def _store() -> Any:
    return flask.current_app.extensions["dmi"]["store"]


@cache.memoize(timeout=META_TIMEOUT_S)
def _meta(session_id: str) -> rd.SessionMeta | None:
    try:
        return rd.load_meta(_store(), session_id)
    except StoreError:
        return None


def session_meta(session_id: Any) -> rd.SessionMeta | None:
    """The session, or None when there is no such session (or the id is not text)."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > 64:
        return None
    ensure_cache()
    return _meta(session_id)


def allowed_meta(principal: Any, session_id: Any) -> rd.SessionMeta | None:
    """The session if ``principal`` may see its child and room, else None."""
    meta = session_meta(session_id)
    if meta is None or not rd.may_view(principal, meta.child, meta.room):
        return None
    return meta


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _device_signals(session_id: str, device: str, version: str) -> rd.DeviceSignals | None:
    meta = _meta(session_id)
    info = next((d for d in meta.devices if d.device == device), None) if meta else None
    if meta is None or info is None:
        return None
    return rd.load_signals(_store(), meta, info)


def device_signals(meta: rd.SessionMeta, device: rd.DeviceInfo | None) -> rd.DeviceSignals | None:
    """One device's signals; within a request each is fetched (unpickled) from the cache
    once, however many parts of the page need it."""
    if device is None:
        return None
    ensure_cache()
    key = (meta.id, device.device, meta.version)
    local: dict[tuple[str, str, str], rd.DeviceSignals | None] = flask.g.setdefault(
        "dmi_replay_signals", {})
    if key not in local:
        local[key] = _device_signals(*key)
    return local[key]


def all_signals(meta: rd.SessionMeta) -> list[rd.DeviceSignals]:
    """Board first, then the tilt IMU, then the other IMUs. On PostgreSQL the devices not
    cached yet load in parallel threads (a read waits on the server, GIL free, while
    another device's signals are derived); SQLite reads hold the GIL, so one at a time."""
    ensure_cache()
    order = sorted(meta.devices, key=lambda d: (d.kind != "board", d != meta.tilt_imu, d.device))
    local = flask.g.setdefault("dmi_replay_signals", {})
    missing = [d for d in order if (meta.id, d.device, meta.version) not in local]
    if len(missing) > 1 and _store().dialect != "sqlite":
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]

        def load(device: rd.DeviceInfo) -> rd.DeviceSignals | None:
            with app.app_context():
                return _device_signals(meta.id, device.device, meta.version)

        with ThreadPoolExecutor(max_workers=min(4, len(missing)),
                                thread_name_prefix="replay-load") as pool:
            for device, signals in zip(missing, pool.map(load, missing), strict=True):
                local[(meta.id, device.device, meta.version)] = signals
    found = (device_signals(meta, d) for d in order)
    return [s for s in found if s is not None]


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _holes(session_id: str, version: str) -> list[tuple[float, float, str]]:
    meta = _meta(session_id)
    if meta is None:
        return []
    return [(a, b, f"{s.device}: no data") for s in all_signals(meta) for a, b in s.holes]


def holes(meta: rd.SessionMeta) -> list[tuple[float, float, str]]:
    """Missing data found in the samples of every device of the session."""
    return _holes(meta.id, meta.version)


@cache.memoize(timeout=SIGNALS_TIMEOUT_S)
def _metrics(session_id: str, version: str) -> list[SetMetrics]:
    meta = _meta(session_id)
    if meta is None:
        return []
    return set_metrics(meta, device_signals(meta, meta.board), device_signals(meta, meta.tilt_imu))


def session_metrics(meta: rd.SessionMeta) -> list[SetMetrics]:
    return _metrics(meta.id, meta.version)


@cache.memoize(timeout=VIEW_TIMEOUT_S)
def _view(session_id: str, version: str, q0: float, q1: float, points: int) -> rd.TimelineView:
    meta = _meta(session_id)
    if meta is None:
        return rd.TimelineView(q0, q1, ())
    return rd.timeline_view(all_signals(meta), q0, q1, points=points)


def timeline_view(meta: rd.SessionMeta, t0: float, t1: float) -> rd.TimelineView:
    """Display-resolution traces for a view ``[t0, t1]`` (memoized on the quantised range)."""
    q0, q1, points = rd.data_window(t0, t1, meta.duration)
    return _view(meta.id, meta.version, q0, q1, points)


def child_history(principal: Any, child: str, *, limit: int = 20
                  ) -> list[tuple[rd.SessionMeta, list[SetMetrics]]]:
    """The child's latest ``limit`` sessions the principal may see, with per-set metrics."""
    ensure_cache()
    out = []
    for row in _store().sessions(child=child)[:limit]:
        meta = allowed_meta(principal, row.id)
        if meta is not None:
            out.append((meta, session_metrics(meta)))
    return out
