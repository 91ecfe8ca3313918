"""The replay pages through HTTP (Flask test client): every callback checks who asks, a
forged request naming another child's session gets nothing, exports download only for
those who may see the session, and the loaders are memoized in the cache."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboard import cache as replay_cache
from dashboard import exports
from dmi_live.broker import free_port
from store import Store, open_store
from store import replay as store_replay
from tests.conftest import need
from tests.dashboard.replay_session import add_test_login, record_session
from tests.review.test_replay_data import add_imu

# scripts/test-services sets it when it started its own Redis
REDIS_URL = os.environ.get("DMI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

class App:
    def __init__(self, tmp: Path, cache_url: str = "simple") -> None:
        from dashboard.app import create_app
        from dashboard.live import LiveHub
        from dmi_live.settings import Settings
        from ingest.mqtt import BrokerAddress

        self.store: Store = open_store(tmp / "dmi-live.sqlite")
        record_session(self.store, duration=60.0)
        record_session(self.store, session="s-other", child="c-99", room="room-2",
                       start=self.store.session("s-1").end + 600, duration=30.0, name="Noah")
        self.settings = Settings(data_dir=tmp, store_url=str(tmp / "dmi-live.sqlite"),
                                 cache_url=cache_url, site=f"t{uuid.uuid4().hex[:8]}")
        hub = LiveHub(BrokerAddress(port=free_port()), site=self.settings.site,
                      client_id="test-replay")
        self.app = create_app(self.settings, hub=hub, store=self.store)
        add_test_login(self.app.server, self.store)
        self.client = self.app.server.test_client()
        staff = self.app.server.test_client()  # the callback graph is for signed-in users
        staff.get("/test-login?name=sup")
        self.deps = staff.get("/_dash-dependencies").get_json()

    def login(self, **who: str) -> None:
        self.client.get("/test-login", query_string=who)

    def logout(self) -> None:
        self.client.post("/logout")

    def call(self, output_part: str, inputs: dict[str, Any], state: dict[str, Any],
             changed: str, rows: int = 3) -> Any:
        """POST one callback as the browser would; ``rows``: how many components an ALL
        pattern id matches. Returns (status, JSON body or None)."""
        dep = next(d for d in self.deps if output_part in d["output"]
                   and not d.get("clientside_function"))

        def expand(id_: str, prop: str, value: Any = None, with_value: bool = False) -> Any:
            if id_.startswith("{"):
                pattern = json.loads(id_)
                items = [{"id": {**pattern, "index": i}, "property": prop} for i in range(rows)]
                if with_value:
                    for item in items:
                        item["value"] = value
                return items
            item = {"id": id_, "property": prop}
            if with_value:
                item["value"] = value
            return item

        def args(items: list[dict[str, Any]], values: dict[str, Any]) -> list[Any]:
            return [expand(i["id"], i["property"], values.get(f"{i['id']}.{i['property']}"), True)
                    if not i["id"].startswith("{") else
                    expand(i["id"], i["property"], values.get(i["property"]), True)
                    for i in items]

        text = dep["output"]
        parts = text.strip(".").split("...") if text.startswith("..") else [text]
        outputs = []
        for part in parts:
            id_, prop = part.rsplit(".", 1)
            outputs.append(expand(id_, prop.split("@")[0]))
        payload = {"output": text, "outputs": outputs if text.startswith("..") else outputs[0],
                   "inputs": args(dep["inputs"], inputs), "state": args(dep["state"], state),
                   "changedPropIds": [changed]}
        response = self.client.post("/_dash-update-component", json=payload)
        return response.status_code, (response.get_json() if response.data else None)

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = App(tmp_path)
    yield built
    built.close()


def stabilogram(app: App, session: str) -> tuple[int, Any]:
    return app.call("replay-stabilogram-graph.figure",
                    {"replay-cursor.data": 30.0, "replay-play-fetch.data": None},
                    {"replay-session.data": session}, "replay-cursor.data")


def zoom(app: App, session: str) -> tuple[int, Any]:
    return app.call("replay-timeline-graph.figure",
                    {"replay-timeline-graph.relayoutData": {"xaxis.range[0]": 10000,
                                                            "xaxis.range[1]": 20000}},
                    {"replay-session.data": session, "replay-cursor.data": None},
                    "replay-timeline-graph.relayoutData")


def page(app: App, path: str) -> str:
    status, body = app.call("app-page.children", {"app-url.pathname": path,
                                                  "app-url.search": ""}, {}, "app-url.pathname")
    assert status == 200
    return json.dumps(body, ensure_ascii=False)


def test_callbacks_answer_staff_who_may_see_the_child(app: App) -> None:
    app.login(name="sup", role="supervisor")
    status, body = stabilogram(app, "s-1")
    assert status == 200
    figure = body["response"]["replay-stabilogram-graph"]["figure"]
    assert len(figure["data"][0]["x"]) == 501
    assert body["response"]["replay-cursor-label"]["children"] == "Cursor at 0:30"
    status, body = zoom(app, "s-1")
    assert status == 200
    assert body["response"]["replay-timeline-graph"]["figure"]["layout"]["xaxis"]["range"] == [
        10000.0, 20000.0]
    assert body["response"]["replay-set-caption"]["children"] == "In view: set 1 of 3"


@pytest.mark.parametrize("who", [
    {"name": "ther", "role": "therapist", "children": "c-17"},  # another child's therapist
    None,  # nobody signed in
])
def test_a_forged_request_for_another_childs_session_gets_nothing(app: App, who: Any) -> None:
    if who:
        app.login(**who)
    for call in (stabilogram, zoom):
        status, body = call(app, "s-other")
        assert status == 204
        assert body is None
    status, _ = app.call("replay-export-job.data", {"replay-export-csv.n_clicks": 1},
                         {"replay-session.data": "s-other"}, "replay-export-csv.n_clicks")
    assert status == 204
    assert "This screen needs a link" in page(app, "/replay/s-other") or \
        "Sign in" in page(app, "/replay/s-other")
    status, _ = app.call("progress-graph.figure", {"progress-exercise.value": "x",
                                                   "progress-metric.value": "ellipse_area_cm2"},
                         {"progress-child.data": "c-99"}, "progress-exercise.value")
    assert status == 204


def test_kiosk_and_odd_ids_get_nothing(app: App) -> None:
    import time

    from dashboard import kiosk_links

    token, _ = kiosk_links.create(app.store, app.settings.secret_key, "room-1",
                                  created_by="test", now=time.time())
    app.client.get(f"/wall/room-1?k={token}")
    assert stabilogram(app, "s-1")[0] == 204, "a wall screen of the same room sees no replay"
    app.login(name="sup", role="supervisor")
    for forged in (None, 42, "", "x" * 500, {"id": "s-1"}):
        assert stabilogram(app, forged)[0] == 204


def test_pages_render_for_staff(app: App) -> None:
    app.login(name="sup", role="supervisor")
    replay = page(app, "/replay/s-1")
    assert "replay-timeline-graph" in replay
    assert "Sit-to-stand on foam" in replay
    assert "Page not found" in page(app, "/replay/no-such-session")
    sessions = page(app, "/sessions")
    assert "s-other" in sessions
    assert "s-1" in sessions
    progress = page(app, "/progress/c-17")
    assert "Progress — Mia" in progress
    actions = [a.action for a in app.store.audit_log(child="c-17")]
    assert "replay" in actions
    assert "progress" in actions


def test_a_page_view_is_audited_once_and_the_replay_warms_before_its_metrics(
        app: App, monkeypatch: Any) -> None:
    calls: list[str] = []
    depth = [0]

    def recording(name: str) -> Any:
        original = getattr(replay_cache, name)

        def wrapper(*args: Any, **kw: Any) -> Any:
            if depth[0] == 0:  # the page's own calls, not the cache's calls of its own
                calls.append(name)
            depth[0] += 1
            try:
                return original(*args, **kw)
            finally:
                depth[0] -= 1
        return wrapper

    for name in ("session_meta", "warm", "session_metrics", "holes", "timeline_view",
                 "device_signals"):
        monkeypatch.setattr(replay_cache, name, recording(name))

    def audited() -> list[tuple[str, str, str]]:
        return [(a.who, a.action, a.detail) for a in app.store.audit_log(child="c-17")
                if a.action in ("replay", "progress")]

    app.login(name="ther", role="therapist", children="c-99")
    assert "needs a link from your clinic" in page(app, "/replay/s-1")
    assert "needs a link from your clinic" in page(app, "/progress/c-17")
    assert audited() == [], "a refused view is not a view"
    calls.clear()
    app.login(name="sup", role="supervisor")
    assert "replay-timeline-graph" in page(app, "/replay/s-1")
    assert calls == ["session_meta", "warm", "session_metrics", "holes", "timeline_view",
                     "device_signals"]
    assert "Progress — Mia" in page(app, "/progress/c-17")
    assert sorted(audited()) == [("sup", "progress", ""), ("sup", "replay", "s-1")]


def test_page_export_downloads_only_for_those_allowed(app: App) -> None:
    from review.exporting import read_bundle

    app.login(name="sup", role="supervisor")
    status, body = app.call("replay-export-job.data", {"replay-export-parquet.n_clicks": 1},
                            {"replay-session.data": "s-1"}, "replay-export-parquet.n_clicks")
    assert status == 200
    job = body["response"]["replay-export-job"]["data"]
    deadline = time.monotonic() + 30
    while True:
        status, body = app.call("replay-export-progress.value",
                                {"replay-export-poll.n_intervals": 1},
                                {"replay-export-job.data": job}, "replay-export-poll.n_intervals")
        response = body["response"]
        if response["replay-export-link"]["href"]:
            break
        assert time.monotonic() < deadline, response
        time.sleep(0.1)
    assert response["replay-export-progress"]["value"] == "100"
    href = response["replay-export-link"]["href"]
    download = app.client.get(href)
    assert download.status_code == 200
    path = app.settings.data_dir / "got.zip"
    path.write_bytes(download.data)
    download.close()
    assert read_bundle(path).manifest["session"]["id"] == "s-1"
    app.login(name="ther", role="therapist", children="c-99")
    assert app.client.get(href).status_code == 404
    app.logout()
    assert app.client.get(href).status_code == 404
    assert app.client.get("/exports/not-a-job").status_code == 404


def test_loaders_are_memoized_on_ids_and_quantised_ranges(app: App, monkeypatch: Any) -> None:
    reads: list[str] = []
    views: list[float] = []
    read_columns, timeline_view = store_replay.read_columns, replay_cache.rv.timeline_view

    def counting_reads(store: Any, device: str, *args: Any, **kw: Any) -> Any:
        reads.append(device)
        return read_columns(store, device, *args, **kw)

    def counting_views(signals: Any, t0: float, t1: float, **kw: Any) -> Any:
        views.append(t0)
        return timeline_view(signals, t0, t1, **kw)

    monkeypatch.setattr(store_replay, "read_columns", counting_reads)
    monkeypatch.setattr(replay_cache.rv, "timeline_view", counting_views)
    with app.app.server.test_request_context():
        meta = replay_cache.session_meta("s-1")
        assert meta == replay_cache.session_meta("s-1")
        first = replay_cache.timeline_view(meta, 10.1, 20.1)
        assert sorted(reads) == sorted(d.device for d in meta.devices)
        again = replay_cache.timeline_view(meta, 10.2, 20.2)  # same quantised window
        assert [t.x.size for t in again.traces] == [t.x.size for t in first.traces]
        assert len(views) == 1
        replay_cache.timeline_view(meta, 0.0, 60.0)
        assert len(views) == 2
        replay_cache.session_metrics(meta)
        assert len(reads) == len(meta.devices), "signals are read once per device"
        assert replay_cache.session_meta("nope") is None
        assert replay_cache.session_meta(None) is None


def test_page_open_takes_the_other_imus_from_an_overview(app: App, monkeypatch: Any) -> None:
    add_imu(app.store, "room-1-imu-pelvis", "pelvis", 60.0, [(2000, 2300)])
    reads: list[tuple[str, tuple[str, ...]]] = []
    overviews: list[str] = []
    read_columns, norm_envelope = store_replay.read_columns, store_replay.norm_envelope

    def counting_reads(store: Any, device: str, columns: Any, *args: Any) -> Any:
        reads.append((device, tuple(columns)))
        return read_columns(store, device, columns, *args)

    def counting_envelopes(store: Any, device: str, *args: Any, **kw: Any) -> Any:
        overviews.append(device)
        return norm_envelope(store, device, *args, **kw)

    monkeypatch.setattr(store_replay, "read_columns", counting_reads)
    monkeypatch.setattr(store_replay, "norm_envelope", counting_envelopes)
    with app.app.server.test_request_context():
        meta = replay_cache.session_meta("s-1")
        assert [d.device for d in meta.display_only] == ["room-1-imu-pelvis"]
        replay_cache.warm(meta)  # on SQLite the overview loads when first needed
        assert sorted(d for d, _ in reads) == ["room-1-board", "room-1-imu-trunk"]
        spans = [(a, b) for a, b, label in replay_cache.holes(meta)
                 if label == "room-1-imu-pelvis: no data"]
        assert overviews == ["room-1-imu-pelvis"]
        assert spans == [(pytest.approx(20.0, abs=1e-6), pytest.approx(23.0, abs=1e-6))]
        view = replay_cache.timeline_view(meta, 0.0, meta.duration)
        assert view.traces[-1].key == "room-1-imu-pelvis.omega"
        assert np.isnan(view.traces[-1].y).any(), "the hole breaks the line"
    with app.app.server.test_request_context():
        replay_cache.warm(meta)  # cached: nothing read again
        assert overviews == ["room-1-imu-pelvis"]
        assert sorted(d for d, _ in reads if d != "room-1-imu-pelvis") == [
            "room-1-board", "room-1-imu-trunk"]


@pytest.mark.redis
def test_redis_backend_round_trips_the_signals(tmp_path: Path) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        need(False, f"Redis is not running at {REDIS_URL}")
    built = App(tmp_path, cache_url=REDIS_URL)
    try:
        with built.app.server.test_request_context():
            meta = replay_cache.session_meta("s-1")
            signals = replay_cache.all_signals(meta)
            again = replay_cache.all_signals(meta)
            assert [s.t.size for s in again] == [s.t.size for s in signals]
            assert replay_cache.cache.cache.__class__.__name__ == "RedisCache"
            replay_cache.cache.clear()
    finally:
        built.close()
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_export_status_rejects_malformed_jobs(app: App) -> None:
    with app.app.server.test_request_context():
        assert exports.export_status("../../etc/passwd", None) is None
        assert exports.export_status(None, None) is None
