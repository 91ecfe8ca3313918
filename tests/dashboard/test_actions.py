"""What the remote's buttons and the wall's keys mean, given the room's live state."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dashboard import actions, ids

NOW = 1_700_000_000.0


@dataclass(frozen=True)
class State:
    session: str | None = None
    set: str | None = None


def test_a_session_starts_for_the_picked_child_only_when_none_runs() -> None:
    event = actions.start_session(None, child="c-0417", author="u1", now=NOW)
    assert event.type == "session_start"
    assert event.data == {"child": "c-0417"}
    assert event.session
    assert event.session.startswith("ses-")
    with pytest.raises(actions.ActionError, match="already running"):
        actions.start_session(State(session="ses-1"), child="c-0417", author="u1", now=NOW)
    with pytest.raises(actions.ActionError, match="Pick the child"):
        actions.start_session(None, child=None, author="u1", now=NOW)


def test_set_start_needs_a_session_and_every_choice() -> None:
    state = State(session="ses-1")
    event = actions.start_set(state, exercise="sit-to-stand-foam", surface="foam-pad",
                              support="pelvis", planned_reps=5, author="u1", now=NOW)
    assert (event.type, event.session, event.data["planned_reps"]) == ("set_start", "ses-1", 5)
    with pytest.raises(actions.ActionError, match="Start a session first"):
        actions.start_set(State(), exercise="x", surface="floor", support="knee",
                          planned_reps=5, author="u1", now=NOW)
    with pytest.raises(actions.ActionError, match="Pick the surface and support point"):
        actions.start_set(state, exercise="x", surface=None, support=None, planned_reps=5,
                          author="u1", now=NOW)
    with pytest.raises(actions.ActionError, match="from 0 to 100"):
        actions.start_set(state, exercise="x", surface="floor", support="knee",
                          planned_reps=500, author="u1", now=NOW)
    with pytest.raises(actions.ActionError, match="A set is running"):
        actions.start_set(State("ses-1", "set-1"), exercise="x", surface="floor",
                          support="knee", planned_reps=5, author="u1", now=NOW)


def test_reps_go_to_the_running_set_as_manual() -> None:
    event = actions.rep(State("ses-1", "set-9"), delta=-1, author="u1", now=NOW)
    assert (event.set, event.data) == ("set-9", {"delta": -1, "source": "manual"})
    with pytest.raises(actions.ActionError, match="Start a set"):
        actions.rep(State("ses-1"), delta=1, author="u1", now=NOW)


def test_ending_a_session_also_ends_its_running_set() -> None:
    events = actions.end_session(State("ses-1", "set-2"), author="u1", now=NOW)
    assert [e.type for e in events] == ["set_end", "session_end"]
    with pytest.raises(actions.ActionError, match="No session"):
        actions.end_session(State(), author="u1", now=NOW)


def test_toggle_ends_a_running_set_or_repeats_the_last_one() -> None:
    ended = actions.toggle_set(State("ses-1", "set-2"), last=None, author="k", now=NOW)
    assert ended.type == "set_end"
    last = {"exercise": "reach-foam", "surface": "foam-pad", "support": "knee",
            "planned_reps": 4}
    started = actions.toggle_set(State("ses-1"), last=last, author="k", now=NOW)
    assert started.type == "set_start"
    assert started.data == last
    with pytest.raises(actions.ActionError, match="first set on the remote"):
        actions.toggle_set(State("ses-1"), last=None, author="k", now=NOW)


def test_notes_are_trimmed_and_bounded() -> None:
    event = actions.note(State("ses-1"), text="  caught the ball  ", author="u1", now=NOW)
    assert event.data == {"text": "caught the ball", "family_visible": False}
    with pytest.raises(actions.ActionError, match="Write the note"):
        actions.note(State("ses-1"), text="   ", author="u1", now=NOW)
    with pytest.raises(actions.ActionError, match="2,000"):
        actions.note(State("ses-1"), text="x" * 2001, author="u1", now=NOW)


def test_dispatch_maps_buttons_and_tags() -> None:
    state = State("ses-1", "set-3")
    events, done = actions.dispatch(ids.REMOTE_REP_PLUS, {}, state, author="u1", now=NOW)
    assert (events[0].data["delta"], done) == (1, "+1 rep")
    events, done = actions.dispatch("tag:fatigue", {}, state, author="u1", now=NOW)
    assert events[0].data == {"tag": "fatigue", "family_visible": False}
    assert done == "Tagged: fatigue"
    events, _ = actions.dispatch(ids.REMOTE_SET_START, {
        "exercise": "e", "surface": "floor", "support": "none", "planned": 3},
        State("ses-1"), author="u1", now=NOW)
    assert events[0].data["planned_reps"] == 3


def test_the_last_sets_final_count_is_corrected_only_between_sets() -> None:
    class State:
        def __init__(self, session: str | None, set_id: str | None) -> None:
            self.session, self.set = session, set_id

    fix = actions.correct_last_set(State("s-1", None), delta=-1, last_set="set-2",
                               last_ended=True, author="u1", now=1.0)
    assert (fix.type, fix.session, fix.set, fix.data) == (
        "rep", "s-1", "set-2", {"delta": -1, "source": "manual"})
    for state, last, ended, message in (
        (State(None, None), "set-2", True, "Start a session"),
        (State("s-1", "set-3"), "set-3", False, "A set is running"),
        (State("s-1", None), None, False, "No finished set"),
    ):
        with pytest.raises(actions.ActionError, match=message):
            actions.correct_last_set(state, delta=1, last_set=last, last_ended=ended,
                                 author="u1", now=1.0)
    events, done = actions.dispatch("fix:1", {}, State("s-1", None), author="u1", now=1.0,
                                last_set=("set-2", True))
    assert [e.data["delta"] for e in events] == [1]
    assert done == "Last set +1"


def test_sensitivity_changes_need_an_exercise_a_known_child_and_a_step() -> None:
    assert actions.sensitivity(child="c-1", exercise="squat", step="more",
                           children={"c-1"}) == ("c-1", "squat", "more")
    for child, exercise, step, message in (
        ("c-1", None, "more", "Pick the exercise"),
        (None, "squat", "more", "Start a session or pick the child"),
        ("c-9", "squat", "more", "No child 'c-9'"),
        ("c-1", "squat", "max", "Sensitivity must be one of fewer, normal, more"),
    ):
        with pytest.raises(actions.ActionError, match=message):
            actions.sensitivity(child=child, exercise=exercise, step=step, children={"c-1"})
