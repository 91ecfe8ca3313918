from __future__ import annotations

import pytest

from contract import Event
from store import Store
from store.errors import (
    Conflict,
    InvalidEvent,
    UnknownChild,
    UnknownExercise,
    UnknownSession,
    UnknownSet,
)
from store.rows import AnnotationRow, SessionRow, SetRow
from tests.store.factories import T0, Events

SITE, ROOM = "clinic-north", "room-1"
CHILDREN = ("c-17", "c-1", "c-2")  # the children these sessions are for


@pytest.fixture(autouse=True)
def _children(store: Store) -> None:
    """An admin registered the children first: a session start never creates one."""
    for child in CHILDREN:
        store.add_child(child, "")


def apply(store: Store, *events: Event) -> list[bool]:
    return [store.apply_event(SITE, ROOM, e) for e in events]


def demo_session(ev: Events) -> list[Event]:
    """A short DMI session: two sets, auto reps with manual corrections, tags and notes."""
    return [
        ev.start(child="c-17"),
        ev.set_start("set-1", "sit-to-stand-foam", "foam-pad", "knee", 5),
        ev.rep("set-1", confidence=0.92, peak=3.4),
        ev.rep("set-1", confidence=0.88, peak=3.1),
        ev.rep("set-1", confidence=0.95, peak=3.6),
        ev.rep("set-1", source="manual"),  # the therapist saw one the detector missed
        ev.rep("set-1", delta=-1, source="manual"),  # ... and took it back
        ev.tag("fatigue", "set-1"),
        ev.set_end("set-1", quality="assisted"),
        ev.set_start("set-2", "squat-ladder-rungs", "ladder", "shank", 4),
        ev.rep("set-2", confidence=0.7),
        ev.rep("set-2", confidence=0.4),
        ev.rep("set-2", delta=-1, source="auto"),  # the detector withdraws its last rep
        ev.rep("set-2", source="manual"),
        ev.note("Great focus today", family_visible=True),
        ev.set_end("set-2", quality="independent"),
        ev.end(),
    ]


def test_a_demo_session_comes_back_exactly_as_entered(store: Store) -> None:
    events = demo_session(Events("s-1"))

    assert apply(store, *events) == [True] * len(events)

    t = [e.t for e in events]
    assert store.session("s-1") == SessionRow("s-1", "c-17", SITE, ROOM, "ana", t[0], t[-1])
    assert store.sets("s-1") == [
        SetRow("set-1", "s-1", "sit-to-stand-foam", "foam-pad", "knee", 5, t[1], t[8], "assisted"),
        SetRow("set-2", "s-1", "squat-ladder-rungs", "ladder", "shank", 4, t[9], t[15],
               "independent"),
    ]  # fmt: skip
    assert store.rep_count("set-1") == 3
    assert store.rep_count("set-2") == 2

    set1 = store.reps("set-1")
    assert [(r.t, r.source, r.confidence, r.peak) for r in set1] == [
        (t[2], "auto", 0.92, 3.4),
        (t[3], "auto", 0.88, 3.1),
        (t[4], "auto", 0.95, 3.6),
        (t[5], "manual", None, None),
    ]
    assert [r.revoked_by for r in set1] == [None, None, None, events[6].id]
    set2 = store.reps("set-2")
    assert [(r.t, r.source, r.revoked) for r in set2] == [
        (t[10], "auto", False),
        (t[11], "auto", True),
        (t[13], "manual", False),
    ]
    assert [r.set for r in store.reps(session_id="s-1")] == ["set-1"] * 4 + ["set-2"] * 3

    assert store.annotations("s-1") == [
        AnnotationRow(events[7].id, "s-1", "set-1", t[7], "ana", "fatigue", "", False),
        AnnotationRow(events[14].id, "s-1", None, t[14], "ana", None, "Great focus today", True),
    ]
    assert [a.text for a in store.annotations("s-1", family_only=True)] == ["Great focus today"]


def test_repeated_events_change_nothing(store: Store) -> None:
    events = demo_session(Events("s-1"))
    apply(store, *events)

    assert apply(store, *events) == [False] * len(events)

    assert store.rep_count("set-1") == 3
    assert store.rep_count("set-2") == 2
    assert len(store.reps(session_id="s-1")) == 7
    assert len(store.annotations("s-1")) == 2
    assert len(store.sessions()) == 1


def test_a_manual_minus_one_revokes_the_latest_rep_whatever_its_source(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(), ev.set_start("a"), ev.rep("a", source="manual"), ev.rep("a"))

    apply(store, ev.rep("a", delta=-1, source="manual"))

    assert [(r.source, r.revoked) for r in store.reps("a")] == [("manual", False), ("auto", True)]
    assert store.rep_count("a") == 1


def test_an_automatic_minus_one_never_undoes_a_manual_rep(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(), ev.set_start("a"), ev.rep("a"), ev.rep("a", source="manual"))

    apply(store, ev.rep("a", delta=-1), ev.rep("a", delta=-1))

    assert [(r.source, r.revoked) for r in store.reps("a")] == [("auto", True), ("manual", False)]
    assert store.rep_count("a") == 1


def test_minus_one_with_nothing_to_revoke_keeps_the_count_at_zero(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(), ev.set_start("a"))

    assert apply(store, ev.rep("a", delta=-1, source="manual")) == [True]

    assert store.rep_count("a") == 0
    apply(store, ev.rep("a"))
    assert store.rep_count("a") == 1


