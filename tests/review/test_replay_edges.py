"""A session whose board starts sending late (or stops early) says so on the replay, and
the summary's data gaps count it: no unexplained empty seconds beside "Data gaps: 0"."""

from __future__ import annotations

from review.replay_views import edge_holes


def test_late_first_sample_is_missing_data_with_the_reason() -> None:
    (hole,) = edge_holes("board-1", 11.0, 299.99, 300.0, ended=True)
    assert hole[:2] == (0.0, 11.0)
    assert hole[2] == "board-1: no data yet (its first sample came 0:11 after the start)"


def test_early_last_sample_of_an_ended_session() -> None:
    holes = edge_holes("imu-1", 0.01, 250.0, 300.0, ended=True)
    assert holes == [(250.0, 300.0, "imu-1: no data after 4:10 (it stopped sending before "
                                     "the session ended)")]
    assert edge_holes("imu-1", 0.01, 250.0, 300.0, ended=False) == [], \
        "a running session's newest data is still coming"


def test_a_prompt_device_has_no_edge_holes() -> None:
    assert edge_holes("board-1", 0.4, 299.5, 300.0, ended=True) == []
