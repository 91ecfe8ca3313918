"""Family progress in plain words, from the supervisors' per-set metrics."""

from __future__ import annotations

from dataclasses import replace

from dashboard.family_view import exercise_story, family_progress, session_days
from review.metrics import ProgressPoint, SetMetrics

DAY = 86400.0


def point(start: float, *, sway: float, support: str, level: int, reps: int) -> ProgressPoint:
    return ProgressPoint(session=f"s{start}", start=start, exercise="foam-stand",
                         exercise_name="Standing on the foam pad", sets=2, support=support,
                         support_level=level, surfaces="foam-pad", reps=reps, planned_reps=6,
                         ellipse_area_cm2=sway, mean_velocity_cm_s=2.0, tilt_rms_deg=3.0)


def test_less_sway_and_more_distal_support_read_as_progress() -> None:
    story = exercise_story([point(0, sway=12.0, support="pelvis", level=1, reps=3),
                            point(7 * DAY, sway=6.0, support="knee", level=3, reps=5)])
    assert story.steadiness is not None
    assert story.steadiness > 75
    assert "steadier than at the start" in story.sentence
    assert "only at the knees (it was at the hips)" in story.sentence
    assert "5 tries last time, up from 3" in story.sentence
    for jargon in ("ellipse", "sway", "cm", "COP", "proximal", "distal"):
        assert jargon not in story.sentence


def test_more_wobble_on_a_harder_challenge_is_said_kindly() -> None:
    story = exercise_story([point(0, sway=5.0, support="knee", level=3, reps=4),
                            point(DAY, sway=12.0, support="pelvis", level=1, reps=4)])
    assert story.steadiness is not None
    assert story.steadiness < 45
    assert "working hard on balance" in story.sentence
    assert "a bit more help for now" in story.sentence


def test_a_first_session_is_a_great_start() -> None:
    story = exercise_story([point(0, sway=5.0, support="knee", level=3, reps=4)])
    assert story.steadiness is None
    assert story.sentence.endswith("a great start!")


def metrics(reps: int, hold: float) -> SetMetrics:
    base = SetMetrics(set_id="x", number=1, exercise="foam-stand", exercise_name="Foam",
                      surface="foam-pad", support="knee", support_level=3, start_s=0,
                      duration_s=40, planned_reps=5, reps=reps, manual_reps=0,
                      quality="independent", ellipse_area_cm2=4, mean_velocity_cm_s=2,
                      mean_frequency_hz=0.4, tilt_rms_deg=2, tilt_max_deg=5,
                      isway_jerk_m2_s5=1, isway_rms_m_s2=0.1, longest_hold_s=hold, loaded_s=30)
    return base


def test_session_days_add_up_reps_and_keep_the_longest_hold() -> None:
    days = session_days([(2 * DAY, [metrics(4, 12.0), metrics(3, 20.5)]),
                         (0.0, [replace(metrics(2, 8.0), planned_reps=6)])])
    assert [(d.reps, d.planned, d.longest_hold_s) for d in days] == [(2, 6, 8.0), (7, 10, 20.5)]
    progress = family_progress(days, [])
    assert progress.headline.startswith("2 sessions so far and 9 tries done")
    assert family_progress([], []).headline.startswith("After the first session")


def test_the_progress_chart_names_its_bars_and_axes() -> None:
    from dashboard.family_view import SessionDay, reps_figure

    fig = reps_figure([SessionDay("02 Mar", 7, 10, 8.0), SessionDay("09 Mar", 9, 10, 12.0)])
    assert fig.layout.showlegend is True
    assert [trace.name for trace in fig.data] == ["tries planned", "tries done"]
    assert fig.layout.yaxis.title.text == "tries"
    assert fig.layout.xaxis.title.text == "session"