def test_a_rep_without_a_set_id_goes_to_the_open_set(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(), ev.set_start("a"), ev.set_end("a"), ev.set_start("b"))

    apply(store, ev.rep(None))

    assert store.rep_count("b") == 1
    assert store.rep_count("a") == 0


def test_a_rep_with_no_set_open_is_refused(store: Store) -> None:
    ev = Events()
    apply(store, ev.start())

    with pytest.raises(InvalidEvent, match="no open set"):
        apply(store, ev.rep(None))


def test_a_failed_event_leaves_no_trace_and_can_be_retried(store: Store) -> None:
    ev = Events()
    apply(store, ev.start())
    early = ev.rep("late-set")

    with pytest.raises(UnknownSet, match="late-set"):
        apply(store, early)

    apply(store, ev.set_start("late-set"))
    assert apply(store, early) == [True]
    assert store.rep_count("late-set") == 1


def test_events_for_an_unknown_session_are_refused(store: Store) -> None:
    ev = Events("ghost")
    with pytest.raises(UnknownSession, match="ghost"):
        apply(store, ev.set_start("a"))
    with pytest.raises(UnknownSession):
        apply(store, ev.end())
    with pytest.raises(UnknownSession):
        apply(store, ev.note("hello"))


def test_a_set_with_an_unknown_exercise_is_refused(store: Store) -> None:
    ev = Events()
    apply(store, ev.start())

    with pytest.raises(UnknownExercise, match="juggling"):
        apply(store, ev.set_start("a", exercise="juggling"))

    assert store.sets("s-1") == []


def test_a_set_with_an_unknown_support_point_is_refused(store: Store) -> None:
    ev = Events()
    apply(store, ev.start())

    with pytest.raises(InvalidEvent, match="elbow"):
        apply(store, ev.set_start("a", support="elbow"))


def test_an_unknown_response_quality_is_refused(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(), ev.set_start("a"))

    with pytest.raises(InvalidEvent, match="brilliant"):
        apply(store, ev.set_end("a", quality="brilliant"))

    assert store.sets("s-1")[0].end is None


def test_a_set_of_another_session_is_refused(store: Store) -> None:
    one, two = Events("s-1"), Events("s-2", t=T0 + 100)
    apply(store, one.start(), one.set_start("a"), two.start())

    with pytest.raises(InvalidEvent, match="belongs to session 's-1'"):
        apply(store, two.rep("a"))
    with pytest.raises(Conflict):
        apply(store, two.set_start("a"))


def test_restarting_a_session_for_another_child_is_a_conflict(store: Store) -> None:
    ev = Events()
    apply(store, ev.start(child="c-1"))

    assert apply(store, ev.start(child="c-1")) == [True]  # a resend under a new id: harmless
    with pytest.raises(Conflict):
        apply(store, ev.start(child="c-2"))
    assert store.session("s-1").child == "c-1"


def test_a_session_start_for_an_unknown_child_is_refused_and_leaves_no_trace(
    store: Store,
) -> None:
    ev = Events()
    forged = ev.start(child="c-99")
    with pytest.raises(UnknownChild, match="unknown child 'c-99'"):
        apply(store, forged)

    assert [c.pseudonym for c in store.children()] == sorted(CHILDREN)
    assert store.sessions() == []
    with pytest.raises(UnknownSession):
        store.session("s-1")
    store.add_child("c-99", "Noor")  # an admin adds the child: the same event now applies
    assert apply(store, forged) == [True]
    assert store.session("s-1").child == "c-99"


def test_sessions_filter_by_child_room_therapist_and_time(store: Store) -> None:
    a = Events("s-a", t=T0, author="ana")
    b = Events("s-b", t=T0 + 3600, author="ben")
    c = Events("s-c", t=T0 + 7200, author="ana")
    store.apply_event(SITE, "room-1", a.start(child="c-1"))
    store.apply_event(SITE, "room-2", b.start(child="c-2"))
    store.apply_event(SITE, "room-1", c.start(child="c-1"))

    def ids(**kw: object) -> list[str]:
        return [s.id for s in store.sessions(**kw)]  # type: ignore[arg-type]

    assert ids() == ["s-c", "s-b", "s-a"]  # newest first
    assert ids(child="c-1") == ["s-c", "s-a"]
    assert ids(room="room-2") == ["s-b"]
    assert ids(therapist="ana") == ["s-c", "s-a"]
    assert ids(since=T0 + 3600) == ["s-c", "s-b"]
    assert ids(until=T0 + 3600) == ["s-a"]
    assert ids(child="c-1", since=T0 + 1, until=T0 + 9000) == ["s-c"]
    assert ids(site="elsewhere") == []
    assert store.session("s-b").room == "room-2"
    assert store.session("s-b").end is None


def test_unknown_ids_in_queries_raise_clear_errors(store: Store) -> None:
    with pytest.raises(UnknownSession, match="nope"):
        store.session("nope")
    with pytest.raises(UnknownSession):
        store.sets("nope")
    with pytest.raises(UnknownSession):
        store.annotations("nope")
    with pytest.raises(UnknownSet, match="nope"):
        store.rep_count("nope")
    with pytest.raises(UnknownSet):
        store.reps("nope")
    with pytest.raises(TypeError):
        store.reps()


def test_non_event_is_refused(store: Store) -> None:
    with pytest.raises(InvalidEvent, match="Event"):
        store.apply_event(SITE, ROOM, {"type": "rep"})  # type: ignore[arg-type]
