"""A block in plain words, for the family page and the block report:
"day 6 of 10; holds sitting 40 s, up from 12 s"."""

from __future__ import annotations

from review.block import BlockProgress, ExerciseProgress

SUPPORT_WORDS = {"trunk": "at the trunk", "pelvis": "at the hips", "thigh": "at the thighs",
                 "knee": "at the knees", "shank": "at the lower legs",
                 "ankle-foot": "at the ankles", "none": "no hands-on help"}


def headline(progress: BlockProgress) -> str:
    if progress.plan is None:
        return f"{progress.dose.sessions_held} sessions so far."
    text = f"Day {progress.day} of {progress.days} of the intensive block"
    dose = progress.dose
    if dose.sessions_planned:
        text += f"; {dose.sessions_held} of {dose.sessions_planned} sessions so far"
    return text + f", {dose.total.active_min:.0f} minutes of active practice."


def exercise_sentence(e: ExerciseProgress) -> str | None:
    """One sentence per exercise, or None when there is nothing to say yet."""
    if e.measure == "hold" and e.first is not None and e.latest is not None:
        if e.sessions < 2:
            return f"{e.name}: holds {e.latest:.0f} s."
        trend = "up from" if e.latest > e.first + 0.5 else \
            "down from" if e.latest < e.first - 0.5 else "about the same as"
        return f"{e.name}: holds {e.latest:.0f} s, {trend} {e.first:.0f} s at the start."
    if e.support_first is None or e.support_latest is None:
        return None
    latest = SUPPORT_WORDS.get(e.support_latest, e.support_latest)
    if e.support_first == e.support_latest:
        return f"{e.name}: support {latest}, as at the start."
    return (f"{e.name}: support {latest} now, "
            f"{SUPPORT_WORDS.get(e.support_first, e.support_first)} at the start.")


def sentences(progress: BlockProgress) -> list[str]:
    return [s for s in (exercise_sentence(e) for e in progress.exercises) if s]
